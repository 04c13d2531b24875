"""The state document: round trips, clear errors, and the encoding cache never going stale."""

from __future__ import annotations

import copy
import json
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osctl.errors import StateError
from osctl.state.model import (
    FileRecord,
    PrunedFile,
    SegmentRecord,
    State,
    UserRecord,
    UserSubscriptionRecord,
    decode_state,
    drop_masked_in_flight,
    encode_state,
    mask_url,
    masked,
)
from tests.state.samples import SECRET_URL, sample_state, segment


def test_round_trip_through_dict_and_document():
    state = sample_state(serial=7)
    assert State.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert decode_state(encode_state(state)) == state
    assert json.loads(encode_state(state)) == state.to_dict()


def test_new_states_get_their_own_lineage():
    first, second = State.new(), State.new()
    assert first.lineage != second.lineage and first.serial == 0
    assert first.to_dict()["format"] == 1


def document(**changes) -> dict:
    data = sample_state().to_dict()
    data.update(changes)
    return data


@pytest.mark.parametrize(("data", "message"), [
    (document(format=2), r"^state was written by a newer osctl \(format 2\); upgrade osctl$"),
    ([], "must be a JSON object"),
    ({"lineage": "x"}, '"format" must be an integer'),
    (document(lineage=None), "lineage is missing"),
    (document(serial="3"), "serial must be an integer"),
    (document(segments=[]), "segments must be an object"),
])
def test_what_is_wrong_is_said(data, message):
    with pytest.raises(StateError, match=message):
        State.from_dict(data)


def test_a_broken_record_is_named():
    data = document()
    data["segments"]["segment.prod.Active US"]["filters"] = "country=US"
    with pytest.raises(StateError, match=r'segments\["segment.prod.Active US"\].filters must be a list'):
        State.from_dict(data)
    data = document()
    data["segments"]["segment.prod.Active US"]["status"] = "deleting"
    with pytest.raises(StateError, match="status must be one of created, pending_create"):
        State.from_dict(data)
    data = document()
    data["segments"]["segment.prod.Elsewhere"] = data["segments"].pop("segment.prod.Active US")
    with pytest.raises(StateError, match="holds segment.prod.Active US"):
        State.from_dict(data)
    data = document()
    data["exports"]["daily_subscriptions"]["files"][0]["rows"] = "many"
    with pytest.raises(StateError, match=r"files\[0\].rows must be an integer"):
        State.from_dict(data)


def test_not_json_is_a_state_error():
    with pytest.raises(StateError, match="not valid JSON"):
        decode_state(b"\xff{")


def test_copy_is_independent():
    state = sample_state()
    twin = state.copy()
    twin.segments["segment.prod.Active US"] = replace(twin.segments["segment.prod.Active US"],
                                                      filters=({"field": "country", "relation": "=", "value": "CA"},))
    record = twin.exports["daily_subscriptions"]
    twin.exports["daily_subscriptions"] = replace(record, messages_done=[*record.messages_done, "m-3"])
    twin.segments.clear()
    assert state.segments["segment.prod.Active US"].filters[0]["value"] == "US"
    assert state.exports["daily_subscriptions"].messages_done == ["m-1", "m-2"]


def test_urls_are_masked_to_scheme_and_host():
    assert mask_url(SECRET_URL) == "https://exports.example.com/…"
    assert mask_url("http://user:pw@127.0.0.1:8080/a?b=c") == "http://127.0.0.1:8080/…"
    assert mask_url("not a url") == "…"
    shown = masked(sample_state())
    assert SECRET_URL not in json.dumps(shown.to_dict())
    assert drop_masked_in_flight(shown) == ["export.daily_subscriptions"]
    assert shown.exports["daily_subscriptions"].in_flight == []


def test_segment_records_cannot_be_changed_in_place():
    record = segment("A")
    with pytest.raises(FrozenInstanceError):
        record.description = "changed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        record.filters.append({"operator": "OR"})  # type: ignore[attr-defined]


def test_a_segment_records_filters_cannot_make_its_line_disagree_with_it():
    """Its state line is encoded once: neither the dicts it was built from nor what
    .filters returns may change what it holds, or it would write stale filters."""
    given = [{"field": "country", "relation": "=", "value": "US"}, {"operator": "OR"},
             {"field": "tag", "key": "vip", "relation": "exists"}]
    record = replace(segment("A"), filters=tuple(given))
    state = State("l", 1, "v", {record.address: record})
    written = encode_state(state)

    given[0]["value"] = "DE"  # the caller's own dicts stay the caller's
    given.append({"operator": "OR"})
    entry = record.filters[0]
    for change in (lambda: entry.__setitem__("value", "DE"), lambda: entry.update(value="DE"),
                   lambda: entry.pop("value"), lambda: entry.setdefault("key", "x"),
                   lambda: entry.__delitem__("value"), entry.clear, entry.popitem):
        with pytest.raises(TypeError, match="cannot be changed in place"):
            change()
    with pytest.raises(TypeError):
        entry |= {"value": "DE"}
    mine = dict(entry)  # a copy is the caller's to change
    mine["value"] = "DE"

    expected = ({"field": "country", "relation": "=", "value": "US"}, {"operator": "OR"},
                {"field": "tag", "key": "vip", "relation": "exists"})
    assert record.filters == expected and copy.deepcopy(record) == record
    assert encode_state(state) == written
    assert json.loads(written)["segments"][record.address]["filters"] == list(expected)


def test_export_records_cannot_be_changed_in_place():
    record = sample_state().exports["daily_subscriptions"]
    with pytest.raises(FrozenInstanceError):
        record.last_error = None  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        record.files[0].rows = 0  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        record.in_flight[0].url = "…"  # type: ignore[misc]


# -- the cache: after any sequence of changes, the document equals a fresh encoding

names = st.sampled_from(["A", "B", "C", "D", "dot.ted", "Ünïcode ✓"])
changes = st.one_of(
    st.tuples(st.just("add"), names, st.sampled_from(["US", "DE", "FR"])),
    st.tuples(st.just("remove"), names, st.none()),
    st.tuples(st.just("set_id"), names, st.text(max_size=5)),
    st.tuples(st.just("set_filters"), names, st.sampled_from(["US", "DE", "FR"])),
    st.tuples(st.just("set_description"), names, st.none() | st.text(max_size=5)),
    st.tuples(st.just("export_message"), st.just("daily_subscriptions"), st.text(max_size=3)),
)


def apply_change(state: State, change) -> None:
    kind, name, value = change
    address = f"segment.prod.{name}"
    record = state.segments.get(address)
    if kind == "add":
        state.segments[address] = segment(name, country=value)
    elif kind == "remove":
        state.segments.pop(address, None)
    elif kind == "export_message":
        record = state.exports[name]
        state.exports[name] = replace(record, messages_done=[*record.messages_done, value])
    elif record is not None:
        if kind == "set_id":
            state.segments[address] = replace(record, id=value)
        elif kind == "set_filters":
            state.segments[address] = replace(record, filters=({"field": "country", "relation": "=", "value": value},))
        else:
            state.segments[address] = replace(record, description=value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(changes, max_size=4), max_size=5))
def test_encoding_always_matches_the_state(batches):
    state = sample_state()
    encode_state(state)
    snapshots = [state.copy()]
    for batch in batches:
        for change in batch:
            apply_change(state, change)
        assert json.loads(encode_state(state)) == state.to_dict()
        snapshots.append(state.copy())
    for snapshot in snapshots:  # copies share cached lines; each must still encode itself
        assert json.loads(encode_state(snapshot)) == snapshot.to_dict()


def test_a_record_moved_to_another_address_is_encoded_under_it():
    state = sample_state()
    encode_state(state)
    record = state.segments.pop("segment.prod.Active US")
    state.segments["segment.prod.Active US (old)"] = record  # a caller bug, but never a wrong document
    assert list(json.loads(encode_state(state))["segments"]).count("segment.prod.Active US (old)") == 1


def test_segment_record_equality_ignores_the_cache():
    record = segment("A")
    other = segment("A")
    encode_state(State("l", 1, "v", {record.address: record}))
    assert record == other and isinstance(record, SegmentRecord)


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_a_state_written_before_remote_destinations_loads_and_keeps_its_shape():
    """Written by osctl before files could carry an ETag/version and exports a pruned list."""
    document = (FIXTURES / "state-before-remote-destinations.json").read_bytes()
    state = decode_state(document)
    record = state.exports["nightly"]
    assert [f.path for f in record.files] == ["exports/prod/nightly/2026-11-21.csv.gz",
                                              "exports/prod/nightly/2026-11-22.csv.gz"]
    assert all(f.etag is None and f.version is None for f in record.files) and record.pruned == []
    assert json.loads(encode_state(state)) == json.loads(document)  # nothing new written for old records


def test_remote_file_records_and_pruned_files_round_trip():
    state = decode_state((FIXTURES / "state-before-remote-destinations.json").read_bytes())
    record = state.exports["nightly"]
    old, kept = record.files[0], record.files[1:]
    gone = PrunedFile(path=old.path, sha256=old.sha256, tick=old.tick, written_at=old.written_at,
                      pruned_at="2026-11-23T03:01:00Z")
    new = FileRecord(path="s3://acme-data/onesignal/2026-11-23.csv.gz", bytes=9, rows=1,
                     sha256="c" * 64, tick="2026-11-23T03:00:00Z", etag='"abc"', version="v1")
    record = state.exports["nightly"] = replace(record, files=[*kept, new], pruned=[*record.pruned, gone])
    again = decode_state(encode_state(state))
    assert again.exports["nightly"] == record


# -- test users -----------------------------------------------------------------------


def _alice(**changes) -> UserRecord:
    fields = {"app": "prod", "app_id": "5eb5a37e-b458-11e3-ac11-000c2940e62c", "external_id": "qa-alice",
              "onesignal_id": "a3f1c2d4-0000-4000-8000-00000000000a", "tags": {"qa": "1", "cohort": "spring"},
              "language": "en", "timezone_id": "Europe/Berlin", "aliases": {"crm_id": "qa-12345"},
              "subscriptions": [UserSubscriptionRecord("Email", "alice+qa@example.com", "sub-1"),
                                UserSubscriptionRecord("SMS", "+15555550100")],
              "devices": ["5f0c1111-2222-4333-8444-555566667777"], "created_at": "2026-11-23T03:00:00Z"}
    return UserRecord(**{**fields, **changes})


def test_a_state_written_before_test_users_loads_and_round_trips_unchanged():
    """Written by osctl before test users: no "users" key, and none is added on write."""
    document = (FIXTURES / "state-before-test-users.json").read_bytes()
    state = decode_state(document)
    assert state.users == {} and list(state.segments) == ["segment.prod.QA testers"]
    assert json.loads(encode_state(state)) == json.loads(document)
    assert "users" not in state.to_dict()
    assert decode_state(encode_state(state)) == state


def test_user_records_round_trip_and_are_kept_under_their_address():
    state = decode_state((FIXTURES / "state-before-test-users.json").read_bytes())
    pending = _alice(external_id="qa-bob", onesignal_id=None, status="pending_create", subscriptions=[],
                     devices=[], aliases={}, created_at=None)
    state.users = {"user.prod.qa-alice": _alice(), "user.prod.qa-bob": pending}
    document = encode_state(state)
    assert json.loads(document) == state.to_dict()
    again = decode_state(document)
    assert again == state and again.users["user.prod.qa-alice"].subscriptions[1].id is None
    assert json.loads(document)["users"]["user.prod.qa-alice"]["subscriptions"][0] == {
        "type": "Email", "token": "alice+qa@example.com", "id": "sub-1"}
    twin = state.copy()
    twin.users["user.prod.qa-alice"].tags["cohort"] = "summer"
    assert state.users["user.prod.qa-alice"].tags["cohort"] == "spring"


@pytest.mark.parametrize(("change", "message"), [
    ({"tags": {"qa": 1}}, r'users\["user.prod.qa-alice"\].tags must map names to strings$'),
    ({"external_id": "qa-bob"}, r'users\["user.prod.qa-alice"\] holds user.prod.qa-bob$'),
    ({"status": "deleted"}, r'users\["user.prod.qa-alice"\].status must be one of created, pending_create$'),
    ({"subscriptions": [{"type": "Email"}]}, r'users\["user.prod.qa-alice"\].subscriptions\[0\].token is missing$'),
    ({"devices": [7]}, r'users\["user.prod.qa-alice"\].devices must be a list of strings$'),
])
def test_a_broken_user_record_is_named(change, message):
    data = document(users={"user.prod.qa-alice": {**_alice().to_dict(), **change}})
    with pytest.raises(StateError, match="^state is malformed: " + message):
        State.from_dict(data)


def test_user_records_cannot_be_reassigned_in_place():
    with pytest.raises(FrozenInstanceError):
        _alice().onesignal_id = None  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        _alice().subscriptions[0].id = "sub-2"  # type: ignore[misc]


def test_a_plan_saved_before_test_users_loads_with_no_user_changes():
    """Saved by the previous release: no "user_changes" and no summary of users."""
    from osctl.plan import planfile

    text = (FIXTURES / "plan-before-test-users.json").read_text("utf-8")
    assert "user_changes" not in text
    saved = planfile.loads(text, "plan-before-test-users.json")
    assert saved.user_changes == () and [c.address for c in saved.changes] == [
        c["address"] for c in json.loads(text)["changes"]]
    assert saved.to_dict()["summary"]["users"] == {"create": 0, "update": 0, "delete": 0, "state_only": 0}
