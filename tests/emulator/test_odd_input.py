"""Odd input never gets a 5xx: only injected faults answer 5xx (found by fuzzing against the OpenAPI spec).

Each family below is a way request data used to reach int(), islice(), json.loads()
or float arithmetic unchecked. The answer is a 4xx in OneSignal's error envelope.
"""

from __future__ import annotations

import socket

import httpx
import pytest

JSON = {"Content-Type": "application/json"}
HUGE = "1" + "0" * 30  # the offset the fuzzer found: beyond what islice takes


def assert_error(response: httpx.Response, status: int = 400, *messages: str) -> dict:
    """A 4xx with OneSignal's envelope: {"errors": [strings]} (plus "success": false on some endpoints)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["errors"], list) and all(isinstance(e, str) for e in body["errors"])
    if messages:
        assert body["errors"] == list(messages)
    return body


@pytest.fixture
def message_id(emulator, api):
    return api.get("/notifications", params={"app_id": emulator.app_id}).json()["notifications"][0]["id"]


def every_endpoint(app_id: str, message_id: str) -> list[tuple[str, str, dict]]:
    """(method, path, query) for each API operation the emulator serves."""
    segment = "00000000-0000-4000-8000-000000000000"
    return [
        ("GET", f"/apps/{app_id}/segments", {}),
        ("POST", f"/apps/{app_id}/segments", {}),
        ("GET", f"/apps/{app_id}/segments/{segment}", {}),
        ("PATCH", f"/apps/{app_id}/segments/{segment}", {}),
        ("DELETE", f"/apps/{app_id}/segments/{segment}", {}),
        ("GET", "/notifications", {"app_id": app_id}),
        ("GET", f"/notifications/{message_id}", {"app_id": app_id}),
        ("POST", "/players/csv_export", {"app_id": app_id}),
        ("POST", f"/notifications/{message_id}/export_events", {"app_id": app_id}),
        ("POST", f"/notifications/{message_id}/history", {}),
        ("GET", f"/apps/{app_id}/outcomes", {"outcome_names": "os__click.count"}),
    ]


def body_endpoints(app_id: str, message_id: str) -> list[tuple[str, str, dict]]:
    """The operations that read a JSON body (export_events takes none and ignores one)."""
    return [(method, path, query) for method, path, query in every_endpoint(app_id, message_id)
            if method in ("POST", "PATCH") and not path.endswith("/export_events")]


# --- unbounded integers -------------------------------------------------------------------------


def test_a_huge_segment_offset_is_a_400_not_a_500(emulator, api):
    response = api.get(f"/apps/{emulator.app_id}/segments", params={"offset": HUGE})
    assert_error(response, 400, "offset must be at most 2147483647")


@pytest.mark.parametrize("name", ["offset", "limit"])
def test_huge_paging_numbers_are_refused_on_every_list(emulator, api, name):
    assert_error(api.get(f"/apps/{emulator.app_id}/segments", params={name: HUGE}))
    assert_error(api.get("/notifications", params={"app_id": emulator.app_id, name: HUGE}))
    assert_error(api.get("/notifications", params={"app_id": emulator.app_id, name: "9" * 5000}))


def test_paging_numbers_up_to_int32_still_work(emulator, api):
    response = api.get(f"/apps/{emulator.app_id}/segments", params={"offset": "2147483647", "limit": "5"})
    assert response.status_code == 200
    assert response.json()["segments"] == []


@pytest.mark.parametrize("since", ["9" * 5000, "99999999999999999999", "-5"])
def test_an_out_of_range_last_active_since_is_a_400(emulator, api, since):
    response = api.post("/players/csv_export", params={"app_id": emulator.app_id},
                        json={"last_active_since": since})
    assert_error(response, 400, "last_active_since must be a string of unix seconds")


def test_a_location_number_beyond_float_range_is_a_400(emulator, api):
    response = api.post(f"/apps/{emulator.app_id}/segments", json={"name": "far", "filters": [
        {"field": "location", "radius": 10, "lat": 10**400, "long": 0}]})
    body = assert_error(response, 400, "filters[0]: 'lat' must be a number")
    assert body["success"] is False


# --- digits of other scripts ----------------------------------------------------------------------


def test_a_superscript_digit_in_last_active_since_is_a_400_not_a_500(emulator, api):
    response = api.post("/players/csv_export", params={"app_id": emulator.app_id},
                        json={"last_active_since": "¹"})
    assert_error(response, 400, "last_active_since must be a string of unix seconds")


@pytest.mark.parametrize("digits", ["١٢", "¹", "1_0", "１"])
def test_only_ascii_digits_are_numbers(emulator, api, digits):
    assert_error(api.get(f"/apps/{emulator.app_id}/segments", params={"offset": digits}),
                 400, "offset must be an integer")
    assert_error(api.get(f"/apps/{emulator.app_id}/outcomes",
                         params={"outcome_names": "os__click.count", "outcome_platforms": digits}),
                 400, "outcome_platforms must be a comma-separated list of device types")
    filters = [{"field": "session_count", "relation": ">", "value": digits}]
    response = api.post(f"/apps/{emulator.app_id}/segments", json={"name": "digits", "filters": filters})
    assert_error(response, 400, "filters[0]: 'value' must be a number written as a string")


def test_an_app_version_with_a_superscript_digit_does_not_break_counting(emulator, api):
    app = "11111111-2222-4333-8444-555555555555"
    emulator.add_app(app, "digits-key", account="digits", messages=0,
                     subscriptions=[{"app_version": "¹.0"}, {"app_version": "2.0"}])
    client = httpx.Client(base_url=emulator.url, headers={"Authorization": "Key digits-key"}, timeout=10)
    with client:
        created = client.post(f"/apps/{app}/segments", json={"name": "new", "filters": [
            {"field": "app_version", "relation": ">", "value": "1.0"}]})
        assert created.status_code == 201
        view = client.get(f"/apps/{app}/segments/{created.json()['id']}")
    assert view.status_code == 200
    assert view.json() == {"subscriber_count": 1}


# --- wrong JSON types -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"null", b"[]", b'"text"', b"5", b"true"])
def test_a_body_that_is_not_an_object_is_a_400_on_every_endpoint_that_reads_one(emulator, api, message_id, body):
    for method, path, query in body_endpoints(emulator.app_id, message_id):
        response = api.request(method, path, params=query, content=body, headers=JSON)
        assert 400 <= response.status_code < 500, (method, path, response.text)
        assert_error(response, response.status_code)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("extra_fields", "", "extra_fields may only contain: "),
    ("extra_fields", [{}], "extra_fields may only contain: "),
    ("last_active_since", 1700000000, "last_active_since must be a string of unix seconds"),
    ("segment_name", ["Active Users"], "segment_name must be a string"),
    ("include_unsubscribed", "yes", "include_unsubscribed must be a boolean"),
])
def test_wrong_types_in_a_subscriptions_export_are_400(emulator, api, field, value, message):
    response = api.post("/players/csv_export", params={"app_id": emulator.app_id}, json={field: value})
    body = assert_error(response, 400)
    assert body["errors"][0].startswith(message)


@pytest.mark.parametrize("filters", [None, {}, "tag", [None], [[]], [{"field": ["tag"]}],
                                     [{"field": "tag", "relation": {}, "key": "a", "value": "1"}],
                                     [{"field": "location", "radius": None, "lat": "x", "long": True}]])
def test_wrong_types_in_filters_are_400_on_create_and_update(emulator, api, filters):
    created = api.post(f"/apps/{emulator.app_id}/segments", json={"name": "types", "filters": filters})
    assert assert_error(created)["success"] is False
    segment = api.get(f"/apps/{emulator.app_id}/segments").json()["segments"][-1]["id"]
    updated = api.patch(f"/apps/{emulator.app_id}/segments/{segment}", json={"name": "types", "filters": filters})
    assert assert_error(updated)["success"] is False


# --- bodies that are not JSON, or not UTF-8 --------------------------------------------------------


NOT_UTF8_JSON = {
    "deeper than the parser recurses": b"[" * 100_000,
    "an integer of more digits than Python converts": b'{"name": ' + b"9" * 5000 + b"}",
    "NaN, which Python's parser takes": b'{"name": NaN}',
    "UTF-16": '{"name": "x"}'.encode("utf-16"),
    "Latin-1": b'{"name": "\xe9"}',
    "a byte order mark": b'\xef\xbb\xbf{"name": "x"}',
    "cut short": b'{"name": ',
}


@pytest.mark.parametrize("body", NOT_UTF8_JSON.values(), ids=NOT_UTF8_JSON.keys())
def test_a_body_that_is_not_utf8_json_is_a_400_on_every_endpoint(emulator, api, message_id, body):
    for method, path, query in body_endpoints(emulator.app_id, message_id):
        response = api.request(method, path, params=query, content=body, headers=JSON)
        assert_error(response, 400, "Request body is not valid JSON")


def test_the_request_log_keeps_a_body_it_cannot_parse_as_null(emulator, api):
    api.post("/players/csv_export", params={"app_id": emulator.app_id}, content=b"[" * 100_000, headers=JSON)
    assert emulator.requests()[-1]["body"] is None


# --- huge bodies ----------------------------------------------------------------------------------


def test_a_body_over_1_mb_is_a_413_and_the_connection_goes_on(emulator, api):
    response = api.post(f"/apps/{emulator.app_id}/segments", content=b" " * (2 * 1024 * 1024), headers=JSON)
    assert_error(response, 413, "Request body is too large (at most 1048576 bytes)")
    assert api.get(f"/apps/{emulator.app_id}/segments").status_code == 200


def raw_request(emulator, head: bytes) -> bytes:
    host, port = emulator.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


@pytest.mark.parametrize(("length", "status"), [
    (b"abc", b"400"), (b"-5", b"400"), (b"\xd9\xa1", b"400"), (b"99999999999999999999999", b"413")])
def test_a_content_length_that_is_not_a_small_number_is_refused(emulator, length, status):
    answer = raw_request(emulator, b"POST /players/csv_export HTTP/1.1\r\nHost: x\r\nContent-Length: "
                         + length + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 " + status)


# --- query strings that are not UTF-8 -------------------------------------------------------------


def test_query_strings_that_are_not_utf8_are_400_or_answered(emulator, api, message_id):
    app = emulator.app_id
    assert_error(api.get(f"/apps/{app}/segments?offset=%FF"), 400, "offset must be an integer")
    assert_error(api.get(f"/notifications?app_id={app}&time_offset=%FF%FE"), 400,
                 "time_offset must be an ISO-8601 time or a next_time_offset cursor")
    assert_error(api.get(f"/apps/{app}/outcomes?outcome_names=%FF"), 400,
                 "Add .sum or .count to every requested outcome id")
    assert_error(api.get("/notifications?app_id=%FF%FE"), 403)
    assert api.get(f"/apps/{app}/segments/x?include-segment-detail=%C0").status_code == 404


# --- the control API ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/_emulator/clock", b'{"now": 1e300}'),
    ("POST", "/_emulator/clock", b'{"advance": 1e999}'),
    ("POST", "/_emulator/reset", b'{"now": "NaN"}'),
    ("PUT", "/_emulator/faults", b'{"seed": 1e999}'),
    ("PUT", "/_emulator/faults", b'{"faults": [{"kind": "503_empty", "retry_after": "1\\r\\nX: y"}]}'),
    ("PUT", "/_emulator/faults", b'{"faults": [{"kind": "drop", "times": "twice"}]}'),
    ("PUT", "/_emulator/rate_limits", b'{"limits": {"outcomes": {}}}'),
    ("PUT", "/_emulator/rate_limits", b'{"limits": []}'),
    ("PUT", "/_emulator/settings", b'{"latency_ms": 1e999}'),
    ("POST", "/_emulator/apps", b'{"app_id": "a", "api_key": "k", "subscriptions": [1]}'),
    ("POST", "/_emulator/apps", b'{"app_id": "a", "api_key": "k", "subscriptions": [{"last_session": 1e400}]}'),
    ("POST", "/_emulator/apps", b'{"app_id": "a", "api_key": "k", "subscriptions": [{"tags": [1]}]}'),
    ("POST", "/_emulator/apps", b'{"app_id": "a", "api_key": "k", "audience": 1e12}'),
    ("POST", "/_emulator/apps/{app}/messages", b'{"messages": [1]}'),
    ("POST", "/_emulator/apps/{app}/messages", b'{"messages": [{"name": 5}]}'),
    ("GET", "/_emulator/requests?since=x", b""),
])
def test_the_control_api_answers_odd_input_with_400_and_the_api_keeps_working(emulator, api, method, path,
                                                                               body):
    response = api.request(method, path.format(app=emulator.app_id), content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert isinstance(response.json()["error"], str)
    for method_, path_, query in every_endpoint(emulator.app_id, "00000000-0000-4000-8000-000000000000"):
        if method_ == "GET":
            assert api.get(path_, params=query).status_code < 500


def test_only_an_injected_fault_answers_5xx(emulator, api):
    emulator.set_faults([{"kind": "503_empty", "times": 1}])
    assert api.get(f"/apps/{emulator.app_id}/segments").status_code == 503
    assert api.get(f"/apps/{emulator.app_id}/segments", params={"offset": HUGE}).status_code == 400
