"""Messages: view messages and view one message (docs/onesignal-api.md#messages), and their rate limit
(#pacing-of-view-endpoints)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

DAY = 86400


@pytest.fixture
def unlimited(emulator):
    """Lift the view endpoints' 1 req/s limit for tests about something else."""
    emulator.set_rate_limit("messages_list", None)
    emulator.set_rate_limit("message_view", None)
    return emulator


def list_messages(api, emulator, **params):
    response = api.get("/notifications", params={"app_id": emulator.app_id, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_list_is_newest_first_with_counts_that_add_up(unlimited, api):
    body = list_messages(api, unlimited)
    assert body["total_count"] == 5 and body["offset"] == 0 and body["limit"] == 50
    messages = body["notifications"]
    queued = [m["queued_at"] for m in messages]
    assert queued == sorted(queued, reverse=True)
    for m in messages:
        assert m["app_id"] == unlimited.app_id and m["remaining"] == 0 and m["canceled"] is False
        assert m["queued_at"] < m["completed_at"] <= unlimited.now()
        assert m["successful"] > 0 and m["received"] <= m["successful"] and m["converted"] <= m["received"]
        per_platform = m["platform_delivery_stats"].values()
        for key in ("successful", "failed", "errored", "converted", "received"):
            assert sum(p[key] for p in per_platform) == m[key]


def test_list_paging_kind_filter_and_limit_cap(unlimited, api):
    everything = list_messages(api, unlimited)["notifications"]
    page = list_messages(api, unlimited, limit=2, offset=1)
    assert [m["id"] for m in page["notifications"]] == [m["id"] for m in everything[1:3]]
    assert list_messages(api, unlimited, limit=500)["limit"] == 50
    api_only = list_messages(api, unlimited, kind=1)
    assert api_only["total_count"] == 5  # total_count counts every message of the app (DOC)
    assert 0 < len(api_only["notifications"]) < 5
    dashboard = list_messages(api, unlimited, kind=0)["notifications"]
    assert not {m["id"] for m in dashboard} & {m["id"] for m in api_only["notifications"]}
    assert api.get("/notifications", params={"app_id": unlimited.app_id, "kind": 2}).status_code == 400
    assert list_messages(api, unlimited, offset=99)["notifications"] == []


def test_time_offset_pages_ascending_and_skips_exact_matches(unlimited, api):
    everything = sorted(list_messages(api, unlimited)["notifications"], key=lambda m: m["queued_at"])
    oldest = everything[0]["queued_at"]
    start = datetime.fromtimestamp(oldest, UTC).isoformat().replace("+00:00", "Z")
    first = list_messages(api, unlimited, time_offset=start, limit=2)
    assert [m["id"] for m in first["notifications"]] == [m["id"] for m in everything[1:3]]
    second = list_messages(api, unlimited, time_offset=first["next_time_offset"], limit=2)
    assert [m["id"] for m in second["notifications"]] == [m["id"] for m in everything[3:5]]
    last = list_messages(api, unlimited, time_offset=second["next_time_offset"], limit=2)
    assert last["notifications"] == [] and "next_time_offset" not in last
    both = api.get("/notifications", params={"app_id": unlimited.app_id, "time_offset": start, "offset": 0})
    assert both.status_code == 400


def test_view_one_message(unlimited, api):
    listed = list_messages(api, unlimited)["notifications"][0]
    response = api.get(f"/notifications/{listed['id']}", params={"app_id": unlimited.app_id})
    assert response.status_code == 200 and response.json() == listed
    missing = api.get("/notifications/00000000-0000-4000-8000-000000000000", params={"app_id": unlimited.app_id})
    assert missing.status_code == 404 and missing.json() == {"errors": ["Notification not found"]}
    assert api.get(f"/notifications/{listed['id']}").status_code == 400  # app_id is required


def test_view_with_outcomes(unlimited, api):
    listed = list_messages(api, unlimited)["notifications"][0]
    body = api.get(f"/notifications/{listed['id']}",
                   params={"app_id": unlimited.app_id, "outcome_names": "os__click.count"}).json()
    assert body["outcomes"] == [{"id": "os__click", "value": listed["converted"], "aggregation": "count"}]


def test_api_messages_are_kept_30_days_dashboard_ones_for_ever(unlimited, api):
    before = list_messages(api, unlimited)["notifications"]
    unlimited.advance(31 * DAY)
    after = list_messages(api, unlimited)["notifications"]
    assert after and len(after) < len(before)
    api_message = next(m for m in before if m["id"] not in {a["id"] for a in after})
    assert api.get(f"/notifications/{api_message['id']}", params={"app_id": unlimited.app_id}).status_code == 404
    assert unlimited.app_id and list_messages(api, unlimited, kind=1)["notifications"] == []


def test_view_endpoints_allow_about_one_request_per_second(emulator, api):
    statuses = [api.get("/notifications", params={"app_id": emulator.app_id, "limit": 1}) for _ in range(5)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]  # the burst
    limited = statuses[-1]
    assert limited.status_code == 429
    assert limited.json() == {"errors": ["API rate limit exceeded"]}
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    # per endpoint: viewing one message has its own budget
    message_id = statuses[0].json()["notifications"][0]["id"]
    assert api.get(f"/notifications/{message_id}", params={"app_id": emulator.app_id}).status_code == 200
    time.sleep(retry_after)
    assert api.get("/notifications", params={"app_id": emulator.app_id, "limit": 1}).status_code == 200


def test_limits_are_per_app(emulator, api):
    other = "22222222-3333-4444-8555-666666666666"
    emulator.add_app(other, "k2", audience=50, messages=1)
    for _ in range(4):
        api.get("/notifications", params={"app_id": emulator.app_id})
    assert api.get("/notifications", params={"app_id": emulator.app_id}).status_code == 429
    assert httpx.get(f"{emulator.url}/notifications", params={"app_id": other},
                     headers={"Authorization": "Key k2"}).status_code == 200


def test_any_endpoint_can_be_limited_through_the_control_api(emulator, api):
    reply = httpx.put(f"{emulator.url}/_emulator/rate_limits",
                      json={"limits": {"segment_create": {"per_second": 0.5, "burst": 1}}})
    assert reply.json()["limits"]["segment_create"] == {"per_second": 0.5, "burst": 1}
    path = f"/apps/{emulator.app_id}/segments"
    filters = [{"field": "country", "relation": "=", "value": "US"}]
    assert api.post(path, json={"name": "one", "filters": filters}).status_code == 201
    second = api.post(path, json={"name": "two", "filters": filters})
    assert second.status_code == 429 and second.headers["Retry-After"] == "2"
    assert api.get(path).status_code == 200  # other endpoints are not affected
    httpx.put(f"{emulator.url}/_emulator/rate_limits", json={"limits": {"segment_create": None}})
    assert api.post(path, json={"name": "two", "filters": filters}).status_code == 201


def test_messages_added_through_the_control_api(unlimited, api):
    reply = httpx.post(f"{unlimited.url}/_emulator/apps/{unlimited.app_id}/messages", json={"messages": [
        {"name": "Fresh", "kind": "dashboard", "channel": "email", "queued_at": unlimited.now() - 60},
    ]})
    assert reply.status_code == 201
    [fresh_id] = reply.json()["ids"]
    newest = list_messages(api, unlimited)["notifications"][0]
    assert newest["id"] == fresh_id and newest["name"] == "Fresh"
    assert set(newest["platform_delivery_stats"]) == {"email"}
    seeded = httpx.post(f"{unlimited.url}/_emulator/apps/{unlimited.app_id}/messages", json={"count": 2})
    assert len(seeded.json()["ids"]) == 2
    assert list_messages(api, unlimited)["total_count"] == 8
