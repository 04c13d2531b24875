"""What the local backend leaves on disk: the state file, its backup, the lock file."""

from __future__ import annotations

import json
import os
import signal
import stat

import pytest

from osctl.errors import LockHeld, StateError
from osctl.state.local import LocalBackend
from tests.state.backends import local_kit
from tests.state.processes import holding_lock
from tests.state.samples import SECRET_URL, sample_state


@pytest.fixture
def path(tmp_path):
    return tmp_path / ".osctl" / "state.json"


def write_serials(path, count):
    state = sample_state(serial=0)
    for _ in range(count):
        state.serial += 1
        LocalBackend(path).write(state)
    return state


def test_files_after_writes(path):
    write_serials(path, 3)
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json", "state.json.backup"]
    assert json.loads(path.read_text())["serial"] == 3
    assert json.loads(path.with_name("state.json.backup").read_text())["serial"] == 2
    # in-flight export URLs are bearer links: the files are the owner's only
    assert SECRET_URL in path.read_text()
    for name in ("state.json", "state.json.backup"):
        assert stat.S_IMODE(os.stat(path.with_name(name)).st_mode) == 0o600


def test_the_document_is_one_record_per_line(path):
    write_serials(path, 1)
    lines = path.read_text().splitlines()
    assert any(line.startswith('"segment.prod.Active US": {') for line in lines)
    assert len(lines) == 9  # header, 3 segments, 1 export and the brackets: diffs stay readable


def test_a_file_that_is_not_state_is_reported_with_its_path(path):
    path.parent.mkdir(parents=True)
    path.write_text('{"format": 1, "lineage": "x", "serial": ')
    with pytest.raises(StateError, match=rf"{path}: state is not valid JSON"):
        LocalBackend(path).read()
    state = sample_state(serial=2)
    with pytest.raises(StateError, match="not valid JSON"):
        LocalBackend(path).write(state)  # never overwrite what cannot be checked...
    LocalBackend(path).write(state, force=True)  # ...unless told to
    assert LocalBackend(path).read() == state


def test_a_write_made_elsewhere_in_between_is_noticed(path):
    mine = LocalBackend(path)
    state = sample_state(serial=1)
    mine.write(state)  # from here on `mine` knows the file it wrote
    intruder = sample_state(serial=1)
    LocalBackend(path).write(intruder, force=True)
    state.serial = 2
    with pytest.raises(StateError, match="another state"):
        mine.write(state)
    assert LocalBackend(path).read() == intruder


def test_temp_files_of_a_killed_writer_are_removed_by_the_next_lock(path):
    write_serials(path, 1)
    leftovers = [path.with_name(".state.json.4242.0badf00d.tmp"),
                 path.with_name(".state.json.backup.4242.0badf00d.tmp")]
    for leftover in leftovers:
        leftover.write_text("half a docu")
    with LocalBackend(path).lock("apply", 0):
        assert not any(leftover.exists() for leftover in leftovers)
    assert LocalBackend(path).read().serial == 1


def test_lock_file_describes_the_holder_and_goes_away(path):
    backend = LocalBackend(path)
    with backend.lock("state rm", 0) as info:
        held = json.loads(path.with_name("state.json.lock").read_text())
        assert held == {"id": info.id, "pid": os.getpid(), "host": info.host, "user": info.user,
                        "operation": "state rm", "created_at": info.created_at}
    assert not path.with_name("state.json.lock").exists()


def test_lock_of_a_killed_process_stays_until_force_unlock(tmp_path):
    kit = local_kit(tmp_path)
    with holding_lock(kit.spec) as holder:
        holder.process.send_signal(signal.SIGKILL)
        holder.process.wait()
        with pytest.raises(LockHeld) as caught, kit.new().lock("apply", 0):
            pass
        assert f"no process {holder.process.pid} runs on this host" in str(caught.value)
        assert f"osctl force-unlock {holder.lock_id}" in str(caught.value)
        kit.new().force_unlock(holder.lock_id)
    with kit.new().lock("apply", 0):
        pass


def test_a_force_unlocked_holder_does_not_remove_the_next_lock(path):
    first, second = LocalBackend(path), LocalBackend(path)
    first_lock = first.lock("apply", 0)
    stale = first_lock.__enter__()
    second.force_unlock(stale.id)
    with second.lock("plan", 0) as current:
        first_lock.__exit__(None, None, None)  # the old holder finishes while `second` holds the lock
        assert json.loads(path.with_name("state.json.lock").read_text())["id"] == current.id
        with pytest.raises(LockHeld), LocalBackend(path).lock("apply", 0):
            pass
