"""Real second processes for state tests (see holder.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Holder:
    process: subprocess.Popen
    lock_id: str

    def wait_released(self, timeout: float = 10) -> None:
        assert self.process.stdout.readline().strip() == "released"
        self.process.wait(timeout)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.state.holder", *args], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)


@contextmanager
def holding_lock(spec: dict, seconds: float = 60, operation: str = "apply") -> Iterator[Holder]:
    """Another process holding the state lock for `seconds` (killed on exit if still running)."""
    process = start("hold", json.dumps(spec), str(seconds), operation)
    try:
        line = process.stdout.readline()
        assert line.startswith("locked "), f"lock holder did not start: {line!r}"
        yield Holder(process, line.split()[1])
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
