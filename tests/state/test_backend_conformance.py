"""The StateBackend contract, run against every backend in tests/state/backends.py."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from osctl.errors import LockHeld, StateError
from osctl.state.model import UserRecord, UserSubscriptionRecord, encode_state
from tests.state.processes import holding_lock, start
from tests.state.samples import sample_state, segment


def test_nothing_stored_reads_as_none(kit):
    backend = kit.new()
    assert backend.read() is None
    assert backend.previous() is None


def test_round_trip_keeps_every_field(kit):
    state = sample_state(serial=1)
    kit.new().write(state)
    assert kit.new().read() == state


def test_round_trip_keeps_test_users(kit):
    state = sample_state(serial=1)
    state.users["user.prod.qa-alice"] = UserRecord(
        app="prod", app_id="5eb5a37e-b458-11e3-ac11-000c2940e62c", external_id="qa-alice",
        onesignal_id="a3f1c2d4-0000-4000-8000-00000000000a", tags={"qa": "1"},
        subscriptions=[UserSubscriptionRecord("Email", "alice+qa@example.com", "sub-1")])
    kit.new().write(state)
    assert kit.new().read() == state


def test_each_write_must_be_the_direct_successor(kit):
    backend = kit.new()
    state = sample_state(serial=1)
    backend.write(state)
    for wrong in (1, 3, 0):
        state.serial = wrong
        with pytest.raises(StateError, match="serial"):
            backend.write(state)
    state.serial = 2
    backend.write(state)
    assert kit.new().read().serial == 2


def test_lost_update_is_impossible(kit):
    first, second = kit.new(), kit.new()
    first.write(sample_state(serial=1))
    mine, theirs = first.read(), second.read()
    theirs.segments.pop("segment.prod.Active US")
    theirs.serial += 1
    second.write(theirs)
    mine.serial += 1
    with pytest.raises(StateError, match="changed since it was read"):
        first.write(mine)
    assert "segment.prod.Active US" not in kit.new().read().segments


def test_another_lineage_is_refused_unless_forced(kit):
    backend = kit.new()
    backend.write(sample_state(serial=1))
    stranger = sample_state(serial=2)  # a new lineage
    with pytest.raises(StateError, match="another state"):
        backend.write(stranger)
    backend.write(stranger, force=True)
    assert kit.new().read().lineage == stranger.lineage


def test_serials_start_at_one(kit):
    with pytest.raises(StateError, match="start at 1"):
        kit.new().write(sample_state(serial=0))
    assert kit.new().read() is None


def test_previous_version_is_kept(kit):
    backend = kit.new()
    state = sample_state(serial=1)
    backend.write(state)
    state.segments.clear()
    state.serial = 2
    backend.write(state)
    previous = kit.new().previous()
    assert previous.serial == 1 and "segment.prod.Active US" in previous.segments


def test_newer_format_asks_for_an_upgrade(kit):
    document = json.loads(encode_state(sample_state(serial=1)))
    document["format"] = 2
    kit.new().write_document(json.dumps(document).encode(), lineage=document["lineage"], serial=1)
    with pytest.raises(StateError, match=r"newer osctl \(format 2\); upgrade osctl"):
        kit.new().read()


def test_lock_is_exclusive_and_names_its_holder(kit):
    holder, other = kit.new(), kit.new()
    with holder.lock("apply", 0) as info:
        started = time.monotonic()
        with pytest.raises(LockHeld) as caught, other.lock("state rm", 0):
            pass
        assert time.monotonic() - started < 1, "timeout 0 must fail at once"
    message = str(caught.value)
    for detail in (info.id, f"{info.user}@{info.host}", f"pid {os.getpid()}", '"apply"', info.created_at):
        assert detail in message
    with other.lock("state rm", 0):  # released at the end of the block
        pass


def test_lock_is_released_when_the_block_fails(kit):
    backend = kit.new()
    with pytest.raises(RuntimeError), backend.lock("apply", 0):
        raise RuntimeError("boom")
    with kit.new().lock("apply", 0):
        pass


def test_waits_for_another_process_to_release_the_lock(kit):
    with holding_lock(kit.spec, seconds=1.0, operation="apply") as holder:
        started = time.monotonic()
        with kit.new().lock("plan", timeout_seconds=20) as info:
            waited = time.monotonic() - started
            assert info.operation == "plan"
        holder.wait_released()
    assert 0.3 < waited < 15


def test_gives_up_after_the_timeout_naming_the_other_process(kit):
    with holding_lock(kit.spec, seconds=60, operation="apply") as holder:
        started = time.monotonic()
        with pytest.raises(LockHeld) as caught, kit.new().lock("state push", timeout_seconds=0.5):
            pass
        waited = time.monotonic() - started
        assert f"pid {holder.process.pid}" in str(caught.value)
        assert holder.lock_id in str(caught.value) and "after waiting 0.5s" in str(caught.value)
    assert 0.5 <= waited < 5


def test_force_unlock_needs_the_lock_id(kit):
    holder, rescuer = kit.new(), kit.new()
    with holder.lock("apply", 0) as info:
        with pytest.raises(StateError, match="does not match"):
            rescuer.force_unlock("not-" + info.id)
        rescuer.force_unlock(info.id)
        with rescuer.lock("apply", 0):
            pass


def test_force_unlock_without_a_lock_says_so(kit):
    with pytest.raises(StateError, match="no lock"):
        kit.new().force_unlock("whatever")


def test_a_writer_killed_mid_write_leaves_a_readable_state(kit):
    writer = start("write-loop", json.dumps(kit.spec))
    try:
        for _ in range(15):  # let it get going, then kill it at an arbitrary point
            assert writer.stdout.readline(), "writer died"
        time.sleep(0.013)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    backend = kit.new()
    state = backend.read()
    assert state is not None and state.serial >= 15
    assert len(state.segments) == state.serial  # a whole document: one segment per write
    record = segment("after the crash")
    state.segments[record.address] = record
    state.serial += 1
    backend.write(state)  # and the next writer carries on
    assert kit.new().read().serial == state.serial
