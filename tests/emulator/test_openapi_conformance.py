"""The emulator's answers conform to OneSignal's published OpenAPI spec, less its known errors.

Every endpoint osctl uses is driven twice: once through the requests osctl makes
(hand-written, so each documented status is met), and once with requests that
schemathesis derives from the spec (seeded, a bounded number per operation).
Each answer must carry a status the operation lists (not just `default`) and a
body matching that status's schema, checked by openapi-core. The spec is
vendored beside this file; openapi_deviations.yaml is the one place it is
corrected, and docs/emulator.md explains each correction.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jsonpatch
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

HERE = Path(__file__).parent
SPEC = HERE / "onesignal-openapi.yaml"
DEVIATIONS = HERE / "openapi_deviations.yaml"
DOCS = HERE.parent.parent / "docs" / "emulator.md"
EXAMPLES_PER_OPERATION = 10
MISSING = "00000000-0000-4000-8000-000000000000"

# (method, path template) of every operation osctl's client calls (osctl/onesignal/client.py)
OPERATIONS = [
    ("GET", "/apps/{app_id}/segments"),
    ("POST", "/apps/{app_id}/segments"),
    ("GET", "/apps/{app_id}/segments/{segment_id}"),
    ("PATCH", "/apps/{app_id}/segments/{segment_id}"),
    ("DELETE", "/apps/{app_id}/segments/{segment_id}"),
    ("GET", "/notifications"),
    ("GET", "/notifications/{notification_id}"),
    ("POST", "/players/csv_export"),
    ("POST", "/notifications/{notification_id}/export_events"),
    ("POST", "/notifications/{notification_id}/history"),
    ("GET", "/apps/{app_id}/outcomes"),
    ("POST", "/apps/{app_id}/users"),
    ("GET", "/apps/{app_id}/users/by/{alias_label}/{alias_id}"),
    ("PATCH", "/apps/{app_id}/users/by/{alias_label}/{alias_id}"),
    ("DELETE", "/apps/{app_id}/users/by/{alias_label}/{alias_id}"),
    ("PATCH", "/apps/{app_id}/users/by/{alias_label}/{alias_id}/identity"),
    ("DELETE", "/apps/{app_id}/users/by/{alias_label}/{alias_id}/identity/{alias_label_to_delete}"),
    ("POST", "/apps/{app_id}/users/by/{alias_label}/{alias_id}/subscriptions"),
    ("DELETE", "/apps/{app_id}/subscriptions/{subscription_id}"),
    ("GET", "/apps/{app_id}/subscriptions/{subscription_id}/user/identity"),
    ("PATCH", "/apps/{app_id}/subscriptions/{subscription_id}/owner"),
]


class _SpecLoader(yaml.SafeLoader):
    """YAML as JSON sees it: `- =` in an enum (YAML 1.1's "value" tag) and unquoted times are strings."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_SpecLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_deviations() -> list[dict]:
    return yaml.safe_load(DEVIATIONS.read_text())


@functools.cache
def corrected_spec() -> dict:
    spec = yaml.load(SPEC.read_text(), Loader=_SpecLoader)  # noqa: S506 - a SafeLoader subclass
    for deviation in load_deviations():
        spec = jsonpatch.apply_patch(spec, deviation["patch"])
    return spec


@functools.cache
def osctl_spec() -> dict:
    """The corrected spec with only the paths osctl uses: loading the other 30 takes seconds."""
    spec = copy.deepcopy(corrected_spec())
    spec["paths"] = {path: spec["paths"][path] for path in {template for _, template in OPERATIONS}}
    return spec


@functools.cache
def openapi_for(base_url: str) -> OpenAPI:
    spec = copy.deepcopy(osctl_spec())
    spec["servers"] = [{"url": base_url}]  # answers come from the emulator, not api.onesignal.com
    return OpenAPI.from_dict(spec)


@pytest.fixture
def checker(emulator):
    """check(response): its status is listed for the operation and its body matches that schema."""
    spec = osctl_spec()
    openapi = openapi_for(emulator.url)

    def check(response: httpx.Response) -> httpx.Response:
        request = response.request
        parts = urlsplit(str(request.url))
        template = _template(request.method, parts.path)
        listed = spec["paths"][template][request.method.lower()]["responses"]
        assert str(response.status_code) in listed, (
            f"{request.method} {template} answered {response.status_code}, which the spec does not list "
            f"({', '.join(sorted(listed))}): {response.text[:200]}")
        args = dict(httpx.QueryParams(parts.query).multi_items())
        mock_request = MockRequest(emulator.url, request.method.lower(), parts.path, args=args,
                                   headers=dict(request.headers), data=request.content or None)
        mock_response = MockResponse(response.content, response.status_code,
                                     content_type=response.headers.get("content-type", "").split(";")[0])
        openapi.validate_response(mock_request, mock_response)
        return response

    return check


def _template(method: str, path: str) -> str:
    for op_method, template in OPERATIONS:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if op_method == method and re.match(pattern, path):
            return template
    raise AssertionError(f"{method} {path} is not an operation osctl uses")


@pytest.fixture
def fresh(emulator):
    """The emulator with the view endpoints' rate limit lifted, so every answer is a real one."""
    emulator.set_rate_limit("messages_list", None)
    emulator.set_rate_limit("message_view", None)
    emulator.set_rate_limit("user_view", None)
    return emulator


@pytest.fixture
def message_id(fresh, api):
    return api.get("/notifications", params={"app_id": fresh.app_id}).json()["notifications"][0]["id"]


# --- the requests osctl makes, one documented status after another ---------------------------------


def test_segment_operations_conform(fresh, api, checker):
    app = fresh.app_id
    listed = checker(api.get(f"/apps/{app}/segments", params={"offset": 0, "limit": 300}))
    assert listed.status_code == 200
    filters = [{"field": "tag", "relation": "=", "key": "plan", "value": "pro"}, {"operator": "OR"},
               {"field": "location", "radius": 1000, "lat": 51.5, "long": -0.1}]
    created = checker(api.post(f"/apps/{app}/segments", json={"name": "Pro", "filters": filters}))
    assert created.status_code == 201
    segment = created.json()["id"]
    assert checker(api.post(f"/apps/{app}/segments", json={"name": "Pro", "filters": filters})).status_code == 409
    assert checker(api.post(f"/apps/{app}/segments", json={"name": "Bad", "filters": []})).status_code == 400
    assert checker(api.get(f"/apps/{app}/segments/{segment}")).status_code == 200
    detail = checker(api.get(f"/apps/{app}/segments/{segment}", params={"include-segment-detail": "true"}))
    assert detail.json()["payload"]["filters"][2]["radius"] == "1000"  # location-values-as-strings
    assert checker(api.get(f"/apps/{app}/segments/{MISSING}")).status_code == 404
    updated = checker(api.patch(f"/apps/{app}/segments/{segment}", json={"name": "Pro users"}))
    assert updated.status_code == 200
    assert checker(api.patch(f"/apps/{app}/segments/{MISSING}", json={"name": "x"})).status_code == 404
    assert checker(api.patch(f"/apps/{app}/segments/{segment}", json={})).status_code == 400
    assert checker(api.delete(f"/apps/{app}/segments/{segment}")).status_code == 200
    assert checker(api.delete(f"/apps/{app}/segments/{segment}")).status_code == 404


def test_message_and_outcome_operations_conform(fresh, api, checker, message_id):
    app = fresh.app_id
    assert checker(api.get("/notifications", params={"app_id": app, "limit": 50})).status_code == 200
    paged = checker(api.get("/notifications", params={"app_id": app, "time_offset": "2020-01-01T00:00:00Z"}))
    assert paged.json()["next_time_offset"]
    assert checker(api.get("/notifications", params={"app_id": app, "limit": "x"})).status_code == 400
    assert checker(api.get(f"/notifications/{message_id}", params={"app_id": app})).status_code == 200
    assert checker(api.get(f"/notifications/{MISSING}", params={"app_id": app})).status_code == 404
    outcomes = {"outcome_names": "os__click.count,os__session_duration.sum", "outcome_time_range": "1mo"}
    assert checker(api.get(f"/apps/{app}/outcomes", params=outcomes)).status_code == 200
    assert checker(api.get(f"/apps/{app}/outcomes", params={"outcome_names": "os__click"})).status_code == 400
    fresh.set_rate_limit("messages_list", 0.001, 1)
    api.get("/notifications", params={"app_id": app})
    assert checker(api.get("/notifications", params={"app_id": app})).status_code == 429


def test_export_operations_conform(fresh, api, checker, message_id):
    app = fresh.app_id
    subscriptions = checker(api.post("/players/csv_export", params={"app_id": app},
                                     json={"extra_fields": ["country"], "last_active_since": "0"}))
    assert subscriptions.status_code == 200
    assert checker(api.post("/players/csv_export", params={"app_id": app},
                            json={"extra_fields": ["nope"]})).status_code == 400
    events = checker(api.post(f"/notifications/{message_id}/export_events", params={"app_id": app}))
    assert events.status_code == 200
    assert checker(api.post(f"/notifications/{MISSING}/export_events", params={"app_id": app})).status_code == 404
    history = checker(api.post(f"/notifications/{message_id}/history", json={"app_id": app, "events": "clicked"}))
    assert history.status_code == 200
    assert checker(api.post(f"/notifications/{message_id}/history",
                            json={"app_id": app, "events": "opened"})).status_code == 400
    assert checker(api.post(f"/notifications/{MISSING}/history",
                            json={"app_id": app, "events": "sent"})).status_code == 404
    fresh.set_export_rate(0.001)  # the next export stays in progress
    checker(api.post("/players/csv_export", params={"app_id": app}))
    assert checker(api.post(f"/notifications/{message_id}/export_events",
                            params={"app_id": app})).status_code == 409  # export-busy-409


def test_user_operations_conform(fresh, api, checker):
    users = f"/apps/{fresh.app_id}/users"
    alice = {"identity": {"external_id": "qa-alice"}, "properties": {"tags": {"qa": "1"}, "language": "en"},
             "subscriptions": [{"type": "Email", "token": "alice+qa@example.com"}]}
    assert checker(api.post(users, json=alice)).status_code == 201
    assert checker(api.post(users, json={"identity": {"external_id": "someone"}, "subscriptions": [
        {"type": "AndroidPush", "token": "push-1"}]})).status_code == 201
    assert checker(api.post(users, json=alice)).status_code == 200  # found by its external_id
    assert checker(api.post(users, json={"identity": {"external_id": "qa-alice", "onesignal_id": "x"}})
                   ).status_code == 400
    by_id = f"{users}/by/external_id/qa-alice"
    viewed = checker(api.get(by_id))
    assert viewed.status_code == 200 and viewed.json()["properties"]["tags"] == {"qa": "1"}
    assert checker(api.get(f"{users}/by/external_id/nobody")).status_code == 404
    assert checker(api.patch(by_id, json={"properties": {"tags": {"qa": ""}}})).status_code == 202
    assert checker(api.patch(by_id, json={"properties": {"tags": ["qa"]}})).status_code == 400
    assert checker(api.patch(f"{by_id}/identity", json={"identity": {"crm_id": "qa-1"}})).status_code == 200
    assert checker(api.patch(f"{users}/by/external_id/someone/identity",
                             json={"identity": {"crm_id": "qa-1"}})).status_code == 409
    assert checker(api.delete(f"{by_id}/identity/crm_id")).status_code == 200
    added = checker(api.post(f"{by_id}/subscriptions", json={"subscription": {"type": "SMS", "token": "+15555550100"}}))
    assert added.status_code == 201
    assert checker(api.post(f"{users}/by/external_id/nobody/subscriptions",
                            json={"subscription": {"type": "SMS", "token": "+15555550100"}})).status_code == 404
    device = api.get(f"{users}/by/external_id/someone").json()["subscriptions"][0]["id"]
    holder = checker(api.get(f"/apps/{fresh.app_id}/subscriptions/{device}/user/identity"))
    assert holder.status_code == 200 and holder.json()["identity"]["external_id"] == "someone"
    assert checker(api.get(f"/apps/{fresh.app_id}/subscriptions/{MISSING}/user/identity")).status_code == 404
    owner = checker(api.patch(f"/apps/{fresh.app_id}/subscriptions/{device}/owner",
                              json={"identity": {"external_id": "qa-alice"}}))
    assert owner.status_code == 200 and owner.json()["identity"]["external_id"] == "qa-alice"
    assert checker(api.patch(f"/apps/{fresh.app_id}/subscriptions/{MISSING}/owner",
                             json={"identity": {"external_id": "qa-alice"}})).status_code == 404
    subscription = added.json()["subscription"]["id"]
    assert checker(api.delete(f"/apps/{fresh.app_id}/subscriptions/{subscription}")).status_code == 202
    assert checker(api.delete(f"/apps/{fresh.app_id}/subscriptions/{MISSING}")).status_code == 404
    fresh.set_user_write_delay(60)
    assert checker(api.post(users, json={"identity": {"external_id": "qa-bob"}})).status_code == 202
    assert checker(api.delete(by_id)).status_code == 200
    fresh.set_rate_limit("user_view", 0.001, 1)
    api.get(by_id)
    assert checker(api.get(by_id)).status_code == 429


def test_a_wrong_key_is_403_everywhere_it_is_documented(fresh, anon, checker):
    wrong = {"Authorization": "Key wrong"}
    assert checker(anon.get(f"/apps/{fresh.app_id}/segments", headers=wrong)).status_code == 403
    assert checker(anon.get("/notifications", params={"app_id": fresh.app_id}, headers=wrong)).status_code == 403


# --- requests derived from the spec ---------------------------------------------------------------


@functools.cache
def _schemathesis_schema():
    return schemathesis.openapi.from_dict(osctl_spec())


@pytest.mark.parametrize(("method", "template"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_spec_derived_requests_get_documented_answers(fresh, api, checker, message_id, method, template):
    operation = _schemathesis_schema()[template][method]
    segment = api.post(f"/apps/{fresh.app_id}/segments", json={"name": "Target", "filters": [
        {"field": "session_count", "relation": ">", "value": "1"}]}).json()["id"]
    known = {"app_id": fresh.app_id, "segment_id": st.sampled_from([segment, MISSING]),
             "notification_id": st.sampled_from([message_id, MISSING])}

    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), data=st.data())
    def answers_conform(case, data):
        for name in case.path_parameters or {}:
            value = known.get(name)
            if value is not None:
                case.path_parameters[name] = value if isinstance(value, str) else data.draw(value)
        if case.query is not None and "app_id" in case.query:
            case.query["app_id"] = fresh.app_id
        if isinstance(case.body, dict) and "app_id" in case.body:
            case.body["app_id"] = fresh.app_id
        fresh.exports.clear()  # each export request finds the account free
        response = api.request(case.method, case.formatted_path, params=case.query,
                               json=None if case.body is schemathesis.core.NOT_SET else case.body)
        assert response.status_code < 500, response.text
        checker(response)

    answers_conform()


# --- the one list of deviations -------------------------------------------------------------------


def test_every_deviation_has_a_reason_and_a_source_and_is_explained_in_the_docs():
    section = DOCS.read_text().split("## Where the emulator departs from OneSignal's OpenAPI spec", 1)
    assert len(section) == 2, "docs/emulator.md lacks the deviations section"
    for deviation in load_deviations():
        assert deviation["reason"].strip() and deviation["source"].strip() and deviation["patch"]
        assert f"`{deviation['id']}`" in section[1], f"docs/emulator.md does not explain {deviation['id']}"


def test_the_vendored_spec_names_its_source_commit():
    assert SPEC.read_text().startswith(
        "# Origin: OneSignal/onesignal-go-api api/openapi.yaml, commit 9f8acf5b414b96644d90ecabbdeddb4cfc0dc44f")
