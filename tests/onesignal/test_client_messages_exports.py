"""The client against the emulator: messages (paging, pacing), export requests, outcomes."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs

import pytest

from osctl.onesignal import (
    AccountBusy,
    NotFound,
    OneSignalClient,
    OneSignalRequestFailed,
    OutcomeUnknown,
)
from tests.onesignal.conftest import API_KEY, APP_ID, FakeTime


def _logged(control, fragment: str) -> list[dict]:
    return [r for r in control.requests() if fragment in r["path"]]


def _add_messages(control, count: int) -> None:
    control.call("POST", f"/apps/{APP_ID}/messages", {"count": count})


@pytest.fixture
def paced(emulator_url, control):
    """A client whose waits really pass: the emulator's view limit runs on real time."""
    real = FakeTime(real=True)
    with OneSignalClient(emulator_url, API_KEY, sleep=real.sleep, clock=real.clock) as client:
        yield client, real


def test_list_messages_gives_a_page_with_counts(client):
    page = client.list_messages(APP_ID)
    assert page.total_count >= 1 and page.offset == 0 and page.limit == 50
    message = page.messages[0]
    assert message.app_id == APP_ID and message.queued_at > 0
    assert message.successful >= 0 and isinstance(message.platform_delivery_stats, dict)


def test_get_message_and_an_unknown_one(client):
    first = client.list_messages(APP_ID).messages[0]
    fetched = client.get_message(APP_ID, first.id)
    assert fetched.id == first.id and fetched.successful == first.successful
    assert client.get_message(APP_ID, str(uuid.uuid4())) is None


def test_iter_messages_pages_newest_first_at_one_request_per_second(paced, control):
    client, real = paced
    _add_messages(control, 170)  # with the seeded ones: four pages, more than the burst of 3
    control.call("DELETE", "/requests")
    messages = list(client.iter_messages(APP_ID))
    queued = [m.queued_at for m in messages]
    assert len(messages) == len({m.id for m in messages}) >= 170
    assert queued == sorted(queued, reverse=True)
    listed = _logged(control, "/notifications")
    assert len(listed) == 4 and all(r["status"] == 200 for r in listed)
    arrivals = [r["time"] - r["duration_ms"] / 1000 for r in listed]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) >= 0.95, f"view requests {gaps} apart: not paced at 1 per second"


def test_iter_messages_stops_at_messages_older_than_asked(paced, control):
    client, _ = paced
    newest = client.list_messages(APP_ID).messages
    threshold = newest[2].queued_at
    recent = list(client.iter_messages(APP_ID, newer_than=threshold))
    assert recent and all(m.queued_at >= threshold for m in recent)
    assert {m.id for m in recent} == {m.id for m in newest if m.queued_at >= threshold}


def test_kind_is_passed_to_the_list(client, control):
    client.list_messages(APP_ID, kind=1)
    query = parse_qs(_logged(control, "/notifications")[-1]["query"])
    assert query["kind"] == ["1"] and query["app_id"] == [APP_ID]


def test_a_view_429_is_honoured(emulator_url, control):
    control.rate_limit("message_view", per_second=1, burst=1)
    real = FakeTime(real=True)
    with OneSignalClient(emulator_url, API_KEY, sleep=real.sleep, clock=real.clock,
                         rng=lambda: 0.0, view_interval=0) as client:  # pacing off: provoke it
        message_id = client.list_messages(APP_ID).messages[0].id
        client.get_message(APP_ID, message_id)
        assert client.get_message(APP_ID, message_id).id == message_id
    assert [r["status"] for r in _logged(control, f"/notifications/{message_id}")] == [200, 429, 200]
    assert real.sleeps == [1.0]


def test_subscriptions_export_returns_the_file_url_and_sends_the_documented_body(client, control):
    url = client.request_subscriptions_export(
        APP_ID, extra_fields=["country", "external_user_id"], last_active_since=1_700_000_000,
        include_unsubscribed=False)
    assert url.startswith("http://127.0.0.1:") and url.endswith(".csv.gz")
    (request,) = _logged(control, "/players/csv_export")
    assert request["body"] == {"extra_fields": ["country", "external_user_id"],
                               "last_active_since": "1700000000", "include_unsubscribed": False}
    assert parse_qs(request["query"])["app_id"] == [APP_ID]


def test_a_second_export_while_one_runs_is_account_busy(client):
    client.request_subscriptions_export(APP_ID)
    with pytest.raises(AccountBusy) as caught:
        client.request_subscriptions_export(APP_ID)
    assert caught.value.status == 409 and "one export" in str(caught.value)
    assert API_KEY not in str(caught.value)


def test_a_lost_export_answer_is_outcome_unknown_not_a_second_request(client, control):
    control.faults({"kind": "lost_answer", "path": "/players/csv_export", "times": 1})
    with pytest.raises(OutcomeUnknown):
        client.request_subscriptions_export(APP_ID)
    assert len(_logged(control, "/players/csv_export")) == 1
    with pytest.raises(AccountBusy):  # the lost one really started
        client.request_subscriptions_export(APP_ID)


def test_audience_activity_export(client):
    message_id = client.list_messages(APP_ID).messages[0].id
    url = client.request_audience_activity_export(APP_ID, message_id)
    assert url.endswith(".csv.gz") and message_id in url
    with pytest.raises(NotFound) as caught:
        client.request_audience_activity_export(APP_ID, str(uuid.uuid4()))
    assert "Notification not found" in str(caught.value)


def test_message_history_returns_the_destination_url(client, control):
    message_id = client.list_messages(APP_ID).messages[0].id
    url = client.request_message_history(APP_ID, message_id, events="clicked")
    assert url.startswith("http://127.0.0.1:") and url.endswith(".csv.gz")
    assert _logged(control, "/history")[0]["body"] == {"app_id": APP_ID, "events": "clicked"}


def test_message_history_with_a_bad_email_says_why(client):
    message_id = client.list_messages(APP_ID).messages[0].id
    with pytest.raises(OneSignalRequestFailed) as caught:
        client.request_message_history(APP_ID, message_id, events="sent", email="not-an-address")
    assert caught.value.status == 400 and "must be a valid email" in str(caught.value)
    assert caught.value.errors == ["param `email` must be a valid email"]


def test_outcomes(client, control):
    outcomes = client.outcomes(APP_ID, ["os__click.count", "purchase.sum"], time_range="1mo",
                               platforms=[0, 1], attribution="total")
    assert {(o["id"], o["aggregation"]) for o in outcomes} == {("os__click", "count"),
                                                               ("purchase", "sum")}
    assert all(isinstance(o["value"], int | float) for o in outcomes)
    query = parse_qs(_logged(control, "/outcomes")[-1]["query"])
    assert query["outcome_names"] == ["os__click.count,purchase.sum"]
    assert query["outcome_platforms"] == ["0,1"] and query["outcome_time_range"] == ["1mo"]


def test_outcome_names_with_commas_are_sent_one_by_one(client, control):
    client.outcomes(APP_ID, ["a,b.count", "os__click.count"])
    query = parse_qs(_logged(control, "/outcomes")[-1]["query"])
    assert query["outcome_names[]"] == ["a,b.count", "os__click.count"]


def test_outcomes_without_aggregation_show_onesignals_text(client):
    with pytest.raises(OneSignalRequestFailed) as caught:
        client.outcomes(APP_ID, ["os__click"])
    assert caught.value.status == 400
    assert "Add .sum or .count to every requested outcome id" in str(caught.value)
    assert f"GET /apps/{APP_ID}/outcomes" in str(caught.value)
