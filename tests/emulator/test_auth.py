"""Authentication and the error envelopes of a failed authentication
(docs/onesignal-api.md#authentication-and-errors, #authentication)."""

from __future__ import annotations

import pytest

ACCESS_DENIED = ("Access denied.  Please include an 'Authorization: ...' header with a valid API key "
                 "(https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys).")


@pytest.mark.parametrize("scheme", ["Key", "key", "KEY", "Basic"])
def test_key_scheme_is_case_insensitive_and_basic_is_accepted(emulator, anon, scheme):
    response = anon.get(f"/apps/{emulator.app_id}/segments",
                        headers={"Authorization": f"{scheme} {emulator.api_key}"})
    assert response.status_code == 200


def test_missing_header_is_400_with_documented_message(emulator, anon):
    response = anon.get(f"/apps/{emulator.app_id}/segments")
    assert response.status_code == 400
    assert response.json() == {"errors": ["Please include a case-sensitive header of Authorization"]}


@pytest.mark.parametrize("header", ["Key wrong-key", "Bearer {key}", "{key}", "Key"])
def test_wrong_key_or_scheme_is_403_access_denied(emulator, anon, header):
    response = anon.get(f"/apps/{emulator.app_id}/segments",
                        headers={"Authorization": header.format(key=emulator.api_key)})
    assert response.status_code == 403
    assert response.json() == {"errors": [ACCESS_DENIED]}


def test_a_key_only_opens_its_own_app(emulator, anon):
    other = "11111111-2222-4333-8444-555555555555"
    emulator.add_app(other, "other-key", audience=10, messages=0)
    mine = {"Authorization": f"Key {emulator.api_key}"}
    assert anon.get(f"/apps/{other}/segments", headers=mine).status_code == 403
    assert anon.get(f"/apps/{other}/segments", headers={"Authorization": "Key other-key"}).status_code == 200


def test_unknown_app_is_access_denied(emulator, anon):
    response = anon.get("/apps/00000000-0000-4000-8000-000000000000/segments",
                        headers={"Authorization": f"Key {emulator.api_key}"})
    assert response.status_code == 403


def test_query_app_id_endpoints_require_it(api):
    response = api.post("/players/csv_export", json={})
    assert response.status_code == 400
    assert response.json() == {"errors": ["Request is malformed: Failed to parse app_id from request"]}


def test_export_and_message_endpoints_check_the_key_too(emulator, anon):
    bad = {"Authorization": "Key nope"}
    assert anon.get("/notifications", params={"app_id": emulator.app_id}, headers=bad).status_code == 403
    assert anon.post("/players/csv_export", params={"app_id": emulator.app_id}, headers=bad).status_code == 403
    assert anon.get(f"/apps/{emulator.app_id}/outcomes", params={"outcome_names": "os__click.count"},
                    headers=bad).status_code == 403


def test_legacy_v1_base_path_serves_the_same_api(emulator, api):
    assert api.get(f"/api/v1/apps/{emulator.app_id}/segments").status_code == 200
