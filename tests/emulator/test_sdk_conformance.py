"""Conformance: OneSignal's official Python SDK, unchanged, against the emulator, for every endpoint.

A client written against the real API must work against the emulator; the SDK
is the most literal such client (it validates response types against its models).
"""

from __future__ import annotations

import time

import httpx
import onesignal
import pytest
from onesignal.api import default_api
from onesignal.model.export_subscriptions_request_body import ExportSubscriptionsRequestBody
from onesignal.model.filter import Filter
from onesignal.model.get_notification_history_request_body import GetNotificationHistoryRequestBody
from onesignal.model.operator import Operator
from onesignal.model.properties_object import PropertiesObject
from onesignal.model.segment import Segment
from onesignal.model.subscription import Subscription
from onesignal.model.subscription_body import SubscriptionBody
from onesignal.model.transfer_subscription_request_body import TransferSubscriptionRequestBody
from onesignal.model.update_segment_request import UpdateSegmentRequest
from onesignal.model.update_user_request import UpdateUserRequest
from onesignal.model.user import User
from onesignal.model.user_identity_body import UserIdentityBody

from tests.emulator.conftest import read_csv_gz


def make_sdk(url: str, key: str):
    client = onesignal.ApiClient(onesignal.Configuration(host=url, rest_api_key=key))
    return client, default_api.DefaultApi(client)


@pytest.fixture
def sdk(emulator):
    emulator.set_rate_limit("messages_list", None)
    emulator.set_rate_limit("message_view", None)
    client, api = make_sdk(emulator.url, emulator.api_key)
    with client:
        yield api


US_OR_NEAR_NYC = [Filter(field="country", relation="=", value="US"), Operator(operator="OR"),
                  Filter(field="location", radius=20000.0, lat=40.7128, long=-74.006)]


def test_segments_list_and_paging(emulator, sdk):
    page = sdk.get_segments(emulator.app_id)
    assert page.total_count == 5 and page.segments[0].name == "Subscribed Users"
    assert page.segments[0].read_only is True
    second = sdk.get_segments(emulator.app_id, offset=1, limit=2)
    assert [s.id for s in second.segments] == [s.id for s in page.segments[1:3]]


def test_segment_create_view_update_delete(emulator, sdk):
    created = sdk.create_segment(emulator.app_id, segment=Segment(name="US or NYC", filters=US_OR_NEAR_NYC))
    assert created.success is True
    plain = sdk.get_segment(emulator.app_id, created.id)
    assert plain.subscriber_count > 0
    # The SDK's FilterExpression is a oneOf of two all-optional models, so its strict
    # deserialisation rejects any filter list, whatever the server sends; read it untyped.
    detail = sdk.get_segment(emulator.app_id, created.id, include_segment_detail=True, _check_return_type=False)
    assert detail["subscriber_count"] == plain.subscriber_count
    assert detail["payload"]["name"] == "US or NYC"
    assert [dict(f) for f in detail["payload"]["filters"]] == [
        {"field": "country", "relation": "=", "value": "US"}, {"operator": "OR"},
        {"field": "location", "radius": "20000", "lat": "40.7128", "long": "-74.006"}]
    updated = sdk.update_segment(emulator.app_id, created.id, update_segment_request=UpdateSegmentRequest(
        name="VIPs", filters=[Filter(field="tag", key="vip", relation="exists")]))
    assert updated.success is True and updated.id == created.id
    assert sdk.get_segment(emulator.app_id, created.id).subscriber_count != plain.subscriber_count
    assert sdk.delete_segment(emulator.app_id, created.id).success is True
    with pytest.raises(onesignal.ApiException) as missing:
        sdk.delete_segment(emulator.app_id, created.id)
    assert missing.value.status == 404


def test_segment_detail_without_filters_is_fully_typed(emulator, sdk):
    subscribed = sdk.get_segments(emulator.app_id).segments[0]
    detail = sdk.get_segment(emulator.app_id, subscribed.id, include_segment_detail=True)
    assert detail.payload.source == "default" and detail.payload.filters == []
    assert isinstance(detail.payload.created_at, int)


def test_duplicate_name_and_invalid_filters_raise_api_exceptions(emulator, sdk):
    segment = Segment(name="Twice", filters=[Filter(field="session_count", relation=">", value="3")])
    sdk.create_segment(emulator.app_id, segment=segment)
    with pytest.raises(onesignal.ApiException) as conflict:
        sdk.create_segment(emulator.app_id, segment=segment)
    assert conflict.value.status == 409
    assert conflict.value.error_messages == ["Segment name is already taken."]
    with pytest.raises(onesignal.ApiException) as invalid:
        sdk.create_segment(emulator.app_id, segment=Segment(
            name="bad", filters=[Filter(field="session_count", relation="exists")]))
    assert invalid.value.status == 400 and "not valid for field" in invalid.value.error_messages[0]


def test_wrong_key_is_access_denied(emulator):
    client, api = make_sdk(emulator.url, "wrong")
    with client, pytest.raises(onesignal.ApiException) as denied:
        api.get_segments(emulator.app_id)
    assert denied.value.status == 403 and denied.value.error_messages[0].startswith("Access denied.")


def test_messages_list_and_view(emulator, sdk):
    page = sdk.get_notifications(emulator.app_id, limit=2, offset=0)
    assert page.total_count == 5 and len(page.notifications) == 2
    api_kind = sdk.get_notifications(emulator.app_id, kind=1)
    assert 0 < len(api_kind.notifications) < 5
    message = sdk.get_notification(emulator.app_id, page.notifications[0].id)
    assert message.id == page.notifications[0].id
    assert message.successful == page.notifications[0].successful > 0
    assert message.queued_at < message.completed_at and message.remaining == 0
    # (platform_delivery_stats is checked over raw HTTP: the SDK's allOf composition keeps
    # it as a dict in three parts and a model in the fourth, then refuses to read it)


def test_sdk_honours_the_429_retry_after_of_the_view_endpoints(emulator):
    client, api = make_sdk(emulator.url, emulator.api_key)
    started = time.monotonic()
    with client:
        pages = [api.get_notifications(emulator.app_id, limit=1) for _ in range(5)]
    assert all(len(p.notifications) == 1 for p in pages)  # the SDK waited and retried by itself
    statuses = [e["status"] for e in emulator.requests() if e["path"] == "/notifications"]
    assert statuses.count(429) >= 1 and statuses.count(200) == 5
    assert time.monotonic() - started >= 1


def test_subscriptions_export(emulator, sdk):
    answer = sdk.export_subscriptions(emulator.app_id, export_subscriptions_request_body=(
        ExportSubscriptionsRequestBody(extra_fields=["country", "external_user_id"], segment_name="Active Users")))
    emulator.advance(1)
    rows = read_csv_gz(httpx.get(answer.csv_file_url).content)
    active = [s for s in sdk.get_segments(emulator.app_id).segments if s.name == "Active Users"][0]
    assert len(rows) - 1 == sdk.get_segment(emulator.app_id, active.id).subscriber_count
    assert rows[0][-2:] == ["country", "external_user_id"]


def test_audience_activity_export(emulator, sdk):
    message = sdk.get_notifications(emulator.app_id, limit=1).notifications[0]
    answer = sdk.export_events(message.id, emulator.app_id)
    emulator.advance(1)
    rows = read_csv_gz(httpx.get(answer.csv_file_url).content)
    assert len(rows) - 1 == message.successful + message.failed + message.errored


def test_message_history_export(emulator, sdk):
    message = sdk.get_notifications(emulator.app_id, limit=1).notifications[0]
    answer = sdk.get_notification_history(message.id, GetNotificationHistoryRequestBody(
        events="clicked", app_id=emulator.app_id))
    assert answer.success is True
    emulator.advance(1)
    rows = read_csv_gz(httpx.get(answer.destination_url).content)
    assert len(rows) - 1 == message.converted


def test_outcomes(emulator, sdk):
    clicks = sum(m.converted for m in sdk.get_notifications(emulator.app_id).notifications)
    answer = sdk.get_outcomes(emulator.app_id, "os__click.count,purchase.sum", outcome_time_range="1mo",
                              outcome_attribution="total")
    assert [(o.id, o.aggregation) for o in answer.outcomes] == [("os__click", "count"), ("purchase", "sum")]
    assert answer.outcomes[0].value == clicks
    with pytest.raises(onesignal.ApiException) as bad:
        sdk.get_outcomes(emulator.app_id, "purchase")
    assert bad.value.error_messages == ["Add .sum or .count to every requested outcome id"]


def test_user_create_view_update_aliases_subscriptions_and_delete(emulator, sdk):
    """The SDK's user calls (typed models throughout) on a test user."""
    emulator.set_rate_limit("user_view", None)
    app = emulator.app_id
    created = sdk.create_user(app, User(
        identity={"external_id": "qa-alice"},
        properties=PropertiesObject(tags={"qa": "1", "cohort": "spring"}, language="en", timezone_id="Europe/Berlin"),
        subscriptions=[Subscription(type="Email", token="alice+qa@example.com")]))
    assert created.identity["external_id"] == "qa-alice" and created.identity["onesignal_id"]
    viewed = sdk.get_user(app, "external_id", "qa-alice")
    assert viewed.properties.tags == {"qa": "1", "cohort": "spring"} and viewed.properties.language == "en"
    assert [(s.type, s.token) for s in viewed.subscriptions] == [("Email", "alice+qa@example.com")]

    sdk.update_user(app, "external_id", "qa-alice", UpdateUserRequest(
        properties=PropertiesObject(tags={"cohort": "summer", "qa": ""})))
    assert sdk.get_user(app, "external_id", "qa-alice").properties.tags == {"cohort": "summer"}

    aliases = sdk.create_alias(app, "external_id", "qa-alice", UserIdentityBody(identity={"crm_id": "qa-12345"}))
    assert aliases.identity["crm_id"] == "qa-12345"
    assert sdk.get_user(app, "crm_id", "qa-12345").identity["external_id"] == "qa-alice"
    sdk.delete_alias(app, "external_id", "qa-alice", "crm_id")
    assert "crm_id" not in sdk.get_user(app, "external_id", "qa-alice").identity

    added = sdk.create_subscription(app, "external_id", "qa-alice", SubscriptionBody(
        subscription=Subscription(type="SMS", token="+15555550100")))
    sms = added.subscription.id
    sdk.delete_subscription(app, sms)
    assert [s.type for s in sdk.get_user(app, "external_id", "qa-alice").subscriptions] == ["Email"]

    sdk.create_user(app, User(identity={"external_id": "qa-device-owner"},
                              subscriptions=[Subscription(type="AndroidPush", token="push-token-1")]))
    device = sdk.get_user(app, "external_id", "qa-device-owner").subscriptions[0].id
    moved = sdk.transfer_subscription(app, device, TransferSubscriptionRequestBody(identity={"external_id": "qa-alice"}))
    assert moved.identity["external_id"] == "qa-alice"
    assert device in [s.id for s in sdk.get_user(app, "external_id", "qa-alice").subscriptions]

    sdk.delete_user(app, "external_id", "qa-alice")
    with pytest.raises(onesignal.ApiException) as gone:
        sdk.get_user(app, "external_id", "qa-alice")
    assert gone.value.status == 404
