"""The control API under /_emulator/, driven over HTTP as a test running osctl in a subprocess would."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from osctl.emulator.control import _is_loopback

DAY = 86400


@pytest.fixture
def control(emulator):
    with httpx.Client(base_url=f"{emulator.url}/_emulator", timeout=10) as client:
        yield client


def test_describe_lists_apps_without_keys(emulator, control):
    body = control.get("/").json()
    assert body["apps"] == [{"app_id": emulator.app_id, "account": "default", "audience": 1000,
                             "segments": 5, "messages": 5}]
    assert emulator.api_key not in json.dumps(body)


def test_clock_advance_and_set(emulator, control):
    before = control.get("/clock").json()["now"]
    after = control.post("/clock", json={"advance": 3600}).json()["now"]
    assert 3600 <= after - before < 3610
    assert control.post("/clock", json={"now": "2031-01-02T03:04:05Z"}).json()["now"] == pytest.approx(
        1925089445, abs=5)
    assert control.post("/clock", json={"advance": -1}).status_code == 400
    assert control.post("/clock", json={}).status_code == 400


def test_reset_at_a_given_time_rebuilds_the_data_around_it(emulator, control, api):
    control.post("/reset", json={"now": 1925089445})
    emulator.set_rate_limit("messages_list", None)
    newest = api.get("/notifications", params={"app_id": emulator.app_id}).json()["notifications"][0]
    assert 1925089445 - 2 * DAY < newest["queued_at"] < 1925089445
    control.post("/reset")
    assert abs(control.get("/clock").json()["now"] - emulator.now()) < 5
    assert control.get("/clock").json()["now"] < 1925089445 - 100 * DAY  # back to the real date


def test_add_app_with_account_and_sizes(emulator, control):
    app_id = "77777777-8888-4999-8aaa-bbbbbbbbbbbb"
    reply = control.post("/apps", json={"app_id": app_id, "api_key": "k7", "account": "acct",
                                        "audience": 30, "messages": 2})
    assert reply.status_code == 201
    apps = {a["app_id"]: a for a in control.get("/").json()["apps"]}
    assert apps[app_id] == {"app_id": app_id, "account": "acct", "audience": 30, "segments": 5, "messages": 2}
    assert control.post("/apps", json={"app_id": app_id, "api_key": "k7"}).status_code == 400  # exists
    assert control.post("/apps", json={"app_id": app_id}).status_code == 400  # no key
    control.post("/reset")
    assert app_id not in {a["app_id"] for a in control.get("/").json()["apps"]}


def test_data_is_deterministic_for_a_seed(emulator, api):
    emulator.set_rate_limit("messages_list", None)
    first = api.get("/notifications", params={"app_id": emulator.app_id}).json()
    emulator.reset()
    emulator.set_rate_limit("messages_list", None)
    assert api.get("/notifications", params={"app_id": emulator.app_id}).json() == first


def test_request_log_hashes_authorization(emulator, control, api):
    control.delete("/requests")
    api.get(f"/apps/{emulator.app_id}/segments", params={"limit": 2})
    api.post(f"/apps/{emulator.app_id}/segments",
             json={"name": "n", "filters": [{"field": "country", "relation": "=", "value": "US"}]})
    log = control.get("/requests").json()["requests"]
    assert [(e["method"], e["status"]) for e in log] == [("GET", 200), ("POST", 201)]
    assert log[0]["query"] == "limit=2" and log[1]["body"]["name"] == "n"
    digest = "sha256:" + hashlib.sha256(f"Key {emulator.api_key}".encode()).hexdigest()
    assert {e["authorization"] for e in log} == {digest}
    raw = control.get("/requests").text
    assert emulator.api_key not in raw
    since = control.get("/requests", params={"since": log[0]["seq"]}).json()["requests"]
    assert [e["method"] for e in since] == ["POST"]


def test_settings_latency_and_export_rate(emulator, control, api, anon):
    control.put("/settings", json={"export_rate": 10, "latency_ms": 0})
    url = api.post("/players/csv_export", params={"app_id": emulator.app_id}, json={}).json()["csv_file_url"]
    control.post("/clock", json={"advance": 90})
    assert anon.get(url).status_code == 403  # 1,000 rows at 10/s take 100 s
    control.post("/clock", json={"advance": 11})
    assert anon.get(url).status_code == 200


def test_users_of_an_app_are_listed_as_views_show_them_with_delayed_writes_once_due(emulator, control, api):
    """OneSignal has no list of users: tests find duplicates and strays with this one."""
    assert control.get(f"/apps/{emulator.app_id}/users").json() == {"users": []}
    made = api.post(f"/apps/{emulator.app_id}/users", json={
        "identity": {"external_id": "qa-a"}, "properties": {"tags": {"qa": "1"}},
        "subscriptions": [{"type": "Email", "token": "a@example.com"}]}).json()
    control.put("/settings", json={"user_write_delay": 30})
    api.patch(f"/apps/{emulator.app_id}/users/by/external_id/qa-a", json={"properties": {"tags": {"qa": "2"}}})
    assert control.get(f"/apps/{emulator.app_id}/users").json() == {"users": [made]}
    control.post("/clock", json={"advance": 31})
    (user,) = control.get(f"/apps/{emulator.app_id}/users").json()["users"]
    assert user["properties"]["tags"] == {"qa": "2"}
    assert user == api.get(f"/apps/{emulator.app_id}/users/by/external_id/qa-a").json()
    assert control.get("/apps/no-such-app/users").status_code == 400


def test_control_errors(control):
    assert control.post("/reset", content=b"{bad", headers={"Content-Type": "application/json"}).status_code == 400
    assert control.get("/nope").status_code == 404
    assert control.put("/rate_limits", json={"limits": {"nope": {"per_second": 1}}}).status_code == 400


def test_only_loopback_clients_may_use_it():
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("::ffff:127.0.0.1")
    assert not _is_loopback("192.168.1.10") and not _is_loopback("10.0.0.1")
