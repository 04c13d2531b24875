"""Segments over raw HTTP: list, create, view, update, delete (docs/onesignal-api.md#segments,
#duplicate-segment-names, #the-segment-list, #the-200-entry-limit)."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import create_segment

US = [{"field": "country", "relation": "=", "value": "US"}]


def segments_path(emulator) -> str:
    return f"/apps/{emulator.app_id}/segments"


def test_a_fresh_app_lists_the_builtin_segments_oldest_first(emulator, api):
    body = api.get(segments_path(emulator)).json()
    names = [s["name"] for s in body["segments"]]
    assert names[0] == "Subscribed Users" and "Active Users" in names
    assert body["total_count"] == len(names) and body["offset"] == 0 and body["limit"] == 300
    subscribed = body["segments"][0]
    assert subscribed["read_only"] is True and subscribed["is_active"] is True
    assert set(subscribed) == {"id", "name", "created_at", "updated_at", "app_id", "read_only", "is_active"}
    assert subscribed["created_at"].endswith("Z")
    created = [s["created_at"] for s in body["segments"]]
    assert created == sorted(created)


def test_list_never_returns_filters(emulator, api):
    create_segment(api, emulator.app_id, "US", US)
    assert all("filters" not in s for s in api.get(segments_path(emulator)).json()["segments"])


def test_paging_edges(emulator, api):
    builtins = api.get(segments_path(emulator)).json()["total_count"]
    for i in range(7):
        create_segment(api, emulator.app_id, f"seg {i}", US)
    total = builtins + 7
    page = api.get(segments_path(emulator), params={"offset": 3, "limit": 4}).json()
    assert page["total_count"] == total and page["offset"] == 3 and page["limit"] == 4
    assert len(page["segments"]) == 4
    everything = api.get(segments_path(emulator)).json()["segments"]
    assert [s["id"] for s in page["segments"]] == [s["id"] for s in everything[3:7]]
    last = api.get(segments_path(emulator), params={"offset": total - 1}).json()
    assert [s["name"] for s in last["segments"]] == ["seg 6"]
    beyond = api.get(segments_path(emulator), params={"offset": total + 5}).json()
    assert beyond["segments"] == [] and beyond["total_count"] == total
    # the limit is capped at 300, not rejected
    assert api.get(segments_path(emulator), params={"limit": 1000}).json()["limit"] == 300
    assert api.get(segments_path(emulator), params={"limit": 0}).status_code == 400
    assert api.get(segments_path(emulator), params={"offset": -1}).status_code == 400
    assert api.get(segments_path(emulator), params={"limit": "ten"}).status_code == 400


def test_create_answers_201_with_a_new_uuid(emulator, api):
    response = api.post(segments_path(emulator), json={"name": "US users", "filters": US})
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and len(body["id"]) == 36
    names = [s["name"] for s in api.get(segments_path(emulator)).json()["segments"]]
    assert names[-1] == "US users"  # newest last


def test_create_with_a_client_chosen_id(emulator, api):
    wanted = "7a4d9c39-2f0b-4c9e-9d8e-2b7a1f0c3d11"
    response = api.post(segments_path(emulator), json={"id": wanted, "name": "mine", "filters": US})
    assert response.status_code == 201 and response.json()["id"] == wanted


def test_duplicate_name_on_create_is_409(emulator, api):
    create_segment(api, emulator.app_id, "Dup", US)
    response = api.post(segments_path(emulator), json={"name": "Dup", "filters": US})
    assert response.status_code == 409
    assert response.json() == {"success": False, "errors": ["Segment name is already taken."]}
    assert api.post(segments_path(emulator), json={"name": "Subscribed Users", "filters": US}).status_code == 409


def test_200_entry_limit_counts_operators(emulator, api):
    filters = [US[0]]
    while len(filters) < 199:
        filters += [{"operator": "OR"}, US[0]]
    assert len(filters) == 199
    assert api.post(segments_path(emulator), json={"name": "199", "filters": filters}).status_code == 201
    two_hundred = filters + [{"field": "tag", "key": "vip", "relation": "exists"}]
    assert api.post(segments_path(emulator), json={"name": "200", "filters": two_hundred}).status_code == 201
    too_many = two_hundred + [{"operator": "AND"}, US[0]]
    response = api.post(segments_path(emulator), json={"name": "202", "filters": too_many})
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert "200" in response.json()["errors"][0]


@pytest.mark.parametrize("body, fragment", [
    ({"filters": US}, "name"),
    ({"name": "", "filters": US}, "name"),
    ({"name": "x" * 129, "filters": US}, "128"),
    ({"name": "no filters"}, "filters"),
    ({"name": "empty", "filters": []}, "between 1 and 200"),
    ({"name": "n", "filters": [{"field": "session_count", "relation": ">", "value": 5}]}, "string"),
    ({"name": "n", "filters": [{"field": "last_session", "relation": "<", "hours_ago": 72}]}, "string"),
    ({"name": "n", "filters": [{"field": "session_count", "relation": "exists"}]}, "not valid for field"),
    ({"name": "n", "filters": [{"field": "country", "relation": "=", "value": "us"}]}, "upper case"),
    ({"name": "n", "filters": [{"field": "tag", "relation": "=", "value": "1"}]}, "requires 'key'"),
    ({"name": "n", "filters": [{"field": "tag", "key": "a", "relation": "exists", "value": "1"}]}, "unexpected"),
    ({"name": "n", "filters": [{"operator": "OR"}, US[0]]}, "must follow a filter"),
    ({"name": "n", "filters": [US[0], {"operator": "OR"}]}, "end with an operator"),
    ({"name": "n", "filters": [US[0], {"operator": "OR"}, {"operator": "AND"}, US[0]]}, "must follow"),
    ({"name": "n", "filters": [US[0], {"operator": "XOR"}, US[0]]}, "operator"),
    ({"name": "n", "filters": [{"field": "location", "relation": "=", "radius": 1, "lat": 1, "long": 1}]},
     "no relation"),
    ({"name": "n", "filters": [{"field": "location", "radius": 1, "lat": 91, "long": 1}]}, "lat"),
    ({"name": "n", "filters": [{"field": "device_type", "relation": "=", "value": "1"}]}, "not supported"),
    ({"name": "n", "filters": [{"field": "language", "relation": "in_array",
                                "value": ",".join(["en"] * 21)}]}, "at most 20"),
])
def test_invalid_segments_are_400_with_a_reason(emulator, api, body, fragment):
    response = api.post(segments_path(emulator), json=body)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["success"] is False
    assert any(fragment in message for message in payload["errors"]), payload


def test_every_documented_field_is_accepted(emulator, api):
    filters = [
        {"field": "tag", "key": "level", "relation": ">", "value": "10"},
        {"field": "tag", "key": "signup_ts", "relation": "time_elapsed_gt", "value": "86400"},
        {"field": "last_session", "relation": "<", "hours_ago": "72.5"},
        {"field": "first_session", "relation": ">", "hours_ago": "1"},
        {"operator": "OR"},
        {"field": "session_count", "relation": "!=", "value": "3"},
        {"field": "session_time", "relation": ">", "value": "600"},
        {"field": "language", "relation": "not_in_array", "value": "en,de"},
        {"operator": "AND"},
        {"field": "app_version", "relation": "=", "value": "2.1.0"},
        {"operator": "OR"},
        {"field": "country", "relation": "not_exists"},
        {"field": "location", "radius": "5000", "lat": 40.7, "long": "-74.0"},
    ]
    assert api.post(segments_path(emulator), json={"name": "all fields", "filters": filters}).status_code == 201


def test_a_body_not_declared_as_json_is_not_understood(emulator, api):
    response = api.post(segments_path(emulator), content=b'{"name": "x", "filters": []}',
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert "Content-Type: application/json" in response.json()["errors"][0]
    bad_json = api.post(segments_path(emulator), content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400


def test_view_counts_subscribers_and_detail_returns_stored_filters(emulator, api):
    filters = [US[0], {"operator": "AND"}, {"field": "location", "radius": 100000, "lat": 40.7, "long": -74.0}]
    response = api.post(segments_path(emulator),
                        json={"name": "NY", "filters": filters, "description": "near New York"})
    segment_id = response.json()["id"]
    plain = api.get(f"{segments_path(emulator)}/{segment_id}").json()
    assert set(plain) == {"subscriber_count"} and isinstance(plain["subscriber_count"], int)
    detail = api.get(f"{segments_path(emulator)}/{segment_id}", params={"include-segment-detail": "true"}).json()
    assert detail["subscriber_count"] == plain["subscriber_count"]
    payload = detail["payload"]
    assert payload["id"] == segment_id and payload["name"] == "NY" and payload["description"] == "near New York"
    assert payload["source"] == "custom" and isinstance(payload["created_at"], int)
    # as stored, except that location numbers come back as strings (DOC:view-segment)
    assert payload["filters"] == [US[0], {"operator": "AND"},
                                  {"field": "location", "radius": "100000", "lat": "40.7", "long": "-74"}]


def test_builtin_segment_details(emulator, api):
    segments = {s["name"]: s["id"] for s in api.get(segments_path(emulator)).json()["segments"]}
    subscribed = api.get(f"{segments_path(emulator)}/{segments['Subscribed Users']}",
                         params={"include-segment-detail": "true"}).json()
    assert subscribed["payload"]["filters"] == [] and subscribed["payload"]["source"] == "default"
    assert 800 < subscribed["subscriber_count"] < 1000  # about 92% of the 1,000 are subscribed
    dashboard_only = api.get(f"{segments_path(emulator)}/{segments['Clicked Last Campaign']}",
                             params={"include-segment-detail": "true"}).json()
    assert dashboard_only["payload"]["filters"][0]["unsupported_in_api"] is True


def test_view_of_unknown_segment_is_404(emulator, api):
    response = api.get(f"{segments_path(emulator)}/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"errors": ["segment not found"]}


def test_update_replaces_filters_and_keeps_the_id(emulator, api):
    segment_id = create_segment(api, emulator.app_id, "US", US)
    path = f"{segments_path(emulator)}/{segment_id}"
    before = api.get(path).json()["subscriber_count"]
    de = [{"field": "country", "relation": "=", "value": "DE"}]
    response = api.patch(path, json={"name": "DE", "filters": de, "description": "Germany"})
    assert response.status_code == 200
    assert response.json() == {"success": True, "id": segment_id}
    detail = api.get(path, params={"include-segment-detail": "true"}).json()
    assert detail["payload"]["name"] == "DE" and detail["payload"]["filters"] == de
    assert detail["payload"]["description"] == "Germany"
    assert detail["subscriber_count"] != before
    # name only: filters and description are kept; "" clears the description
    assert api.patch(path, json={"name": "DE2"}).status_code == 200
    assert api.get(path, params={"include-segment-detail": "true"}).json()["payload"]["filters"] == de
    api.patch(path, json={"name": "DE2", "description": ""})
    assert api.get(path, params={"include-segment-detail": "true"}).json()["payload"]["description"] is None


def test_update_errors(emulator, api):
    a = create_segment(api, emulator.app_id, "A", US)
    create_segment(api, emulator.app_id, "B", US)
    path = f"{segments_path(emulator)}/{a}"
    assert api.patch(path, json={"filters": US}).status_code == 400  # name always required
    taken = api.patch(path, json={"name": "B"})
    assert taken.status_code == 400
    assert taken.json() == {"success": False, "errors": ["Segment name is already taken."]}
    assert api.patch(path, json={"name": "A", "filters": []}).status_code == 400
    missing = api.patch(f"{segments_path(emulator)}/00000000-0000-4000-8000-000000000000", json={"name": "x"})
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "errors": ["segment not found"]}


def test_delete_then_404_without_errors_array(emulator, api):
    segment_id = create_segment(api, emulator.app_id, "gone", US)
    path = f"{segments_path(emulator)}/{segment_id}"
    response = api.delete(path)
    assert response.status_code == 200 and response.json() == {"success": True}
    again = api.delete(path)
    assert again.status_code == 404 and again.json() == {"success": False}
    assert api.get(path).status_code == 404
    assert "gone" not in [s["name"] for s in api.get(segments_path(emulator)).json()["segments"]]


def test_read_only_segments_cannot_be_deleted(emulator, api):
    subscribed = api.get(segments_path(emulator)).json()["segments"][0]
    assert subscribed["read_only"]
    assert api.delete(f"{segments_path(emulator)}/{subscribed['id']}").status_code == 400


def test_reset_restores_the_initial_segments(emulator, api):
    before = api.get(segments_path(emulator)).json()
    create_segment(api, emulator.app_id, "temporary", US)
    emulator.reset()
    assert api.get(segments_path(emulator)).json() == before
