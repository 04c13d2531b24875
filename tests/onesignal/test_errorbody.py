"""Every error-body shape in docs/onesignal-api.md flattens to readable messages."""

import json

from hypothesis import given
from hypothesis import strategies as st

from osctl.onesignal.errorbody import flatten_error_body


def test_list_of_strings():
    body = json.dumps({"errors": ["segment not found"]})
    assert flatten_error_body(body.encode()) == ["segment not found"]


def test_plain_string_in_errors():
    assert flatten_error_body(b'{"errors": "Notification not found"}') == ["Notification not found"]


def test_objects_with_code_title_meta():
    body = {"errors": [{"code": "Rate Limit Exceeded", "title": "Too many requests", "meta": {}}]}
    assert flatten_error_body(json.dumps(body)) == ["Too many requests (Rate Limit Exceeded)"]


def test_success_false_alone_and_empty_bodies_carry_no_message():
    assert flatten_error_body(b'{"success": false}') == []
    assert flatten_error_body(b"") == []
    assert flatten_error_body(b"   \n") == []
    assert flatten_error_body(None) == []


def test_success_false_with_errors_and_reference():
    body = {
        "errors": ["app_id not found. You may be missing a Content-Type: application/json header."],
        "reference": ["/docs/accounts-and-keys#section-keys-ids"],
        "success": False,
    }
    assert flatten_error_body(json.dumps(body)) == [body["errors"][0]]


def test_rate_limit_shape_with_limit_field():
    body = {"errors": ["API rate limit exceeded"], "limit": "1/s"}
    assert flatten_error_body(json.dumps(body)) == ["API rate limit exceeded"]


def test_field_keyed_errors():
    body = {"errors": {"name": ["is too long"], "filters": "must not be empty"}}
    assert flatten_error_body(json.dumps(body)) == ["name: is too long", "filters: must not be empty"]


def test_html_from_a_proxy_gives_its_title():
    body = (
        b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title>"
        b"<style>body{}</style></head><body><h1>503</h1></body></html>"
    )
    assert flatten_error_body(body) == ["503 Service Temporarily Unavailable"]


def test_html_without_title_gives_visible_text():
    body = b"<html><body><script>x()</script><h1>Bad   gateway</h1></body></html>"
    assert flatten_error_body(body) == ["Bad gateway"]


def test_s3_xml_error():
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
        b"<Message>The specified key does not exist.</Message><Key>x.csv.gz</Key></Error>"
    )
    assert flatten_error_body(body) == ["NoSuchKey: The specified key does not exist."]


def test_plain_text_is_one_line_and_bounded():
    assert flatten_error_body(b"upstream\n  reset") == ["upstream reset"]
    long = flatten_error_body(b"x" * 5000)
    assert len(long) == 1 and len(long[0]) <= 300


def test_invalid_utf8_does_not_raise():
    assert flatten_error_body(b"\xff\xfe oops") != []


@given(st.binary(max_size=300))
def test_any_bytes_flatten_to_a_list_of_strings(body):
    messages = flatten_error_body(body)
    assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
))
def test_any_json_flattens_to_a_list_of_strings(data):
    messages = flatten_error_body(json.dumps(data))
    assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
