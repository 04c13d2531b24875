"""Run osctl in-process the way a user would, through its real entry point."""

from __future__ import annotations

import os
import threading
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


class ProgressRecorder:
    """A progress reporter (osctl.progress.Progress) that keeps what it was told, from any thread."""

    def __init__(self):
        self.events: list[tuple] = []
        self._lock = threading.Lock()

    def start(self, what, total=None):
        with self._lock:
            self.events.append(("start", what, total))

    def advance(self, count=1):
        with self._lock:
            self.events.append(("advance", count))
