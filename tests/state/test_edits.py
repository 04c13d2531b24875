"""The state edits commands make outside a plan: `state rm` and `state mv` with no backend
(what the new state holds, what is refused and why), `state push` and `state migrate`
against local state files."""

from __future__ import annotations

import pytest

from osctl import __version__
from osctl.errors import StateError, UsageError
from osctl.state.edits import (
    Pushed,
    find_record,
    forget,
    migrate_state,
    move_segment,
    move_target,
    push_state,
)
from osctl.state.local import LocalBackend
from osctl.state.model import decode_state, encode_state
from tests.state.samples import sample_state


@pytest.fixture
def state():
    state = sample_state(serial=3)
    state.osctl_version = "0.0.1"
    return state


def test_find_record_by_segment_or_export_address(state):
    assert find_record(state, "segment.prod.Active US") is state.segments["segment.prod.Active US"]
    assert find_record(state, "export.daily_subscriptions") is state.exports["daily_subscriptions"]
    assert find_record(state, "segment.prod.Nope") is None
    assert find_record(state, "export.nope") is None
    assert find_record(state, "daily_subscriptions") is None


def test_forget_drops_segments_and_exports_as_the_next_serial(state):
    before = state.to_dict()
    after = forget(state, ["segment.prod.Active US", "export.daily_subscriptions", "segment.prod.Active US"])
    assert sorted(after.segments) == ["segment.prod.Being created", "segment.prod.Überall – ✓"]
    assert after.exports == {}
    assert (after.lineage, after.serial, after.osctl_version) == (state.lineage, 4, __version__)
    assert state.to_dict() == before  # the state read is left as it was


def test_forget_of_anything_not_in_state_is_refused_naming_each(state):
    with pytest.raises(StateError) as err:
        forget(state, ["segment.prod.Active US", "export.nope", "segment.prod.Nope"])
    assert str(err.value).startswith("not in state: export.nope, segment.prod.Nope (")
    with pytest.raises(StateError, match="not in state: segment.prod.Active US"):
        forget(None, ["segment.prod.Active US"])


def test_move_keeps_the_record_under_its_new_name_as_the_next_serial(state):
    old = state.segments["segment.prod.Active US"]
    after = move_segment(state, "segment.prod.Active US", "segment.prod.Spring", name="Spring")
    moved = after.segments["segment.prod.Spring"]
    assert "segment.prod.Active US" not in after.segments
    assert moved.name == "Spring" and moved.address == "segment.prod.Spring"
    assert (moved.id, moved.filters, moved.digest) == (old.id, old.filters, old.digest)
    assert (after.serial, after.osctl_version) == (4, __version__)
    assert after.exports == state.exports
    assert "segment.prod.Active US" in state.segments and state.serial == 3


def test_move_refuses_a_missing_source_and_a_taken_destination(state):
    with pytest.raises(StateError, match="not in state: segment.prod.Nope"):
        move_segment(state, "segment.prod.Nope", "segment.prod.X", name="X")
    with pytest.raises(StateError, match="not in state: segment.prod.Nope"):
        move_segment(None, "segment.prod.Nope", "segment.prod.X", name="X")
    with pytest.raises(StateError) as err:
        move_segment(state, "segment.prod.Active US", "segment.prod.Being created", name="Being created")
    assert "segment.prod.Being created is already in state" in str(err.value)
    # the suggested command can be pasted into a shell as it is
    assert "; osctl state rm 'segment.prod.Being created' first if it should go" in str(err.value)


def test_move_target_is_the_new_name_within_one_app():
    apps = ["prod", "prod.eu"]
    assert move_target("segment.prod.A", "segment.prod.B.C", apps) == "B.C"
    assert move_target("segment.prod.eu.A", "segment.prod.eu.B", apps) == "B"
    with pytest.raises(UsageError, match="are in different apps"):
        move_target("segment.prod.A", "segment.prod.eu.A", apps)
    with pytest.raises(UsageError, match="is not a segment address"):
        move_target("segment.prod.A", "export.A", apps)


# -- state push and state migrate, against local state files ----------------------

def local(tmp_path, name: str = "state.json") -> LocalBackend:
    return LocalBackend(tmp_path / name)


def test_push_past_an_unreadable_state_needs_force_and_goes_one_past_the_file(tmp_path, state):
    backend = local(tmp_path)
    backend.path.write_text("{not json")
    with pytest.raises(StateError, match="`osctl state push --force` replaces it"):
        push_state(backend, state, force=False, source="s.json")
    assert push_state(backend, state, force=True, source="s.json").written
    after = backend.read()
    assert (after.lineage, after.serial, after.osctl_version) == (state.lineage, 4, __version__)


def test_push_of_what_the_state_already_holds_writes_nothing(tmp_path, state):
    backend = local(tmp_path)
    backend.write(state)
    again = decode_state(encode_state(state))
    assert push_state(backend, again, force=False, source="s.json") == Pushed(written=False)
    assert backend.read().serial == 3


def test_migrate_copies_as_it_is_once_and_refuses_another_state_without_force(tmp_path, state):
    source, target = local(tmp_path), local(tmp_path, "other.json")
    with pytest.raises(StateError, match="nothing to migrate"):
        migrate_state(source, target, force=False)
    source.write(state)
    assert migrate_state(source, target, force=False).copied
    assert target.read() == state  # same lineage, same serial
    assert not migrate_state(source, target, force=False).copied

    stranger = sample_state(serial=9)
    other = local(tmp_path, "stranger.json")
    other.write(stranger)
    with pytest.raises(StateError) as err:
        migrate_state(other, target, force=False)
    assert f"already holds a state (lineage {state.lineage}, serial 3, 3 segments, 1 export)" in str(err.value)
    assert migrate_state(other, target, force=True).copied
    assert target.read() == stranger
