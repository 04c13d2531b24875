"""Parsing OneSignal answers into osctl's types, tolerant of missing optional fields."""

from osctl.onesignal.types import LiveSegment, Message, MessagePage, SegmentDetail, SegmentPage


def test_live_segment_from_list_row():
    row = {
        "id": "seg-1", "name": "Active US", "app_id": "app", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-02T00:00:00Z", "read_only": True, "is_active": False,
    }
    segment = LiveSegment.from_json(row)
    assert (segment.id, segment.name, segment.read_only, segment.is_active) == ("seg-1", "Active US", True, False)
    assert segment.created_at == "2026-01-01T00:00:00Z"


def test_live_segment_defaults_when_optional_fields_are_missing():
    segment = LiveSegment.from_json({"id": "seg-2", "name": "X"})
    assert segment.read_only is False and segment.is_active is True and segment.app_id is None


def test_segment_page_tolerates_missing_total():
    page = SegmentPage.from_json({"segments": [{"id": "a", "name": "A"}]}, offset=0, limit=300)
    assert page.total_count is None and [s.id for s in page.segments] == ["a"]


def test_segment_detail_with_payload():
    body = {
        "subscriber_count": 42,
        "payload": {
            "id": "seg-1", "name": "Active US", "description": None, "created_at": 1700000000,
            "source": "custom",
            "filters": [{"field": "country", "relation": "=", "value": "US"}, {"operator": "OR"},
                        {"field": "location", "radius": "1000", "lat": "1.5", "long": "2"}],
        },
    }
    detail = SegmentDetail.from_json("seg-1", body)
    assert detail.subscriber_count == 42 and detail.name == "Active US"
    assert detail.filters[0] == {"field": "country", "relation": "=", "value": "US"}
    assert len(detail.filters) == 3 and detail.unsupported is False
    assert detail.source == "custom" and detail.created_at == 1700000000


def test_segment_detail_unsupported_when_any_filter_is_flagged():
    body = {"subscriber_count": 3, "payload": {"id": "s", "name": "N", "filters": [
        {"field": "tag", "relation": "exists", "key": "a"},
        {"field": "message_event", "unsupported_in_api": True},
    ]}}
    assert SegmentDetail.from_json("s", body).unsupported is True


def test_segment_detail_without_the_detail_flag():
    detail = SegmentDetail.from_json("s", {"subscriber_count": 7})
    assert detail.id == "s" and detail.subscriber_count == 7 and detail.filters == []
    assert detail.name is None and detail.unsupported is False


def test_message_counts_and_nullable_times():
    data = {
        "id": "m1", "app_id": "app", "name": "Welcome", "queued_at": 1700000000,
        "send_after": 1700000000, "completed_at": None, "successful": 10, "failed": 1,
        "errored": 0, "converted": 3, "received": 9, "remaining": None, "canceled": False,
        "platform_delivery_stats": {"ios": {"successful": 10}}, "included_segments": ["All"],
    }
    message = Message.from_json(data)
    assert message.completed_at is None and message.remaining is None
    assert message.successful == 10 and message.platform_delivery_stats["ios"]["successful"] == 10
    assert message.included_segments == ["All"] and message.recipients == 11


def test_message_with_only_an_id():
    message = Message.from_json({"id": "m2"})
    assert message.queued_at == 0 and message.successful == 0 and message.canceled is False
    assert message.platform_delivery_stats == {}


def test_message_page():
    page = MessagePage.from_json(
        {"total_count": 120, "offset": 50, "limit": 50, "notifications": [{"id": "m", "queued_at": "5"}]},
        offset=50, limit=50,
    )
    assert (page.total_count, page.offset, page.limit) == (120, 50, 50)
    assert page.messages[0].queued_at == 5


# -- answers of the wrong shape are errors, never empty results ------------------------------

import pytest  # noqa: E402

from osctl.onesignal.types import AnswerShapeError, created_segment_id, export_url, outcome_rows  # noqa: E402


@pytest.mark.parametrize("body, problem", [
    ({"segments": "nope"}, "segments is a string, expected a list"),
    ([{"id": "a", "name": "A"}], "the answer is a list, expected an object"),
    ({"total_count": 3}, "the answer has no 'segments'"),
    ({"segments": [{"id": None, "name": "A"}]}, "segments[0].id is null, expected a string"),
    ({"segments": [{"id": "a", "name": "A"}, {"id": "b", "name": 7}]}, "segments[1].name is a number, expected a string"),
    ({"segments": [{"id": "", "name": "A"}]}, "segments[0].id is empty"),
    ({"segments": [{"id": "a", "name": "A", "read_only": "false"}]},
     "segments[0].read_only is a string, expected true or false"),
])
def test_a_segment_list_of_the_wrong_shape_is_an_error(body, problem):
    with pytest.raises(AnswerShapeError) as caught:
        SegmentPage.from_json(body, offset=0, limit=300)
    assert str(caught.value) == problem


@pytest.mark.parametrize("body, problem", [
    ({"subscriber_count": 3}, "the answer has no 'payload'"),
    ({"payload": {"id": "s", "name": "N"}}, "payload has no 'filters'"),
    ({"payload": {"id": "s", "filters": {"field": "country"}}}, "payload.filters is an object, expected a list"),
    ({"payload": {"id": "s", "filters": ["country"]}}, "payload.filters[0] is a string, expected an object"),
    ({"subscriber_count": "many", "payload": {"id": "s", "filters": []}}, "subscriber_count is not a whole number"),
])
def test_a_segment_view_asked_for_detail_must_carry_its_filters(body, problem):
    with pytest.raises(AnswerShapeError) as caught:
        SegmentDetail.from_json("s", body, detail=True)
    assert str(caught.value) == problem


def test_a_view_without_detail_needs_no_payload_but_must_still_be_an_object():
    assert SegmentDetail.from_json("s", {"subscriber_count": 7}).subscriber_count == 7
    with pytest.raises(AnswerShapeError, match="^the answer is a list, expected an object$"):
        SegmentDetail.from_json("s", [])


@pytest.mark.parametrize("body, problem", [
    ({"notifications": None}, "notifications is null, expected a list"),
    ({"total_count": 0}, "the answer has no 'notifications'"),
    ({"notifications": [{"name": "no id"}]}, "notifications[0] has no 'id'"),
    ({"notifications": [{"id": "m", "queued_at": "soon"}]}, "notifications[0].queued_at is not a whole number"),
    ({"notifications": [{"id": "m", "included_segments": "All"}]},
     "notifications[0].included_segments is a string, expected a list"),
])
def test_a_message_list_of_the_wrong_shape_is_an_error(body, problem):
    with pytest.raises(AnswerShapeError) as caught:
        MessagePage.from_json(body, offset=0, limit=50)
    assert str(caught.value) == problem


def test_a_message_of_the_wrong_shape_is_an_error():
    with pytest.raises(AnswerShapeError, match=r"^successful is an object, expected a whole number$"):
        Message.from_json({"id": "m", "successful": {}})


def test_export_answers_must_hold_a_link():
    assert export_url({"csv_file_url": "https://x.invalid/a.csv.gz"}, ("csv_file_url",)) == "https://x.invalid/a.csv.gz"
    assert export_url({"destination_url": None, "csv_file_url": "http://h/f"}, ("destination_url", "csv_file_url"))
    for body, problem in [
        ({"csv_file_url": 5}, "csv_file_url is a number, expected an http(s) URL"),
        ({"csv_file_url": "s3://bucket/key"}, "csv_file_url is not an http(s) URL"),
        ({"success": True}, "the answer has no 'csv_file_url'"),
        (["https://x.invalid/a.csv.gz"], "the answer is a list, expected an object"),
    ]:
        with pytest.raises(AnswerShapeError) as caught:
            export_url(body, ("csv_file_url",))
        assert str(caught.value) == problem
        assert "s3://" not in str(caught.value)  # values are never quoted: links are bearer secrets


def test_create_and_outcome_answers():
    assert created_segment_id({"success": True, "id": "new"}) == "new"
    with pytest.raises(AnswerShapeError, match="^id is null, expected a string$"):
        created_segment_id({"success": True, "id": None})
    rows = [{"id": "os__click", "value": 3, "aggregation": "count"}]
    assert outcome_rows({"outcomes": rows}) == rows
    for body, problem in [
        ({}, "the answer has no 'outcomes'"),
        ({"outcomes": [{"id": "os__click", "value": "3", "aggregation": "count"}]},
         "outcomes[0].value is a string, expected a number"),
        ({"outcomes": [{"id": "os__click", "value": 3, "aggregation": "avg"}]},
         "outcomes[0].aggregation is not one of count, sum"),
    ]:
        with pytest.raises(AnswerShapeError) as caught:
            outcome_rows(body)
        assert str(caught.value) == problem
