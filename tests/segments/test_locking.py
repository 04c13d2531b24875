"""Another process holding the state lock: apply fails naming it, or waits with --lock-timeout."""

import subprocess
import sys
import time

from tests.segments.conftest import US

HOLDER = """
import sys, time
from pathlib import Path
from osctl.state.local import LocalBackend
backend = LocalBackend(Path(sys.argv[1]))
with backend.lock("apply", 0):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(ws, seconds):
    state_path = ws.dir / ".osctl" / "state.json"
    state_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(state_path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_held_fails_at_once_naming_the_holder(ws):
    ws.write({"A": US})
    holder = _hold(ws, 30)
    try:
        result = ws.osctl("apply", "--auto-approve", "--no-exports")
        assert result.exit_code == 1
        assert str(holder.pid) in result.stderr and "force-unlock" in result.stderr
        assert ws.live() == {}
    finally:
        holder.kill()
        holder.wait()


def test_lock_timeout_waits_for_the_holder(ws):
    ws.write({"A": US})
    holder = _hold(ws, 1.5)
    started = time.monotonic()
    result = ws.osctl("apply", "--auto-approve", "--no-exports", "--lock-timeout", "20s")
    holder.wait()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.0
    assert set(ws.live()) == {"A"}
