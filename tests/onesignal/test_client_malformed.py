"""A 200 answer of the wrong shape is an error naming the endpoint and what was wrong, never
an empty result. Served over real HTTP by tests/onesignal/scripted.py."""

from __future__ import annotations

import pytest

from osctl.onesignal import MalformedAnswer, OneSignalClient
from tests.onesignal.conftest import API_KEY, APP_ID, FakeTime
from tests.onesignal.scripted import ScriptedServer, fixed

SEGMENTS = f"/apps/{APP_ID}/segments"
US = [{"field": "country", "relation": "=", "value": "US"}]


def _failure(routes, call) -> str:
    fake = FakeTime()
    with ScriptedServer(routes) as server, \
            OneSignalClient(server.url, API_KEY, sleep=fake.sleep, clock=fake.clock, rng=lambda: 0.0) as client, \
            pytest.raises(MalformedAnswer) as caught:
        call(client)
    assert len(server.seen) == 1  # a malformed answer is not retried: it would come back the same
    text = str(caught.value)
    assert API_KEY not in text and caught.value.status in (200, 201)
    return text


@pytest.mark.parametrize("body, problem", [
    ({"segments": "nope"}, "segments is a string, expected a list"),
    ([], "the answer is a list, expected an object"),
    ({"total_count": 1, "segments": [{"id": None, "name": "Active US"}]}, "segments[0].id is null, expected a string"),
    ({"total_count": 1, "segments": [{"id": "s1", "name": 42}]}, "segments[0].name is a number, expected a string"),
])
def test_a_malformed_segment_list_names_the_endpoint(body, problem):
    text = _failure([("GET", SEGMENTS, fixed(200, body))], lambda c: c.list_segments(APP_ID))
    assert text == (f"list segments of app 5eb5a37e… (offset 0): GET {SEGMENTS} answered 200 OK; "
                    f"unexpected shape: {problem}")


def test_a_segment_view_whose_filters_are_not_a_list():
    body = {"subscriber_count": 1, "payload": {"id": "s1", "name": "N", "filters": "country = US"}}
    text = _failure([("GET", SEGMENTS + "/s1", fixed(200, body))], lambda c: c.get_segment(APP_ID, "s1"))
    assert text.endswith(f"GET {SEGMENTS}/s1 answered 200 OK; "
                         "unexpected shape: payload.filters is a string, expected a list")


def test_a_segment_view_that_ignores_the_detail_flag():
    text = _failure([("GET", SEGMENTS + "/s1", fixed(200, {"subscriber_count": 1}))],
                    lambda c: c.get_segment(APP_ID, "s1", detail=True))
    assert text.endswith("unexpected shape: the answer has no 'payload'")


def test_malformed_message_answers():
    listing = _failure([("GET", "/notifications", fixed(200, {"notifications": {"id": "m1"}}))],
                       lambda c: c.list_messages(APP_ID))
    assert listing.endswith("GET /notifications answered 200 OK; "
                            "unexpected shape: notifications is an object, expected a list")
    view = _failure([("GET", "/notifications/m1", fixed(200, {"id": None}))], lambda c: c.get_message(APP_ID, "m1"))
    assert view.endswith("GET /notifications/m1 answered 200 OK; unexpected shape: id is null, expected a string")


def test_malformed_export_create_and_outcome_answers():
    export = _failure([("POST", "/players/csv_export", fixed(200, {"csv_file_url": ["https://x.invalid/f"]}))],
                      lambda c: c.request_subscriptions_export(APP_ID))
    assert export.endswith("POST /players/csv_export answered 200 OK; "
                           "unexpected shape: csv_file_url is a list, expected an http(s) URL")
    assert "x.invalid" not in export
    created = _failure([("POST", SEGMENTS, fixed(201, {"success": True}))],
                       lambda c: c.create_segment(APP_ID, "Active US", US))
    assert created.endswith(f"POST {SEGMENTS} answered 201 Created; unexpected shape: the answer has no 'id'")
    outcomes = _failure([("GET", f"/apps/{APP_ID}/outcomes", fixed(200, {"outcomes": [{"id": "os__click"}]}))],
                        lambda c: c.outcomes(APP_ID, ["os__click.count"]))
    assert outcomes.endswith("unexpected shape: outcomes[0] has no 'value'")
