"""The segment update (PATCH, docs/onesignal-api.md#updating-a-segment): against the emulator, and the answers of a
server that does not offer it, over real HTTP."""

from __future__ import annotations

import pytest

from osctl.errors import SegmentInUse, UpdateNotSupported
from osctl.onesignal import OutcomeUnknown, SegmentNameConflict
from tests.onesignal.conftest import API_KEY, APP_ID, FakeTime
from tests.onesignal.scripted import ScriptedServer, fixed

US = [{"field": "country", "relation": "=", "value": "US"}]
CA = [{"field": "country", "relation": "=", "value": "CA"}]
ONE = f"/apps/{APP_ID}/segments/seg-1"


def test_update_renames_and_replaces_all_filters_keeping_the_id(client):
    seg_id = client.create_segment(APP_ID, "Old", US + [{"operator": "OR"}] + CA)
    assert client.update_segment(APP_ID, seg_id, "New", CA) is True
    detail = client.get_segment(APP_ID, seg_id)
    assert (detail.id, detail.name, detail.filters) == (seg_id, "New", CA)


def test_update_of_a_deleted_segment_answers_false(client):
    seg_id = client.create_segment(APP_ID, "Gone", US)
    assert client.delete_segment(APP_ID, seg_id)
    assert client.update_segment(APP_ID, seg_id, "Gone", CA) is False


def test_update_to_a_taken_name_is_a_conflict_naming_the_holder(client):
    theirs = client.create_segment(APP_ID, "Theirs", US)
    ours = client.create_segment(APP_ID, "Ours", US)
    with pytest.raises(SegmentNameConflict) as caught:
        client.update_segment(APP_ID, ours, "Theirs", CA)
    assert caught.value.existing_id == theirs and caught.value.status == 400


def test_update_of_a_segment_in_an_active_journey_is_refused_with_onesignals_words(client, control):
    seg_id = client.create_segment(APP_ID, "In a Journey", US)
    control.call("PUT", f"/apps/{APP_ID}/segments/{seg_id}/journey", {"active": True})
    with pytest.raises(SegmentInUse) as caught:
        client.update_segment(APP_ID, seg_id, "In a Journey", CA)
    assert caught.value.errors == ["This segment is used by an active Journey and cannot be updated."]
    assert client.get_segment(APP_ID, seg_id).filters == US


def test_a_lost_update_answer_is_not_repeated_by_the_client(client, control):
    seg_id = client.create_segment(APP_ID, "Lost", US)
    control.faults({"kind": "lost_answer", "method": "PATCH", "times": 1})
    with pytest.raises(OutcomeUnknown):
        client.update_segment(APP_ID, seg_id, "Lost", CA)
    assert client.get_segment(APP_ID, seg_id).filters == CA  # it did happen: the caller checks
    assert len([r for r in control.requests() if r["method"] == "PATCH"]) == 1


def _client(server):
    from osctl.onesignal import OneSignalClient

    fake = FakeTime()
    return OneSignalClient(server.url, API_KEY, sleep=fake.sleep, clock=fake.clock, rng=lambda: 0.0)


@pytest.mark.parametrize(("status", "body"), [
    (405, {"errors": ["Method Not Allowed"]}),
    (404, b"<html>Not Found</html>"),
    (403, {"errors": ["This API is not available for applications on your plan."]}),
])
def test_a_server_without_segment_updates_says_so(status, body):
    with ScriptedServer([("PATCH", ONE, fixed(status, body))]) as server, _client(server) as client, \
            pytest.raises(UpdateNotSupported) as caught:
        client.update_segment(APP_ID, "seg-1", "X", US)
    assert "segments cannot be updated in place here" in str(caught.value).lower()
    assert caught.value.status == status


def test_onesignals_segment_not_found_is_an_answer_not_an_error():
    gone = {"success": False, "errors": ["segment not found"]}
    with ScriptedServer([("PATCH", ONE, fixed(404, gone))]) as server, _client(server) as client:
        assert client.update_segment(APP_ID, "seg-1", "X", US) is False
