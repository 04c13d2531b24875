"""What a user sees and names of test users, against the emulator: addresses in --target,
`osctl import user.APP.EXTERNAL_ID`, and the state commands (docs/test-users.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.segments.conftest import US, Workspace

RAILS = "test_users: {external_id_prefix: qa-, email_domains: [example.com], sms_numbers: ['+1555555010*']}"
ALICE = """  - external_id: qa-alice
    tags: {qa: "1", cohort: spring}
    language: en
    subscriptions:
      - {type: Email, token: alice@example.com}
      - {type: SMS, token: "+15555550100"}
"""


class Users(Workspace):
    def write_users(self, users: str = ALICE, alias: str = "prod", segments: bool = True) -> None:
        lines = ["osctl: 1", "apps:", f"  {alias}: {{app_id: {self.app_id}, {RAILS}}}"]
        if segments:
            lines += ["segments:", f"  - {{name: QA, filters: {json.dumps(US)}}}"]
        (self.dir / "osctl.yaml").write_text("\n".join(lines) + "\ntest_users:\n" + users)

    def create_live(self, external_id: str, tags: dict, subscriptions: list[dict]) -> str:
        body = {"identity": {"external_id": external_id}, "properties": {"tags": tags, "language": "en"},
                "subscriptions": subscriptions}
        answer = self.api("POST", f"/apps/{self.app_id}/users", json=body)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()["identity"]["onesignal_id"]


@pytest.fixture
def users(tmp_path: Path, emulator) -> Users:
    workspace = Users(tmp_path, emulator)
    workspace.write_users()
    return workspace


ALICE_LIVE = [{"type": "Email", "token": "alice@example.com"}, {"type": "SMS", "token": "+15555550100"}]


def test_target_a_test_user_plans_only_it_and_the_detailed_exit_code_says_it_changes(users):
    result = users.osctl("plan", "--no-exports", "--detailed-exitcode", "--target", "user.prod.qa-alice")
    assert result.exit_code == 2, result.output
    assert '  + user "qa-alice" (prod)\n' in result.stdout
    assert "      + subscription Email alice@example.com\n" in result.stdout
    assert "segment" not in result.stdout.split("Warning:")[0]  # the QA segment is left out
    assert result.stdout.rstrip().endswith("Plan: 0 to create, 0 to replace, 0 to delete; "
                                           "1 test user to create; 0 exports due.")
    whole_app = users.osctl("plan", "--no-exports", "--target", "user.prod", "--format", "json")
    assert whole_app.exit_code == 0, whole_app.output
    plan = json.loads(whole_app.stdout)
    assert [c["address"] for c in plan["user_changes"]] == ["user.prod.qa-alice"] and plan["changes"] == []
    left_out = users.osctl("plan", "--no-exports", "--detailed-exitcode", "--exclude", "user")
    assert left_out.exit_code == 2 and " user " not in left_out.stdout  # the segment still changes


def test_a_misspelt_user_address_names_the_closest(users):
    result = users.osctl("plan", "--no-exports", "--target", "user.prod.qa-alcie")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --target user.prod.qa-alcie matches nothing in the configuration "
                                    "or state; closest: user.prod.qa-alice, ")
    assert "(addresses are segment.APP.NAME, segment.APP, user.APP.EXTERNAL_ID, user.APP or export.NAME;" \
        in result.stderr


def test_import_records_the_live_user_and_state_commands_show_and_drop_it(users):
    onesignal_id = users.create_live("qa-alice", {"qa": "1", "cohort": "summer"}, ALICE_LIVE)
    result = users.osctl("import", "user.prod.qa-alice")
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Imported user.prod.qa-alice (onesignal_id {onesignal_id}). It differs from the "
                             "configuration: the next plan updates it (1 change).\n")
    record = users.state()["users"]["user.prod.qa-alice"]
    assert (record["onesignal_id"], record["tags"], record["language"], record["devices"], record["status"]) == (
        onesignal_id, {"qa": "1", "cohort": "summer"}, "en", [], "created")
    assert [(s["type"], s["token"]) for s in record["subscriptions"]] == [
        ("Email", "alice@example.com"), ("SMS", "+15555550100")]
    assert all(s["id"] for s in record["subscriptions"])
    # without views, the next plan compares the declaration with what was recorded
    plan = users.osctl("plan", "--no-exports", "--refresh", "none", "--target", "user.prod.qa-alice")
    assert plan.exit_code == 0, plan.output
    assert '  ~ user "qa-alice" (prod)\n      tags.cohort: "summer" → "spring"\n' in plan.stdout

    listed = users.osctl("state", "list")
    assert listed.stdout == "user.prod.qa-alice\n"
    shown = users.osctl("state", "show", "user.prod.qa-alice")
    assert shown.exit_code == 0, shown.output
    assert f"  onesignal_id: {onesignal_id}\n" in shown.stdout
    assert '  tags:         {"cohort": "summer", "qa": "1"}\n' in shown.stdout
    assert "  subscriptions: 2\n    - Email alice@example.com (id " in shown.stdout

    again = users.osctl("import", "user.prod.qa-alice")
    assert again.exit_code == 1
    assert "is already in state (onesignal_id" in again.stderr
    assert "first run: osctl state rm user.prod.qa-alice" in again.stderr

    removed = users.osctl("state", "rm", "user.prod.qa-alice")
    assert removed.exit_code == 0, removed.output
    assert removed.stdout == ("osctl no longer manages user.prod.qa-alice; the user stays in OneSignal as it is. "
                              "It is still declared: the next plan will ask you to import it "
                              "(osctl import user.prod.qa-alice) or remove the declaration.\n")
    assert "users" not in users.state()
    assert users.api("GET", f"/apps/{users.app_id}/users/by/external_id/qa-alice").status_code == 200
    assert users.osctl("import", "user.prod.qa-alice", "qa-alice").exit_code == 0  # the id may be repeated


def test_import_refuses_what_it_must_not_manage(users):
    missing = users.osctl("import", "user.prod.qa-alice")
    assert missing.exit_code == 1
    assert missing.stderr == (f"Error: no user with external id 'qa-alice' in app 'prod' ({users.app_id}); "
                              "the next plan creates it\n")
    undeclared = users.osctl("import", "user.prod.qa-bob")
    assert undeclared.exit_code == 1
    assert "user.prod.qa-bob is not declared in the configuration; declare the test user first" in undeclared.stderr
    other_id = users.osctl("import", "user.prod.qa-alice", "3b9f0000-0000-4000-8000-00000000c001")
    assert other_id.exit_code == 1
    assert "leave out '3b9f0000-0000-4000-8000-00000000c001': osctl import user.prod.qa-alice" in other_id.stderr
    no_app = users.osctl("import", "user.staging.qa-alice")
    assert no_app.exit_code == 1
    assert "names no configured app (valid: user.APP.EXTERNAL_ID with APP one of prod)" in no_app.stderr
    no_id = users.osctl("import", "segment.prod.QA")
    assert no_id.exit_code == 1
    assert "importing a segment needs its id: osctl import segment.prod.QA SEGMENT_ID" in no_id.stderr
    assert not (users.dir / ".osctl" / "state.json").exists()


def test_a_user_in_the_way_names_the_import_command_that_works(users):
    import re
    import shlex

    users.create_live("qa-alice", {"qa": "1"}, ALICE_LIVE)
    plan = users.osctl("plan", "--no-exports", "--target", "user")
    assert plan.exit_code == 1
    command = re.search(r"run: (.+?) \(then plan again\)", plan.stderr).group(1)
    assert command == "osctl import user.prod.qa-alice"
    imported = users.osctl(*shlex.split(command)[1:])
    assert imported.exit_code == 0, imported.output
    again = users.osctl("plan", "--no-exports", "--target", "user", "--detailed-exitcode")
    assert again.exit_code == 2, again.output
    assert '  ~ user "qa-alice" (prod)\n      tags.cohort: (none) → "spring"\n' in again.stdout


def test_state_mv_follows_a_renamed_app_alias_and_nothing_else(users):
    users.create_live("qa-alice", {"qa": "1", "cohort": "spring"}, ALICE_LIVE)
    assert users.osctl("import", "user.prod.qa-alice").exit_code == 0
    other_user = users.osctl("state", "mv", "user.prod.qa-alice", "user.prod.qa-bob")
    assert other_user.exit_code == 1
    assert ("user.prod.qa-alice is the user with external id 'qa-alice' in OneSignal; `state mv` cannot make it "
            "another user") in other_user.stderr
    to_segment = users.osctl("state", "mv", "user.prod.qa-alice", "segment.prod.QA")
    assert to_segment.exit_code == 1
    users.write_users(alias="main")
    moved = users.osctl("state", "mv", "user.prod.qa-alice", "user.main.qa-alice")
    assert moved.exit_code == 0, moved.output
    assert list(users.state()["users"]) == ["user.main.qa-alice"]
    assert users.state()["users"]["user.main.qa-alice"]["app"] == "main"
    plan = users.osctl("plan", "--no-exports", "--refresh", "none", "--target", "user")
    assert plan.exit_code == 0 and "No changes." in plan.stdout, plan.output


def test_after_apply_the_state_commands_show_the_user_and_the_plan_has_no_changes(users):
    applied = users.osctl("apply", "--auto-approve", "--no-exports", "--target", "user.prod.qa-alice")
    assert applied.exit_code == 0, applied.output
    assert '  + user "qa-alice" (prod)\n' in applied.stdout
    assert users.osctl("state", "list").stdout == "user.prod.qa-alice\n"
    shown = users.osctl("state", "show", "user.prod.qa-alice").stdout
    assert "  status:       created\n" in shown and "    - SMS +15555550100 (id " in shown
    again = users.osctl("plan", "--no-exports", "--detailed-exitcode", "--target", "user")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


def test_import_records_the_declared_devices_the_user_already_holds(users):
    """A device the user holds is as declared: a plan without views must not attach it again."""
    users.create_live("qa-alice", {"qa": "1", "cohort": "spring"},
                      [*ALICE_LIVE, {"type": "AndroidPush", "token": "fcm-token-1"}])
    live = users.api("GET", f"/apps/{users.app_id}/users/by/external_id/qa-alice").json()
    device = next(s["id"] for s in live["subscriptions"] if s["type"] == "AndroidPush")
    users.write_users(ALICE + f"    devices: [{device}, 3b9f0000-0000-4000-8000-00000000d001]\n")
    result = users.osctl("import", "user.prod.qa-alice")
    assert result.exit_code == 0, result.output
    assert users.state()["users"]["user.prod.qa-alice"]["devices"] == [device]  # not the one it lacks
    plan = users.osctl("plan", "--no-exports", "--refresh", "none", "--target", "user.prod.qa-alice")
    assert plan.exit_code == 0, plan.output
    assert f"+ device {device}" not in plan.stdout
    assert "+ device 3b9f0000-0000-4000-8000-00000000d001" in plan.stdout
