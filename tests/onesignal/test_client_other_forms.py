"""Answers docs/onesignal-api.md documents but the emulator does not give (it picks one form):
the client must accept them too. Served over real HTTP by tests/onesignal/scripted.py."""

from __future__ import annotations

import pytest

import osctl
from osctl.onesignal import (
    AccountBusy,
    AuthenticationFailed,
    OneSignalClient,
    OneSignalRequestFailed,
    OutcomeUnknown,
    SegmentNameConflict,
)
from tests.onesignal.conftest import API_KEY, APP_ID, FakeTime
from tests.onesignal.scripted import ScriptedServer, fixed

SEGMENTS = f"/apps/{APP_ID}/segments"
US = [{"field": "country", "relation": "=", "value": "US"}]


def _client(server: ScriptedServer, **kwargs) -> OneSignalClient:
    fake = kwargs.pop("time", FakeTime())
    return OneSignalClient(server.url, API_KEY, sleep=fake.sleep, clock=fake.clock, rng=lambda: 0.0,
                           **kwargs)


def _paged(segments: list[dict], *, total: str, status: int = 200):
    def route(method, path, query):
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        page = segments[offset:offset + limit]
        count = len(page) if total == "page" else len(segments)
        return status, {"total_count": count, "offset": offset, "limit": limit, "segments": page}, {}
    return route


def test_paging_continues_while_pages_are_full_when_total_count_is_the_page_size():
    segments = [{"id": f"id-{i}", "name": f"s{i}"} for i in range(605)]
    with ScriptedServer([("GET", SEGMENTS, _paged(segments, total="page"))]) as server, \
            _client(server) as client:
        names = [s.name for s in client.list_segments(APP_ID)]
    assert names == [f"s{i}" for i in range(605)]


def test_an_exact_multiple_of_the_page_size_ends_at_the_empty_page():
    segments = [{"id": f"id-{i}", "name": f"s{i}"} for i in range(300)]
    with ScriptedServer([("GET", SEGMENTS, _paged(segments, total="page", status=201))]) as server, \
            _client(server) as client:
        assert len(client.list_segments(APP_ID)) == 300  # 201, as PY/GO declare it, is fine
    assert len(server.seen) == 2


def test_400_already_taken_on_create_is_a_conflict_with_the_existing_id():
    taken = {"success": False, "errors": ["Segment name is already taken."]}
    listing = [{"id": "old-id", "name": "Active US"}]
    with ScriptedServer([("POST", SEGMENTS, fixed(400, taken)),
                         ("GET", SEGMENTS, _paged(listing, total="app"))]) as server, \
            _client(server) as client, pytest.raises(SegmentNameConflict) as caught:
        client.create_segment(APP_ID, "Active US", US)
    assert caught.value.existing_id == "old-id" and caught.value.status == 400


def test_a_segment_the_api_refuses_to_show_is_unsupported_not_an_error():
    refusal = {"errors": ["User-based segments (with message event or custom event filters) are "
                          "not yet supported via the API"]}
    with ScriptedServer([("GET", SEGMENTS + "/seg-1", fixed(400, refusal))]) as server, \
            _client(server) as client:
        detail = client.get_segment(APP_ID, "seg-1")
    assert detail.unsupported is True and detail.id == "seg-1"


def test_400_export_in_progress_is_account_busy():
    busy = {"errors": ["An export is already in progress for this account"]}
    with ScriptedServer([("POST", "/players/csv_export", fixed(400, busy))]) as server, \
            _client(server) as client, pytest.raises(AccountBusy):
        client.request_subscriptions_export(APP_ID)


def test_message_history_answered_with_csv_file_url():
    answer = {"success": True, "csv_file_url": "https://example.invalid/x.csv.gz"}
    with ScriptedServer([("POST", "/notifications/m1/history", fixed(200, answer))]) as server, \
            _client(server) as client:
        assert client.request_message_history(APP_ID, "m1", events="sent").endswith("x.csv.gz")


def test_429_with_error_objects_and_retry_after_is_honoured():
    calls = []

    def limited_once(method, path, query):
        calls.append(path)
        if len(calls) == 1:
            body = {"errors": [{"code": "Rate Limit Exceeded", "title": "Too many requests", "meta": {}}]}
            return 429, body, {"Retry-After": "3"}
        return 200, {"total_count": 0, "segments": []}, {}

    fake = FakeTime()
    reasons = []
    with ScriptedServer([("GET", SEGMENTS, limited_once)]) as server, \
            _client(server, time=fake, on_retry=lambda call, reason: reasons.append(reason)) as client:
        assert client.list_segments(APP_ID) == []
    assert fake.sleeps == [3.0]
    assert "429" in reasons[0] and "Too many requests (Rate Limit Exceeded)" in reasons[0]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_create_answered_with_a_server_error_is_outcome_unknown_and_not_repeated(status):
    with ScriptedServer([("POST", SEGMENTS, fixed(status, b"<html>oops</html>"))]) as server, \
            _client(server) as client, pytest.raises(OutcomeUnknown) as caught:
        client.create_segment(APP_ID, "Active US", US)
    assert server.seen == [("POST", SEGMENTS)]
    assert caught.value.status == status


def test_reads_answered_500_are_retried_until_they_succeed():
    answers = iter([(500, b"", {}), (502, b"Bad Gateway", {}), (200, {"segments": []}, {})])
    with ScriptedServer([("GET", SEGMENTS, lambda m, p, q: next(answers))]) as server, \
            _client(server) as client:
        assert client.list_segments(APP_ID) == []
    assert len(server.seen) == 3


@pytest.mark.parametrize("status, body, text", [
    (403, {"errors": ["Access denied.  Please include an 'Authorization: ...' header with a valid "
                      "API key (https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys)."]},
     "Access denied."),
    (400, {"errors": ["Please include a case-sensitive header of Authorization"]}, "case-sensitive"),
    (401, {"errors": ["Missing or invalid REST API key for the app."]}, "invalid REST API key"),
])
def test_authentication_failures_in_every_documented_form(status, body, text):
    with ScriptedServer([("GET", SEGMENTS, fixed(status, body))]) as server, \
            _client(server) as client, pytest.raises(AuthenticationFailed) as caught:
        client.list_segments(APP_ID)
    assert caught.value.status == status and text in str(caught.value)
    assert len(server.seen) == 1  # never retried


def test_a_server_echoing_the_key_does_not_get_it_into_the_message():
    echo = {"errors": [f"key Key {API_KEY} is not valid here"]}
    with ScriptedServer([("GET", SEGMENTS, fixed(400, echo))]) as server, \
            _client(server) as client, pytest.raises(OneSignalRequestFailed) as caught:
        client.list_segments(APP_ID)
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value.errors)
    assert "[redacted]" in str(caught.value)


def test_a_success_that_is_not_json_is_reported():
    with ScriptedServer([("POST", SEGMENTS, fixed(201, b"<html>ok</html>"))]) as server, \
            _client(server) as client, pytest.raises(OneSignalRequestFailed) as caught:
        client.create_segment(APP_ID, "Active US", US)
    assert "not JSON" in str(caught.value)


def test_delete_404_with_success_false_alone_means_already_gone():
    with ScriptedServer([("DELETE", SEGMENTS + "/gone", fixed(404, {"success": False}))]) as server, \
            _client(server) as client:
        assert client.delete_segment(APP_ID, "gone") is False


def test_requests_name_osctl_and_its_version_and_say_their_body_is_json():
    with ScriptedServer([("POST", SEGMENTS, fixed(201, {"success": True, "id": "new"})),
                         ("GET", SEGMENTS, _paged([], total="app"))]) as server, \
            _client(server) as client:
        client.create_segment(APP_ID, "Active US", US)
        client.list_segments(APP_ID)
    post, get = server.headers
    assert post["User-Agent"] == get["User-Agent"] == f"osctl/{osctl.__version__}"
    assert post["Authorization"] == f"Key {API_KEY}"
    assert post["Content-Type"] == "application/json"
    assert get.get("Connection", "keep-alive").lower() == "keep-alive"
