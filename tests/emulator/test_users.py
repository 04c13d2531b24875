"""Users, aliases and subscriptions on the emulator: the behaviours osctl's test users rely on."""

from __future__ import annotations

import httpx

from tests.emulator.conftest import create_segment, read_csv_gz

QA = [{"field": "tag", "key": "qa", "relation": "=", "value": "1"}]


def create_user(api, app_id, external_id, *, tags=None, subscriptions=(), **identity):
    body = {"identity": {"external_id": external_id, **identity},
            "properties": {"tags": tags or {}, "language": "en"},
            "subscriptions": [{"type": t, "token": token} for t, token in subscriptions]}
    return api.post(f"/apps/{app_id}/users", json=body)


def view(api, app_id, external_id):
    return api.get(f"/apps/{app_id}/users/by/external_id/{external_id}")


def test_create_view_update_delete_a_user(api, emulator):
    app = emulator.app_id
    made = create_user(api, app, "qa-alice", tags={"qa": "1", "cohort": "spring"},
                       subscriptions=[("Email", "alice+qa@example.com")], crm_id="qa-12345")
    assert made.status_code == 201, made.text
    onesignal_id = made.json()["identity"]["onesignal_id"]
    user = view(api, app, "qa-alice").json()
    assert user["identity"] == {"external_id": "qa-alice", "crm_id": "qa-12345", "onesignal_id": onesignal_id}
    assert user["properties"]["tags"] == {"qa": "1", "cohort": "spring"}
    assert [(s["type"], s["token"]) for s in user["subscriptions"]] == [("Email", "alice+qa@example.com")]
    # tags merge; an empty value removes one
    updated = api.patch(f"/apps/{app}/users/by/external_id/qa-alice",
                        json={"properties": {"tags": {"cohort": "", "level": "2"}, "language": "de"}})
    assert updated.status_code == 202
    user = view(api, app, "qa-alice").json()
    assert user["properties"]["tags"] == {"qa": "1", "level": "2"} and user["properties"]["language"] == "de"
    assert api.delete(f"/apps/{app}/users/by/external_id/qa-alice").status_code == 200
    gone = view(api, app, "qa-alice")
    assert gone.status_code == 404 and gone.json()["errors"][0]["title"] == "User not found"


def test_aliases_on_create_look_up_the_existing_user_and_conflicts_are_409(api, emulator):
    app = emulator.app_id
    first = create_user(api, app, "qa-bob").json()["identity"]["onesignal_id"]
    again = create_user(api, app, "qa-bob", tags={"qa": "1"})
    assert again.status_code == 200 and again.json()["identity"]["onesignal_id"] == first
    create_user(api, app, "qa-carol", crm_id="c-1")
    clash = create_user(api, app, "qa-bob", crm_id="c-1")
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["meta"]["conflicting_aliases"] == {"external_id": "qa-bob", "crm_id": "c-1"}
    upsert = api.patch(f"/apps/{app}/users/by/external_id/qa-bob/identity", json={"identity": {"crm_id": "c-1"}})
    assert upsert.status_code == 409
    assert api.patch(f"/apps/{app}/users/by/external_id/qa-bob/identity",
                     json={"identity": {"crm_id": "b-1"}}).json()["identity"]["crm_id"] == "b-1"
    assert api.delete(f"/apps/{app}/users/by/external_id/qa-bob/identity/crm_id").status_code == 200
    assert "crm_id" not in view(api, app, "qa-bob").json()["identity"]


def test_an_email_owned_by_another_user_is_transferred_silently(api, emulator):
    app = emulator.app_id
    create_user(api, app, "real-customer", subscriptions=[("Email", "shared@example.com")])
    taken = create_user(api, app, "qa-dave", subscriptions=[("Email", "shared@example.com")])
    assert taken.status_code == 201  # no error: OneSignal moves the address
    assert view(api, app, "real-customer").json()["subscriptions"] == []
    assert [s["token"] for s in view(api, app, "qa-dave").json()["subscriptions"]] == ["shared@example.com"]


def test_subscriptions_added_changed_moved_and_deleted(api, emulator):
    app = emulator.app_id
    create_user(api, app, "qa-erin")
    create_user(api, app, "qa-frank")
    added = api.post(f"/apps/{app}/users/by/external_id/qa-erin/subscriptions",
                     json={"subscription": {"type": "SMS", "token": "+15555550100"}})
    assert added.status_code == 201
    sub_id = added.json()["subscription"]["id"]
    assert api.patch(f"/apps/{app}/subscriptions/{sub_id}",
                     json={"subscription": {"enabled": False}}).status_code == 202
    assert view(api, app, "qa-erin").json()["subscriptions"][0]["enabled"] is False
    moved = api.patch(f"/apps/{app}/subscriptions/{sub_id}/owner", json={"identity": {"external_id": "qa-frank"}})
    assert moved.status_code == 200
    assert view(api, app, "qa-erin").json()["subscriptions"] == []
    assert api.delete(f"/apps/{app}/subscriptions/{sub_id}").status_code == 202
    assert view(api, app, "qa-frank").json()["subscriptions"] == []
    assert api.delete(f"/apps/{app}/subscriptions/{sub_id}").status_code == 404


def test_writes_become_visible_after_the_write_delay(api, emulator):
    app = emulator.app_id
    httpx.put(f"{emulator.url}/_emulator/settings", json={"user_write_delay": 30}).raise_for_status()
    made = create_user(api, app, "qa-gina", tags={"qa": "1"})
    assert made.status_code == 202
    assert view(api, app, "qa-gina").status_code == 404  # accepted, not yet applied
    httpx.post(f"{emulator.url}/_emulator/clock", json={"advance": 31}).raise_for_status()
    assert view(api, app, "qa-gina").json()["properties"]["tags"] == {"qa": "1"}


def test_a_create_repeated_before_the_first_is_applied_makes_one_user(api, emulator):
    """An external id belongs to one user: a create repeated while the first is only accepted
    (a client asking again after a lost answer) is applied to the user the first one made."""
    app = emulator.app_id
    httpx.put(f"{emulator.url}/_emulator/settings", json={"user_write_delay": 30}).raise_for_status()
    assert create_user(api, app, "qa-gina", tags={"qa": "1"},
                       subscriptions=[("Email", "gina@example.com")]).status_code == 202
    assert create_user(api, app, "qa-gina", tags={"level": "2"},
                       subscriptions=[("SMS", "+15555550100")]).status_code == 202
    httpx.post(f"{emulator.url}/_emulator/clock", json={"advance": 31}).raise_for_status()
    users = httpx.get(f"{emulator.url}/_emulator/apps/{app}/users").json()["users"]
    assert [u["identity"]["external_id"] for u in users] == ["qa-gina"]
    assert users[0]["properties"]["tags"] == {"qa": "1", "level": "2"}
    assert sorted(s["token"] for s in users[0]["subscriptions"]) == ["+15555550100", "gina@example.com"]


def test_users_are_part_of_the_audience_segments_and_the_subscriptions_export_see(api, emulator):
    app = emulator.app_id
    segment_id = create_segment(api, app, "QA testers", QA)
    count = api.get(f"/apps/{app}/segments/{segment_id}").json()["subscriber_count"]
    assert count == 0
    create_user(api, app, "qa-hal", tags={"qa": "1"}, subscriptions=[("Email", "hal+qa@example.com"),
                                                                     ("SMS", "+15555550101")])
    assert api.get(f"/apps/{app}/segments/{segment_id}").json()["subscriber_count"] == 2
    export = api.post("/players/csv_export", params={"app_id": app}, json={"segment_name": "QA testers"})
    assert export.status_code == 200, export.text
    rows = read_csv_gz(httpx.get(export.json()["csv_file_url"]).content)
    header = rows[0]
    tokens = sorted(r[header.index("identifier")] for r in rows[1:])
    assert tokens == ["+15555550101", "hal+qa@example.com"]


def test_user_views_are_limited_to_about_one_per_second(api, emulator):
    create_user(api, emulator.app_id, "qa-ivy")
    answers = [view(api, emulator.app_id, "qa-ivy") for _ in range(6)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and all(int(a.headers["Retry-After"]) >= 1 for a in limited)


def test_odd_input_is_a_400_never_a_500(api, emulator):
    app = emulator.app_id
    for body in ({"identity": {"external_id": 5}}, {"properties": {"tags": {"a": 1}}}, {"properties": []},
                 {"subscriptions": [{"type": "Pager", "token": "x"}]}, {"identity": {"onesignal_id": "x"}}):
        assert api.post(f"/apps/{app}/users", json=body).status_code == 400, body
    assert view(api, app, "qa%2Fslash").status_code == 404


def test_the_whole_app_export_lists_users_addresses_with_their_external_id(api, emulator):
    # what osctl reads to learn who holds an address (docs/onesignal-api.md#subscriptions-csv-export)
    app = emulator.app_id
    create_user(api, app, "qa-jo", subscriptions=[("Email", "jo+qa@example.com"), ("SMS", "+15555550102")])
    export = api.post("/players/csv_export", params={"app_id": app}, json={"extra_fields": ["external_user_id"]})
    assert export.status_code == 200, export.text
    rows = read_csv_gz(httpx.get(export.json()["csv_file_url"]).content)
    header = rows[0]
    columns = [header.index(name) for name in ("identifier", "device_type", "external_user_id")]
    found = {tuple(row[i] for i in columns) for row in rows[1:]}
    assert {("jo+qa@example.com", "11", "qa-jo"), ("+15555550102", "14", "qa-jo")} <= found
    assert len(rows) - 1 > 2  # the seeded audience too: the export is of the whole app
