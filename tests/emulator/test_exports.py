"""The three CSV exports over raw HTTP (docs/onesignal-api.md#exports and the decisions after it)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from osctl.emulator.exports import ACTIVITY_COLUMNS, SUBSCRIPTION_COLUMNS
from tests.emulator.conftest import create_segment, read_csv_gz

DAY = 86400
BUSY = {"errors": ["Only one export can be in progress per account at a time."]}
US = [{"field": "country", "relation": "=", "value": "US"}]


@pytest.fixture
def slow(emulator):
    """100 records per second of emulator time: 1,000 rows take 10 s, far more than a test's wall time."""
    emulator.set_export_rate(100)
    emulator.set_rate_limit("messages_list", None)
    return emulator


def export_subscriptions(api, emulator, **body) -> str:
    response = api.post("/players/csv_export", params={"app_id": emulator.app_id}, json=body)
    assert response.status_code == 200, response.text
    return response.json()["csv_file_url"]


def first_message(api, emulator) -> dict:
    return api.get("/notifications", params={"app_id": emulator.app_id}).json()["notifications"][0]


def assert_s3_error(response, status: int, code: str):
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/xml"
    assert re.search(f"<Error><Code>{code}</Code><Message>[^<]+</Message>", response.text)


def test_subscriptions_export_is_403_until_ready_then_a_gzip_csv(slow, api, anon):
    url = export_subscriptions(api, slow)
    assert url.startswith(slow.url + "/_files/") and url.endswith(".csv.gz")
    token = url.split("/")[4]
    assert uuid.UUID(token).version == 4
    assert_s3_error(anon.get(url), 403, "AccessDenied")
    slow.advance(9)  # 1,000 rows at 100/s take 10 s
    assert_s3_error(anon.get(url), 403, "AccessDenied")
    slow.advance(1.5)
    response = anon.get(url)  # no Authorization: the URL itself is the credential
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/gzip"
    assert int(response.headers["Content-Length"]) == len(response.content)
    rows = read_csv_gz(response.content)
    assert rows[0] == SUBSCRIPTION_COLUMNS
    assert len(rows) == 1 + 1000
    assert len({row[0] for row in rows[1:]}) == 1000
    assert {row[15] for row in rows[1:]} == {"t", "f"}  # unsubscribed rows are exported too


def test_each_export_gets_a_new_random_url(emulator, api):
    first = export_subscriptions(api, emulator)
    emulator.advance(1)
    second = export_subscriptions(api, emulator)
    assert first != second and first.split("/")[4] != second.split("/")[4]


def test_extra_fields_segment_and_last_active_since(emulator, api, anon):
    create_segment(api, emulator.app_id, "US", US)
    segment_id = [s for s in api.get(f"/apps/{emulator.app_id}/segments").json()["segments"]
                  if s["name"] == "US"][0]["id"]
    count = api.get(f"/apps/{emulator.app_id}/segments/{segment_id}").json()["subscriber_count"]
    url = export_subscriptions(api, emulator, segment_name="US", extra_fields=["country", "location",
                                                                             "external_user_id"])
    emulator.advance(1)
    rows = read_csv_gz(anon.get(url).content)
    assert rows[0] == SUBSCRIPTION_COLUMNS + ["country", "lat", "long", "external_user_id"]
    assert len(rows) - 1 == count  # subscriber_count and the segment export agree
    assert {row[17] for row in rows[1:]} == {"US"} and {row[15] for row in rows[1:]} == {"f"}
    since = int(emulator.now() - 7 * DAY)
    url = export_subscriptions(api, emulator, last_active_since=str(since))
    emulator.advance(1)
    rows = read_csv_gz(anon.get(url).content)
    assert 0 < len(rows) - 1 < 1000


@pytest.mark.parametrize("body", [
    {"extra_fields": ["password"]},
    {"last_active_since": 1700000000},  # must be a string
    {"segment_name": "No such segment"},
    {"include_unsubscribed": "yes"},
])
def test_subscriptions_export_rejects_bad_requests(emulator, api, body):
    assert api.post("/players/csv_export", params={"app_id": emulator.app_id}, json=body).status_code == 400


def test_one_export_per_account_at_a_time(slow, api):
    export_subscriptions(api, slow)
    busy = api.post("/players/csv_export", params={"app_id": slow.app_id}, json={})
    assert busy.status_code == 409 and busy.json() == BUSY
    message = first_message(api, slow)
    assert api.post(f"/notifications/{message['id']}/export_events",
                    params={"app_id": slow.app_id}).status_code == 409
    # another account is not affected
    other = "33333333-4444-4555-8666-777777777777"
    slow.add_app(other, "k3", account="second", audience=20, messages=0)
    assert httpx.post(f"{slow.url}/players/csv_export", params={"app_id": other},
                      headers={"Authorization": "Key k3"}, json={}).status_code == 200
    # an app of the same account is
    same = "44444444-5555-4666-8777-888888888888"
    slow.add_app(same, "k4", account="default", audience=20, messages=0)
    assert httpx.post(f"{slow.url}/players/csv_export", params={"app_id": same},
                      headers={"Authorization": "Key k4"}, json={}).status_code == 409
    slow.advance(11)  # the first export is ready: the account is free again
    export_subscriptions(api, slow)


def test_urls_expire_after_three_days(emulator, api, anon):
    url = export_subscriptions(api, emulator)
    message = first_message(api, emulator)
    emulator.advance(1)
    events_url = api.post(f"/notifications/{message['id']}/export_events",
                          params={"app_id": emulator.app_id}).json()["csv_file_url"]
    emulator.advance(1)
    assert anon.get(url).status_code == 200 and anon.get(events_url).status_code == 200
    emulator.advance(3 * DAY - 10)
    assert anon.get(url).status_code == 200
    emulator.advance(10)
    assert_s3_error(anon.get(url), 403, "AccessDenied")
    assert_s3_error(anon.get(events_url), 404, "NoSuchKey")


def test_unknown_file_urls_are_access_denied(emulator, anon):
    assert_s3_error(anon.get(f"/_files/{uuid.uuid4()}/x.csv.gz"), 403, "AccessDenied")


def test_audience_activity_is_404_nosuchkey_until_ready(slow, api, anon):
    message = first_message(api, slow)
    response = api.post(f"/notifications/{message['id']}/export_events", params={"app_id": slow.app_id})
    assert response.status_code == 200 and set(response.json()) == {"csv_file_url"}
    url = response.json()["csv_file_url"]
    assert f"events_audience-activity-{message['id']}-push-" in url
    not_ready = anon.get(url)
    assert_s3_error(not_ready, 404, "NoSuchKey")
    assert "<Message>The specified key does not exist.</Message>" in not_ready.text
    slow.advance(11)
    rows = read_csv_gz(anon.get(url).content)
    assert rows[0] == ACTIVITY_COLUMNS
    body = rows[1:]
    recipients = message["successful"] + message["failed"] + message["errored"]
    assert len(body) == recipients
    col = {name: i for i, name in enumerate(ACTIVITY_COLUMNS)}
    assert sum(1 for r in body if r[col["sent"]]) == message["successful"]
    assert sum(1 for r in body if r[col["delivered"]]) == message["received"]
    assert sum(1 for r in body if r[col["clicked"]]) == message["converted"]
    assert sum(1 for r in body if r[col["unsubscribed"]]) == message["failed"]


def test_export_events_errors(emulator, api):
    assert api.post("/notifications/not-a-uuid/export_events", params={"app_id": emulator.app_id}).status_code == 400
    missing = api.post(f"/notifications/{uuid.uuid4()}/export_events", params={"app_id": emulator.app_id})
    assert missing.status_code == 404
    message = first_message(api, emulator)
    assert api.post(f"/notifications/{message['id']}/export_events").status_code == 400  # no app_id


def test_message_history_clicked(slow, api, anon):
    message = first_message(api, slow)
    response = api.post(f"/notifications/{message['id']}/history",
                        json={"app_id": slow.app_id, "events": "clicked"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and set(body) == {"success", "destination_url"}
    assert_s3_error(anon.get(body["destination_url"]), 403, "AccessDenied")
    slow.advance(11)
    rows = read_csv_gz(anon.get(body["destination_url"]).content)
    assert rows[0] == ["player_id", "onesignal_id", "external_id", "target_channel", "timestamp"]
    assert len(rows) - 1 == message["converted"]
    assert all(row[3] == "push" and row[4].isdigit() for row in rows[1:])


def test_message_history_sent_needs_1000_recipients(emulator, api, anon):
    small = first_message(api, emulator)  # about 830 recipients out of 1,000 subscriptions
    url = api.post(f"/notifications/{small['id']}/history",
                   json={"app_id": emulator.app_id, "events": "sent"}).json()["destination_url"]
    emulator.advance(1)
    assert read_csv_gz(anon.get(url).content) == [["player_id", "onesignal_id", "external_id", "target_channel"]]
    big = "55555555-6666-4777-8888-999999999999"
    emulator.add_app(big, "big-key", account="big", audience=3000, messages=1)
    client = httpx.Client(base_url=emulator.url, headers={"Authorization": "Key big-key"})
    message = client.get("/notifications", params={"app_id": big}).json()["notifications"][0]
    assert message["successful"] + message["failed"] + message["errored"] >= 1000
    url = client.post(f"/notifications/{message['id']}/history",
                      json={"app_id": big, "events": "sent"}).json()["destination_url"]
    emulator.advance(2)
    assert len(read_csv_gz(anon.get(url).content)) - 1 == message["successful"]


def test_message_history_errors(emulator, api):
    message = first_message(api, emulator)
    path = f"/notifications/{message['id']}/history"
    bad_email = api.post(path, json={"app_id": emulator.app_id, "events": "sent", "email": "nope"})
    assert bad_email.status_code == 400
    assert bad_email.json() == {"success": False, "errors": ["param `email` must be a valid email"]}
    assert api.post(path, json={"app_id": emulator.app_id, "events": "opened"}).status_code == 400
    assert api.post(path, json={"events": "sent"}).status_code == 400  # app_id is required
    emulator.advance(8 * DAY)  # history is only available for 7 days after the send
    assert api.post(path, json={"app_id": emulator.app_id, "events": "sent"}).status_code == 400


def test_large_export_is_streamed_from_an_uncached_audience(emulator, anon):
    # above the audience cache limit: rows are regenerated while the file is written
    app = "66666666-7777-4888-8999-aaaaaaaaaaaa"
    emulator.add_app(app, "large", account="large", audience=21_000, messages=0)
    response = httpx.post(f"{emulator.url}/players/csv_export", params={"app_id": app},
                          headers={"Authorization": "Key large"}, json={"extra_fields": ["country"]})
    emulator.advance(1)
    download = anon.get(response.json()["csv_file_url"], timeout=60)
    rows = read_csv_gz(download.content)
    assert len(rows) == 21_001 and rows[0][-1] == "country"
    assert len({row[0] for row in rows[1:]}) == 21_000


def test_exports_are_listed_by_the_control_api(emulator, api):
    export_subscriptions(api, emulator)
    jobs = httpx.get(f"{emulator.url}/_emulator/exports").json()["exports"]
    assert [(j["kind"], j["rows"], j["downloads"]) for j in jobs] == [("subscriptions", 1000, 0)]
