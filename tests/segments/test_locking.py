"""Another process holding the state lock: apply fails naming it, or waits with --lock-timeout."""

import subprocess
import sys
import time

from tests.osctl_process import run_osctl_process
from tests.segments.conftest import CA, US

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


def _lock_dir_listing(ws) -> list[str]:
    return sorted(p.name for p in (ws.dir / ".osctl").iterdir())


def test_a_full_disk_while_taking_the_lock_leaves_no_lock(ws):
    """The disk is full when the lock file is written (RLIMIT_FSIZE 0 in a child process: EFBIG)."""
    ws.write({"A": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"A": US, "B": CA})
    full = run_osctl_process("-c", str(ws.dir), "apply", "--auto-approve", "--no-exports",
                             env=ws.emulator.env(), file_size_limit=0)
    lock = ws.dir / ".osctl" / "state.json.lock"
    assert full.exit_code == 1, full.output
    assert f"Error: cannot take the state lock: writing {lock} failed: File too large; no lock was taken" \
        in full.stderr
    assert "internal error" not in full.output
    assert _lock_dir_listing(ws) == ["state.json", "state.json.backup"], "no lock file, empty or not, no temp file"
    assert set(ws.live()) == {"A"}
    again = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert again.exit_code == 0, again.output
    assert set(ws.live()) == {"A", "B"}


def test_an_empty_lock_file_is_named_and_force_unlock_removes_it(ws):
    """An empty lock file, as older versions left on a full disk."""
    ws.write({"A": US})
    lock = ws.dir / ".osctl" / "state.json.lock"
    lock.parent.mkdir()
    lock.write_bytes(b"")
    locked = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert locked.exit_code == 1
    assert (f"Error: state is locked: the lock file {lock} cannot be read (it is empty: an osctl ran out of "
            f"disk space or was killed while writing it); if no osctl is running, remove it with: "
            f"osctl force-unlock unreadable (local file {ws.dir / '.osctl' / 'state.json'})") in locked.stderr
    wrong = ws.osctl("force-unlock", "5f0c")
    assert wrong.exit_code == 1 and "remove it with: osctl force-unlock unreadable" in wrong.stderr
    assert lock.exists()
    removed = ws.osctl("force-unlock", "unreadable")
    assert removed.exit_code == 0, removed.output
    assert removed.stdout == (f"Removed the unreadable lock file {lock} (it is empty: an osctl ran out of disk "
                              f"space or was killed while writing it) from local file "
                              f"{ws.dir / '.osctl' / 'state.json'}.\n")
    assert not lock.exists()
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert set(ws.live()) == {"A"}


def test_a_lock_that_is_not_osctls_is_named_and_a_readable_lock_needs_its_id(ws):
    ws.write({"A": US})
    lock = ws.dir / ".osctl" / "state.json.lock"
    lock.parent.mkdir()
    lock.write_text("held by a script\n")
    locked = ws.osctl("plan", "--no-exports")
    assert locked.exit_code == 0, "plan takes no lock"
    locked = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert "cannot be read (its 17 bytes are not a lock osctl wrote)" in locked.stderr
    assert ws.osctl("force-unlock", "unreadable").exit_code == 0
    holder = _hold(ws, 30)
    try:
        refused = ws.osctl("force-unlock", "unreadable")
        assert refused.exit_code == 1
        assert "lock ID unreadable does not match the current lock: lock " in refused.stderr
        assert (ws.dir / ".osctl" / "state.json.lock").exists()
    finally:
        holder.kill()
        holder.wait()
