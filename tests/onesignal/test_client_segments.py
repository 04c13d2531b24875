"""The client against the emulator over HTTP on 127.0.0.1: segments, paging, conflicts, faults."""

from __future__ import annotations

import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import pytest

from osctl.onesignal import (
    AuthenticationFailed,
    OneSignalClient,
    OneSignalRequestFailed,
    OutcomeUnknown,
    RetriesExhausted,
    RetryPolicy,
    SegmentNameConflict,
)
from tests.onesignal.conftest import API_KEY, APP_ID, FakeTime

US = [{"field": "country", "relation": "=", "value": "US"}]


def _filters(i: int) -> list[dict]:
    return [{"field": "session_count", "relation": ">", "value": str(i)}]


def _segment_requests(control, method: str) -> list[dict]:
    return [r for r in control.requests() if r["method"] == method and "/segments" in r["path"]]


def assert_no_key(exc: BaseException) -> None:
    """Neither the text, the repr, the args nor a formatted traceback carries the key."""
    rendered = "".join(traceback.format_exception(exc))
    for text in (str(exc), repr(exc), repr(exc.args), rendered):
        assert API_KEY not in text
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


def test_create_read_list_delete_round_trip(client):
    filters = US + [{"operator": "OR"}, {"field": "tag", "key": "vip", "relation": "exists"}]
    new_id = client.create_segment(APP_ID, "Active US", filters, description="people in the US")

    detail = client.get_segment(APP_ID, new_id)
    assert detail.id == new_id and detail.name == "Active US"
    assert detail.filters == filters and detail.unsupported is False
    assert detail.description == "people in the US"
    assert isinstance(detail.subscriber_count, int)

    listed = {s.id: s for s in client.list_segments(APP_ID)}
    assert listed[new_id].name == "Active US" and listed[new_id].app_id == APP_ID

    assert client.delete_segment(APP_ID, new_id) is True
    assert client.get_segment(APP_ID, new_id) is None
    assert client.delete_segment(APP_ID, new_id) is False  # already gone: not an error
    assert new_id not in {s.id for s in client.list_segments(APP_ID)}


def test_view_without_detail_has_only_the_count(client):
    new_id = client.create_segment(APP_ID, "Counted", US)
    detail = client.get_segment(APP_ID, new_id, detail=False)
    assert detail.id == new_id and detail.filters == [] and detail.subscriber_count is not None


def test_duplicate_name_is_a_conflict_naming_the_existing_segment(client):
    first = client.create_segment(APP_ID, "Active US", US)
    with pytest.raises(SegmentNameConflict) as caught:
        client.create_segment(APP_ID, "Active US", _filters(3))
    conflict = caught.value
    assert conflict.existing_id == first
    assert conflict.status == 409 and conflict.name == "Active US"
    assert "create segment 'Active US'" in str(conflict)
    assert "already taken" in str(conflict) and first in str(conflict)
    assert_no_key(conflict)


def test_more_than_300_segments_are_listed_completely_with_concurrent_pages(client, control):
    before = {s.id for s in client.list_segments(APP_ID)}  # the app's built-in segments
    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(lambda i: client.create_segment(APP_ID, f"segment {i:04d}", _filters(i)),
                                range(950)))
    control.call("DELETE", "/requests")
    # every page takes 600 ms: one after the other the four would need 2.4 s or more
    control.faults({"kind": "latency", "latency_ms": 600, "method": "GET", "path": r"/segments$"})
    started = time.monotonic()
    segments = client.list_segments(APP_ID)
    elapsed = time.monotonic() - started

    ids = [s.id for s in segments]
    assert len(ids) == len(set(ids)) == len(before) + 950
    assert set(ids) == before | set(created)
    offsets = sorted(int(parse_qs(r["query"])["offset"][0]) for r in _segment_requests(control, "GET"))
    assert offsets == [0, 300, 600, 900]
    assert elapsed < 1.9, f"pages were not fetched concurrently ({elapsed:.2f} s)"


def test_503_with_html_and_empty_bodies_is_retried(client, control, fake_time, retries):
    new_id = client.create_segment(APP_ID, "Active US", US)
    control.faults({"kind": "503_html", "method": "GET", "path": "/segments/", "times": 1},
                   {"kind": "503_empty", "method": "GET", "path": "/segments/", "times": 1})
    detail = client.get_segment(APP_ID, new_id)
    assert detail.name == "Active US"
    assert len(retries) == 2 and all("503" in reason for _, reason in retries)
    assert retries[0][0] == f"read segment {new_id} of app {APP_ID[:8]}…"
    assert fake_time.sleeps == [0.25, 0.5]  # rng 0.5 of 0.5 s, then of 1 s


def test_503_retry_after_is_honoured(client, control, fake_time):
    control.faults({"kind": "503_empty", "method": "GET", "path": "/segments", "times": 1,
                    "retry_after": 7})
    client.list_segments(APP_ID)
    assert fake_time.sleeps == [7.0]


def test_a_create_answered_503_is_retried_and_creates_once(client, control):
    control.faults({"kind": "503_html", "method": "POST", "path": "/segments", "times": 2})
    new_id = client.create_segment(APP_ID, "Active US", US)
    named = [s for s in client.list_segments(APP_ID) if s.name == "Active US"]
    assert [s.id for s in named] == [new_id]
    assert [r["status"] for r in _segment_requests(control, "POST")] == [503, 503, 201]


def test_429_retry_after_is_honoured(emulator_url, control):
    control.rate_limit("segments_list", per_second=1, burst=1)
    real = FakeTime(real=True)  # the emulator's bucket refills in real time
    with OneSignalClient(emulator_url, API_KEY, sleep=real.sleep, clock=real.clock,
                         rng=lambda: 0.0) as client:
        client.list_segments(APP_ID)
        client.list_segments(APP_ID)  # over the limit: 429, Retry-After: 1
    assert real.sleeps == [1.0]  # max(Retry-After, backoff) with backoff 0
    statuses = [r["status"] for r in _segment_requests(control, "GET")]
    assert statuses == [200, 429, 200]


def test_after_a_429_other_threads_of_the_client_wait_too(emulator_url, control):
    control.rate_limit("segments_list", per_second=1, burst=1)
    with OneSignalClient(emulator_url, API_KEY, rng=lambda: 0.0) as client:
        new_id = client.create_segment(APP_ID, "Active US", US)
        client.list_segments(APP_ID)  # takes the only token
        pushed_back = threading.Thread(target=client.list_segments, args=(APP_ID,))
        pushed_back.start()
        deadline = time.monotonic() + 5
        while not any(r["status"] == 429 for r in control.requests()):
            assert time.monotonic() < deadline, "no 429 arrived"
            time.sleep(0.02)
        time.sleep(0.1)  # the 429 is logged as it is sent; let the client read it
        started = time.monotonic()
        client.get_segment(APP_ID, new_id)  # another endpoint, not limited itself
        waited = time.monotonic() - started
        pushed_back.join()
    assert waited >= 0.5, f"a request started {waited:.2f} s into a 1 s Retry-After"


def test_429_for_longer_than_the_policy_waits_gives_up_at_once(emulator_url, control):
    control.rate_limit("segments_list", per_second=0.001, burst=1)  # Retry-After: 1000
    real = FakeTime()
    with OneSignalClient(emulator_url, API_KEY, sleep=real.sleep, clock=real.clock) as client:
        client.list_segments(APP_ID)
        with pytest.raises(RetriesExhausted) as caught:
            client.list_segments(APP_ID)
    assert caught.value.status == 429 and "1000 s" in str(caught.value)
    assert "API rate limit exceeded" in str(caught.value)
    assert real.sleeps == []


def test_a_dropped_connection_on_a_read_is_retried(client, control, retries):
    new_id = client.create_segment(APP_ID, "Active US", US)
    control.faults({"kind": "drop", "method": "GET", "path": "/segments/", "times": 1})
    assert client.get_segment(APP_ID, new_id).name == "Active US"
    faults = [r["fault"] for r in _segment_requests(control, "GET")]
    assert faults == ["drop", None]
    assert len(retries) == 1


def test_a_dropped_delete_is_retried_and_reports_the_segment_gone(client, control):
    new_id = client.create_segment(APP_ID, "Active US", US)
    control.faults({"kind": "lost_answer", "method": "DELETE", "times": 1})
    assert client.delete_segment(APP_ID, new_id) is False  # the first try did delete it
    assert client.get_segment(APP_ID, new_id) is None


def test_a_lost_create_answer_is_outcome_unknown_and_not_repeated(client, control):
    control.faults({"kind": "lost_answer", "method": "POST", "path": "/segments", "times": 1})
    with pytest.raises(OutcomeUnknown) as caught:
        client.create_segment(APP_ID, "Active US", US)
    assert "create segment 'Active US'" in str(caught.value)
    assert "answer was lost" in str(caught.value)
    assert_no_key(caught.value)
    # the segment exists, exactly once: the client did not send the create again
    assert [s.name for s in client.list_segments(APP_ID)].count("Active US") == 1
    assert len(_segment_requests(control, "POST")) == 1


def test_a_dropped_create_is_also_outcome_unknown(client, control):
    # a connection closed before any answer looks the same whether or not it was processed
    control.faults({"kind": "drop", "method": "POST", "path": "/segments", "times": 1})
    with pytest.raises(OutcomeUnknown):
        client.create_segment(APP_ID, "Active US", US)
    assert len(_segment_requests(control, "POST")) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_create_that_cannot_connect_is_retried_then_fails_without_doubt():
    fake = FakeTime()
    retries = []
    client = OneSignalClient(f"http://127.0.0.1:{_closed_port()}", API_KEY, sleep=fake.sleep,
                             clock=fake.clock, policy=RetryPolicy(max_attempts=3),
                             on_retry=lambda call, reason: retries.append(reason))
    with client, pytest.raises(RetriesExhausted) as caught:
        client.create_segment(APP_ID, "Active US", US)
    assert not isinstance(caught.value, OutcomeUnknown)  # never sent, so nothing was created
    assert len(retries) == 2 and "ConnectError" in retries[0]
    assert "gave up after 3 attempts" in str(caught.value)
    assert_no_key(caught.value)


def test_a_wrong_key_fails_without_showing_either_key(emulator_url, control):
    wrong = "wr0ng-" + API_KEY[::-1]
    with OneSignalClient(emulator_url, wrong) as client:
        with pytest.raises(AuthenticationFailed) as caught:
            client.list_segments(APP_ID)
        assert wrong not in repr(client)
    error = caught.value
    assert error.status == 403 and "Access denied" in str(error)
    assert f"GET /apps/{APP_ID}/segments" in str(error)
    assert wrong not in str(error) and wrong not in repr(error)
    assert_no_key(error)


def test_every_request_carries_the_key_scheme_and_a_json_body(client, control):
    import hashlib

    client.create_segment(APP_ID, "Active US", US)
    client.list_segments(APP_ID)
    expected = "sha256:" + hashlib.sha256(f"Key {API_KEY}".encode()).hexdigest()
    logged = control.requests()
    assert logged and all(r["authorization"] == expected for r in logged)
    assert logged[0]["body"] == {"name": "Active US", "filters": US}


def test_client_repr_does_not_show_the_key(client):
    assert API_KEY not in repr(client) and API_KEY not in str(vars(client))


def test_built_in_and_dashboard_only_segments_are_recognisable(client):
    listed = {s.name: s for s in client.list_segments(APP_ID)}
    assert listed["Subscribed Users"].read_only is True
    dashboard_only = client.get_segment(APP_ID, listed["Clicked Last Campaign"].id)
    assert dashboard_only.unsupported is True
    editable = client.get_segment(APP_ID, listed["Active Users"].id)
    assert editable.unsupported is False and editable.filters


def test_deleting_a_read_only_segment_fails_with_onesignals_reason(client):
    built_in = next(s for s in client.list_segments(APP_ID) if s.read_only)
    with pytest.raises(OneSignalRequestFailed) as caught:
        client.delete_segment(APP_ID, built_in.id)
    assert caught.value.status == 400 and "read-only" in str(caught.value)
    assert f"delete segment {built_in.id}" in str(caught.value)


def test_a_read_that_times_out_is_retried(emulator_url, control):
    fake = FakeTime()
    reasons = []
    with OneSignalClient(emulator_url, API_KEY, timeout=0.3, sleep=fake.sleep, clock=fake.clock,
                         on_retry=lambda call, reason: reasons.append(reason)) as client:
        control.faults({"kind": "latency", "latency_ms": 800, "method": "GET", "times": 1})
        assert isinstance(client.list_segments(APP_ID), list)
    assert len(reasons) == 1 and "ReadTimeout" in reasons[0]


def test_a_create_that_times_out_is_outcome_unknown_and_may_still_happen(emulator_url, control):
    with OneSignalClient(emulator_url, API_KEY, timeout=0.3) as client:
        control.faults({"kind": "latency", "latency_ms": 600, "method": "POST", "times": 1})
        with pytest.raises(OutcomeUnknown) as caught:
            client.create_segment(APP_ID, "Slow one", US)
        assert "ReadTimeout" in str(caught.value)
        assert_no_key(caught.value)
        deadline = time.monotonic() + 5
        while "Slow one" not in {s.name for s in client.list_segments(APP_ID)}:
            assert time.monotonic() < deadline, "the timed-out create never took effect"
            time.sleep(0.1)
    assert len(_segment_requests(control, "POST")) == 1
