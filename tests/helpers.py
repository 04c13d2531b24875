"""Run osctl in-process the way a user would, through its real entry point."""

from __future__ import annotations

import os
from dataclasses import dataclass

from click.testing import CliRunner

from osctl.cli import main


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_osctl(*args: str, input: str | None = None, env: dict | None = None, cwd: str | None = None) -> Result:
    """Invoke `osctl ARGS` through main() (the error boundary included) and capture its streams."""
    runner = CliRunner()
    old_cwd = os.getcwd()
    with runner.isolation(input=input, env=env) as (out, err, _):
        if cwd:
            os.chdir(cwd)
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            os.chdir(old_cwd)
        return Result(code, out.getvalue().decode(), err.getvalue().decode())
