"""osctl as a real child process: for what only a process can show (signals, a full disk).

A full disk is made real with RLIMIT_FSIZE: the child may write regular files only up
to `file_size_limit` bytes, and a write beyond it fails with EFBIG ("File too large"),
as it would with ENOSPC on a full disk. Python ignores SIGXFSZ, so osctl sees the error.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.helpers import Result

REPO = Path(__file__).resolve().parent.parent


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSCTL_", "ONESIGNAL_"))}
    env.update(extra)
    env.update({"PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"})
    return env


def start_osctl(*args: str, env: dict[str, str], file_size_limit: int | None = None) -> subprocess.Popen:
    """`python -m osctl ARGS` with text pipes for stdout and stderr."""
    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.Popen([sys.executable, "-m", "osctl", *args], env=child_env(env), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit)


def run_osctl_process(*args: str, env: dict[str, str], file_size_limit: int | None = None,
                      timeout: float = 120) -> Result:
    process = start_osctl(*args, env=env, file_size_limit=file_size_limit)
    out, err = process.communicate(timeout=timeout)
    return Result(process.returncode, out, err)
