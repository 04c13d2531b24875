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
