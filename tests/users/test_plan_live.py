"""`osctl plan` reads the live test users (over real HTTP against the emulator): drift both ways,
deletion outside, users in the way, what --refresh and --target view, and the refusal to add an
address another user holds, found with one subscriptions export."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from osctl.config.loader import load_or_fail
from osctl.onesignal import OneSignalClient
from osctl.plan.live import gather
from osctl.plan.planner import PlanOptions
from osctl.state import open_backend
from osctl.state.local import LocalBackend
from osctl.state.model import State, UserRecord, UserSubscriptionRecord
from tests.helpers import Result, run_osctl

RAILS = '{external_id_prefix: "qa-", email_domains: [example.com], sms_numbers: ["+1555555010*"]}'
USER_VIEW = re.compile(r"^/apps/[^/]+/users/by/external_id/([^/]+)$")


@dataclass
class Users:
    """A config dir with test users, the session emulator, and the live users through its API."""

    dir: Path
    emulator: object
    users: list[dict] = field(default_factory=list)

    @property
    def app_id(self) -> str:
        return self.emulator.app_id

    def declare(self, *users: dict) -> None:
        lines = ["osctl: 1", "apps:", f"  prod: {{app_id: {self.app_id}, test_users: {RAILS}}}", "test_users:"]
        lines += [f"  - {json.dumps({'app': 'prod', **user})}" for user in users]
        (self.dir / "osctl.yaml").write_text("\n".join(lines) + "\n")

    def record(self, *users: dict) -> None:
        """State as if osctl had created these users (what it last applied)."""
        state = State.new()
        state.serial = 1
        for user in users:
            subscriptions = [UserSubscriptionRecord(s["type"], s["token"], None) for s in user.get("subscriptions", ())]
            record = UserRecord(app="prod", app_id=self.app_id, external_id=user["external_id"], onesignal_id=None,
                                tags=dict(user.get("tags", {})), subscriptions=subscriptions)
            state.users[record.address] = record
        LocalBackend(self.dir / ".osctl" / "state.json").write(state)

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Key {self.emulator.api_key}"}
        return httpx.request(method, f"{self.emulator.url}/apps/{self.app_id}{path}", headers=headers,
                             timeout=10, **kwargs)

    def create_live(self, external_id: str, tags: dict | None = None, subscriptions: tuple = ()) -> None:
        """A user made outside osctl (the dashboard, the SDK)."""
        body = {"identity": {"external_id": external_id}, "properties": {"tags": tags or {}},
                "subscriptions": [{"type": kind, "token": token} for kind, token in subscriptions]}
        answer = self.api("POST", "/users", json=body)
        assert answer.status_code in (200, 201), answer.text

    def plan(self, *args: str) -> Result:
        self.emulator.clear_requests()
        result = run_osctl("plan", "-c", str(self.dir), *args, env=self.emulator.env())
        assert self.emulator.api_key not in result.output
        return result

    def plan_json(self, *args: str) -> dict:
        result = self.plan("--format", "json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def viewed(self) -> list[str]:
        """The external ids of the users osctl viewed since the last plan began."""
        return [m.group(1) for e in self.emulator.requests() if e["method"] == "GET"
                and (m := USER_VIEW.match(e["path"]))]

    def exports_requested(self) -> int:
        return sum(1 for e in self.emulator.requests() if e["path"] == "/players/csv_export")


@pytest.fixture
def qa(tmp_path, emulator) -> Users:
    return Users(tmp_path, emulator)


ALICE = {"external_id": "qa-alice", "tags": {"qa": "1", "cohort": "spring"},
         "subscriptions": [{"type": "Email", "token": "alice+qa@example.com"}]}
BOB = {"external_id": "qa-bob", "tags": {"qa": "1"}}


def live_alice(qa: Users, **tags: str) -> None:
    qa.create_live("qa-alice", {"qa": "1", "cohort": "spring", **tags}, (("Email", "alice+qa@example.com"),))


def test_a_tag_changed_in_the_dashboard_is_drift_and_the_plan_sets_it_back(qa):
    qa.declare(ALICE)
    qa.record(ALICE)
    live_alice(qa)
    assert qa.plan_json()["user_changes"] == []
    # the dashboard edits the user through the API with the app's key
    assert qa.api("PATCH", "/users/by/external_id/qa-alice",
                  json={"properties": {"tags": {"cohort": "summer"}}}).status_code == 202
    [change] = qa.plan_json()["user_changes"]
    assert (change["action"], change["reason"]) == ("update", "edited_outside")
    assert 'tags.cohort: "summer" → "spring"' in change["lines"]
    assert qa.plan("--detailed-exitcode").exit_code == 2
    assert qa.exports_requested() == 0  # alice holds her address: nothing to add, nobody to look up


def test_a_changed_declaration_is_an_update_from_what_is_live(qa):
    qa.record(ALICE)
    live_alice(qa)
    qa.declare({**ALICE, "tags": {"qa": "1", "cohort": "autumn"}})
    [change] = qa.plan_json()["user_changes"]
    assert (change["action"], change["reason"]) == ("update", "declaration_changed")
    assert 'tags.cohort: "spring" → "autumn"' in change["lines"]


def test_a_user_deleted_outside_is_created_again(qa):
    qa.declare(ALICE)
    qa.record(ALICE)
    [change] = qa.plan_json()["user_changes"]
    assert (change["action"], change["reason"]) == ("create", "deleted_outside")
    assert qa.exports_requested() == 1  # its address is added again: who holds it was checked


def test_a_live_user_osctl_did_not_create_is_in_the_way(qa):
    qa.declare(ALICE)
    live_alice(qa)
    result = qa.plan()
    assert result.exit_code == 1
    assert "user.prod.qa-alice" in result.stderr and "already exists in OneSignal" in result.stderr
    assert "osctl import user.prod.qa-alice" in result.stderr


@pytest.mark.parametrize("refresh", ["list", "none"])
def test_refresh_list_and_none_view_no_user_and_compare_with_state(qa, refresh):
    qa.declare({**ALICE, "tags": {"qa": "1", "cohort": "autumn"}})
    qa.record(ALICE)
    live_alice(qa, cohort="summer")  # drift these modes cannot see
    [change] = qa.plan_json("--refresh", refresh)["user_changes"]
    assert (change["action"], change["reason"]) == ("update", "declaration_changed")
    assert 'tags.cohort: "spring" → "autumn"' in change["lines"]
    assert qa.viewed() == [] and qa.exports_requested() == 0


def test_target_and_exclude_view_only_the_users_they_select(qa):
    qa.declare(ALICE, BOB)
    qa.record(ALICE, BOB)
    live_alice(qa)
    qa.create_live("qa-bob", {"qa": "1"})
    config = load_or_fail(qa.dir)
    state = open_backend(config).read()
    with OneSignalClient(qa.emulator.url, qa.emulator.api_key, view_interval=0.01) as client:
        for selection, seen in ((PlanOptions(targets=("user.prod.qa-bob",)), ["qa-bob"]),
                                (PlanOptions(excludes=("user.prod.qa-bob",)), ["qa-alice"])):
            qa.emulator.clear_requests()
            live = gather(config, state, {"prod": client}, "full", selection=selection)
            assert qa.viewed() == seen
            assert list(live["prod"].users.users or {}) == seen


def test_a_recorded_user_outside_the_prefix_is_refused_and_never_viewed(qa):
    qa.declare(ALICE)
    qa.record(ALICE, {"external_id": "real-customer"})
    live_alice(qa)
    qa.create_live("real-customer")
    result = qa.plan()
    assert result.exit_code == 1
    assert "'real-customer' does not start with the app's external_id_prefix 'qa-'" in result.stderr
    assert qa.viewed() == ["qa-alice"]


def test_an_address_a_customer_holds_is_refused_naming_no_test_user(qa):
    qa.create_live("customer-7", {}, (("Email", "Dana+QA@example.com"),))  # a real person's address
    qa.declare({"external_id": "qa-dana", "subscriptions": [{"type": "Email", "token": "dana+qa@example.com"}]})
    result = qa.plan()
    assert result.exit_code == 1, result.output
    assert "Email dana+qa@example.com already belongs to a user osctl does not manage" in result.stderr
    assert "customer-7" not in result.output  # osctl says nothing about a user outside its prefix
    assert qa.exports_requested() == 1
    assert "csv" not in result.output  # the export's file URL is a bearer link: never shown


def test_an_address_another_test_user_holds_is_refused_naming_it(qa):
    # the address moves from qa-erin to qa-frank in the config; OneSignal would move it silently
    erin = {"external_id": "qa-erin", "subscriptions": [{"type": "SMS", "token": "+15555550101"}]}
    qa.record(erin)
    qa.create_live("qa-erin", {}, (("SMS", "+15555550101"),))
    qa.declare({"external_id": "qa-erin"}, {"external_id": "qa-frank", "subscriptions": erin["subscriptions"]})
    result = qa.plan()
    assert result.exit_code == 1, result.output
    assert "SMS +15555550101 already belongs to test user 'qa-erin'" in result.stderr
    assert "user.prod.qa-frank" in result.stderr


def test_views_are_paced_below_the_limit(qa):
    users = [{"external_id": f"qa-p{i}"} for i in range(5)]  # more than the emulator's burst of 3
    qa.declare(*users)
    qa.record(*users)
    for user in users:
        qa.create_live(user["external_id"])
    assert qa.plan_json()["user_changes"] == []
    assert sorted(qa.viewed()) == [u["external_id"] for u in users]
    views = [e for e in qa.emulator.requests() if USER_VIEW.match(e["path"])]
    assert [e["status"] for e in views] == [200] * 5  # never a 429
