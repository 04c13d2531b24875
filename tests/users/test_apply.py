"""`osctl apply` of test users against the emulator: creates, updates, deletes, and the
guard rails that keep apply from touching anyone else (docs/test-users.md#applying)."""

from __future__ import annotations

import json
import re
import signal
import time

from tests.helpers import run_osctl
from tests.osctl_process import start_osctl
from tests.users.conftest import QA, UsersWorkspace

ALICE = {"external_id": "qa-alice", "aliases": {"crm_id": "qa-12345"}, "tags": {"qa": "1", "cohort": "spring"},
         "language": "en", "subscriptions": [{"type": "Email", "token": "alice@example.com"},
                                              {"type": "SMS", "token": "+15555550100"}]}


def _apply(uw: UsersWorkspace, *args: str):
    return uw.osctl("apply", "--auto-approve", "--no-exports", *args)


def _tokens(user: dict) -> list[tuple[str, str]]:
    return sorted((s["type"], s["token"]) for s in user["subscriptions"])


def test_apply_creates_a_test_user_after_the_segments_and_records_it(uw):
    uw.declare([ALICE], segments={"QA testers": QA})
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    live = uw.user("qa-alice")
    onesignal_id = live["identity"]["onesignal_id"]
    assert live["identity"] == {"external_id": "qa-alice", "crm_id": "qa-12345", "onesignal_id": onesignal_id}
    assert live["properties"]["tags"] == {"qa": "1", "cohort": "spring"} and live["properties"]["language"] == "en"
    assert _tokens(live) == [("Email", "alice@example.com"), ("SMS", "+15555550100")]
    assert f"user.prod.qa-alice: Creation complete [created onesignal_id={onesignal_id}]" in result.stdout
    # segments first: a segment of QA testers exists before its users are made
    assert result.stdout.index('segment.prod.QA testers: Creation complete') \
        < result.stdout.index("user.prod.qa-alice: Creating...")
    assert "Apply complete! Segments: 1 created, 0 replaced, 0 deleted. Test users: 1 created." in result.stdout
    record = uw.records()["user.prod.qa-alice"]
    assert record["status"] == "created" and record["onesignal_id"] == onesignal_id
    assert record["tags"] == {"qa": "1", "cohort": "spring"} and record["aliases"] == {"crm_id": "qa-12345"}
    # a create answered 201 names its subscriptions: state knows their ids without a view
    assert sorted((s["type"], s["token"], s["id"]) for s in record["subscriptions"]) == \
        sorted((s["type"], s["token"], s["id"]) for s in live["subscriptions"])
    # nothing left to do
    again = _apply(uw)
    assert again.exit_code == 0 and "user.prod" not in again.stdout


def test_apply_updates_tags_language_aliases_subscriptions_and_devices(uw):
    uw.declare([{**ALICE, "aliases": {"crm_id": "qa-12345", "zendesk": "z-1"}}])
    assert _apply(uw).exit_code == 0
    phone = uw.make_anonymous_device("AndroidPush", "fcm-token-1")  # the app installed, nobody logged in
    device = phone["subscriptions"][0]["id"]
    uw.declare([{**ALICE, "tags": {"qa": "1", "level": "2"}, "language": "de", "aliases": {"crm_id": "qa-999"},
                 "subscriptions": [{"type": "Email", "token": "alice2@example.com"},
                                   {"type": "SMS", "token": "+15555550100"}],
                 "devices": [device]}])
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    assert re.search(r"user\.prod\.qa-alice: Update complete \[updated \(.*\), verified after \d+ s\]", result.stdout)
    assert "Test users: 1 updated." in result.stdout
    live = uw.user("qa-alice")
    assert live["properties"]["tags"] == {"qa": "1", "level": "2"} and live["properties"]["language"] == "de"
    assert {k: v for k, v in live["identity"].items() if k != "onesignal_id"} == \
        {"external_id": "qa-alice", "crm_id": "qa-999"}
    assert _tokens(live) == [("AndroidPush", "fcm-token-1"), ("Email", "alice2@example.com"),
                             ("SMS", "+15555550100")]
    assert uw.user_by("onesignal_id", phone["identity"]["onesignal_id"])["subscriptions"] == []
    record = uw.records()["user.prod.qa-alice"]
    assert record["tags"] == {"qa": "1", "level": "2"} and record["language"] == "de"
    assert record["aliases"] == {"crm_id": "qa-999"} and record["devices"] == [device]
    ids = {s["token"]: s["id"] for s in live["subscriptions"]}
    assert sorted((s["type"], s["token"], s["id"]) for s in record["subscriptions"]) == \
        [("Email", "alice2@example.com", ids["alice2@example.com"]), ("SMS", "+15555550100", ids["+15555550100"])]


def test_apply_deletes_a_user_no_longer_declared(uw):
    uw.declare([ALICE])
    assert _apply(uw).exit_code == 0
    onesignal_id = uw.records()["user.prod.qa-alice"]["onesignal_id"]
    uw.declare([])
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    assert f"user.prod.qa-alice: Destruction complete [deleted onesignal_id={onesignal_id}]" in result.stdout
    assert uw.user("qa-alice") is None and uw.records() == {}


def test_a_user_deleted_outside_and_no_longer_declared_leaves_state(uw):
    uw.declare([ALICE])
    assert _apply(uw).exit_code == 0
    uw.api("DELETE", f"/apps/{uw.app_id}/users/by/external_id/qa-alice")
    uw.declare([])
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    assert uw.records() == {}
    assert re.search(r"user\.prod\.qa-alice: .*(already gone|removed from state)", result.stdout)


def test_a_lost_create_answer_is_retried_without_a_second_user(uw):
    uw.declare([ALICE])
    uw.emulator.set_faults([{"kind": "lost_answer", "method": "POST", "path": "/users$", "times": 1}])
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    posts = [r for r in uw.emulator.requests() if r["method"] == "POST" and r["path"].endswith("/users")]
    assert len(posts) == 2  # the create, and its repetition after the lost answer
    live = uw.user("qa-alice")
    assert uw.records()["user.prod.qa-alice"]["onesignal_id"] == live["identity"]["onesignal_id"]


def test_a_create_asked_again_while_onesignal_applies_the_first_records_the_user_there_is(uw):
    """OneSignal only accepted the first create (202) and its answer was lost; the repeat is
    accepted too, with an id of its own, and applied to the user the first made. State keeps
    the id the verifying view shows, not the one the repeat answered."""
    uw.emulator.set_user_write_delay(1)
    uw.declare([ALICE])
    uw.emulator.set_faults([{"kind": "lost_answer", "method": "POST", "path": "/users$", "times": 1}])
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    time.sleep(1)
    live = uw.user("qa-alice")
    assert uw.records()["user.prod.qa-alice"]["onesignal_id"] == live["identity"]["onesignal_id"]
    again = uw.osctl("plan", "--no-exports", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.stdout, again.output


def _write_create_intent(uw: UsersWorkspace, external_id: str) -> None:
    """The state a kill leaves after recording a create's intent (pending_create), and nothing else."""
    record = {"app": "prod", "app_id": uw.app_id, "external_id": external_id, "onesignal_id": None, "tags": {},
              "aliases": {}, "status": "pending_create"}
    state = {"format": 1, "lineage": "0d2f4c1e-0000-4000-8000-000000000001", "serial": 1, "osctl_version": "0.1.0",
             "segments": {}, "exports": {}, "users": {f"user.prod.{external_id}": record}}
    (uw.dir / ".osctl").mkdir()
    (uw.dir / ".osctl" / "state.json").write_text(json.dumps(state))


def test_a_create_intent_whose_request_was_never_sent_is_created_by_the_next_apply(uw):
    """A kill between recording the intent (pending_create) and sending the create: OneSignal has
    no such user, so the next apply creates it, once."""
    uw.declare([ALICE])
    _write_create_intent(uw, "qa-alice")
    plan = uw.osctl("plan", "--no-exports")
    assert '  + user "qa-alice" (prod)' in plan.stdout, plan.output
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    live = uw.user("qa-alice")
    record = uw.records()["user.prod.qa-alice"]
    assert record["status"] == "created" and record["onesignal_id"] == live["identity"]["onesignal_id"]
    creates = [r for r in uw.emulator.requests() if r["method"] == "POST" and r["path"].endswith("/users")]
    assert len(creates) == 1
    assert uw.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_an_unfinished_create_in_state_is_finished_on_the_user_it_made(uw):
    """A kill after the create was sent leaves its intent (pending_create): the next apply
    finds the user by its external id instead of making another."""
    uw.declare([ALICE])
    made = uw.make_user("qa-alice", tags={"qa": "1"})
    onesignal_id = made["identity"]["onesignal_id"]
    _write_create_intent(uw, "qa-alice")
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    record = uw.records()["user.prod.qa-alice"]
    assert record["status"] == "created" and record["onesignal_id"] == onesignal_id
    live = uw.user("qa-alice")
    assert live["identity"]["onesignal_id"] == onesignal_id and live["properties"]["tags"] == ALICE["tags"]


def test_an_alias_another_user_holds_fails_that_user_and_touches_nobody_else(uw):
    customer = uw.make_user("customer-1", tags={"plan": "gold"}, crm_id="c-1")
    uw.declare([{**ALICE, "aliases": {"crm_id": "c-1"}}, {"external_id": "qa-bob", "tags": {"qa": "1"}}])
    result = _apply(uw)
    assert result.exit_code == 1
    assert re.search(r"FAILED  user\.prod\.qa-alice: created \(onesignal_id [-0-9a-f]+\) in OneSignal; OneSignal "
                     r"refused alias crm_id='c-1': another user holds it", result.stdout)
    assert "ok      user.prod.qa-bob: created onesignal_id=" in result.stdout
    assert uw.user("customer-1") == customer  # its alias, tags and subscriptions as they were
    assert "crm_id" not in uw.user("qa-alice")["identity"]
    assert uw.records()["user.prod.qa-alice"]["aliases"] == {}


def test_a_user_that_appeared_after_a_saved_plan_is_not_created_over(uw):
    uw.declare([ALICE, {"external_id": "qa-bob", "tags": {"qa": "1"}}])
    plan = uw.dir / "plan.json"
    assert uw.osctl("plan", "--no-exports", "--out", str(plan)).exit_code in (0, 2)
    someone = uw.make_user("qa-alice", tags={"owner": "someone else"})
    result = uw.osctl("apply", str(plan))
    assert result.exit_code == 1
    assert "a user with external id 'qa-alice' appeared in OneSignal after the plan was made" in result.output
    assert uw.user("qa-alice") == someone
    creates = [r["body"]["identity"]["external_id"] for r in uw.emulator.requests()
               if r["method"] == "POST" and r["path"].endswith("/users")]
    assert creates == ["qa-alice", "qa-bob"]  # the test's own, and the other user of the plan
    assert list(uw.records()) == ["user.prod.qa-bob"]


def test_with_refresh_list_apply_views_before_creating(uw):
    uw.declare([ALICE])
    someone = uw.make_user("qa-alice", tags={"owner": "someone else"})
    result = _apply(uw, "--refresh", "list")
    assert result.exit_code == 1
    assert "appeared in OneSignal after the plan was made" in result.output
    assert uw.user("qa-alice") == someone and uw.records() == {}


def test_a_written_user_is_verified_by_viewing_when_onesignal_only_accepts_it(uw):
    uw.emulator.set_user_write_delay(1)
    uw.declare([ALICE])
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    assert re.search(r"user\.prod\.qa-alice: Creation complete \[created onesignal_id=[-0-9a-f]+, "
                     r"verified after \d+ s\]", result.stdout)
    record = uw.records()["user.prod.qa-alice"]
    assert all(s["id"] for s in record["subscriptions"])  # the view gave the ids


NAMES = [f"qa-user{i}" for i in range(4)]


def test_sigterm_mid_apply_finishes_the_user_in_flight_and_starts_no_other(uw):
    uw.declare([{"external_id": name, "tags": {"qa": "1"}} for name in NAMES])
    uw.emulator.set_faults([{"kind": "latency", "method": "POST", "path": "/users$", "latency_ms": 400}])
    process = start_osctl("-c", str(uw.dir), "apply", "--auto-approve", "--no-exports", "--parallelism", "1",
                          env=uw.emulator.env())
    try:
        seen = ""
        while "Creation complete" not in seen:
            line = process.stdout.readline()
            assert line, seen
            seen += line
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    out = seen + out
    assert process.returncode == 143, out + err
    assert "not started: stopped by SIGTERM" in out
    records = uw.records()
    created = {r["external_id"] for r in records.values()}
    assert all(r["status"] == "created" for r in records.values())  # no intent of a user never sent
    assert created == {name for name in NAMES if uw.user(name) is not None}, out + err
    assert 1 <= len(created) < len(NAMES)
    uw.emulator.clear_faults()
    again = run_osctl("apply", "--auto-approve", "--no-exports", "-c", str(uw.dir), env=uw.emulator.env())
    assert again.exit_code == 0, again.output
    assert {r["external_id"] for r in uw.records().values()} == set(NAMES)


def test_an_update_of_a_user_deleted_outside_says_so(uw):
    uw.declare([ALICE])
    assert _apply(uw).exit_code == 0
    uw.api("DELETE", f"/apps/{uw.app_id}/users/by/external_id/qa-alice")
    uw.declare([{**ALICE, "tags": {"qa": "1"}}])
    result = _apply(uw, "--refresh", "none")  # the plan trusts state: it does not know
    assert result.exit_code == 1
    assert "user 'qa-alice' is not in OneSignal any more (deleted outside osctl), so it was not updated" \
        in result.stdout
    assert uw.user("qa-alice") is None


def test_an_update_whose_state_write_fails_says_what_was_sent_and_the_next_apply_finishes(uw):
    """As on a full disk: the child's file size limit admits the lock, not the state document."""
    from tests.osctl_process import run_osctl_process

    uw.declare([ALICE])
    assert _apply(uw).exit_code == 0
    state_path = uw.dir / ".osctl" / "state.json"
    before = state_path.read_bytes()
    uw.declare([{**ALICE, "tags": {"qa": "1", "cohort": "summer"}}])
    result = run_osctl_process("-c", str(uw.dir), "apply", "--auto-approve", "--no-exports",
                               env=uw.emulator.env(), file_size_limit=len(before) // 2)
    said = (f"user.prod.qa-alice: changed in OneSignal (properties), but recording it in state failed: state "
            f"could not be written: cannot write {state_path}: File too large; the next plan sends what remains")
    assert result.exit_code == 1, result.output
    assert f"  FAILED  {said}\n" in result.stdout
    assert "internal error" not in result.output
    assert state_path.read_bytes() == before  # whole, as it was
    assert not (uw.dir / ".osctl" / "state.json.lock").exists()
    assert uw.user("qa-alice")["properties"]["tags"] == {"qa": "1", "cohort": "summer"}

    assert _apply(uw).exit_code == 0  # sends nothing new: live is as declared; state catches up
    assert uw.records()["user.prod.qa-alice"]["tags"] == {"qa": "1", "cohort": "summer"}
    assert uw.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_a_verified_update_records_the_whole_declaration_also_what_a_killed_apply_sent(uw):
    """A killed apply may have set an alias without recording it. The next apply sends only what
    still differs; once the view shows the user as declared, state says so too: the plan after
    it has nothing to do (it used to show a state-only change)."""
    uw.declare([ALICE])
    assert _apply(uw).exit_code == 0
    uw.declare([{**ALICE, "aliases": {"crm_id": "qa-999"},
                 "subscriptions": [*ALICE["subscriptions"], {"type": "Email", "token": "alice2@example.com"}]}])
    sent = uw.api("PATCH", f"/apps/{uw.app_id}/users/by/external_id/qa-alice/identity",
                  json={"identity": {"crm_id": "qa-999"}})  # the step the killed apply sent
    assert sent.status_code == 200, sent.text
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    assert "updated (Email alice2@example.com added), verified after" in result.stdout
    record = uw.records()["user.prod.qa-alice"]
    assert record["aliases"] == {"crm_id": "qa-999"}
    assert all(s["id"] for s in record["subscriptions"])
    assert uw.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_a_device_of_a_real_account_is_never_moved_to_a_test_user(uw):
    """Found by review: `devices:` moved a customer's phone to the test user without a word."""
    customer = uw.make_user("customer-7", tags={"plan": "gold"}, subscriptions=[("iOSPush", "apns-token-7")])
    device = customer["subscriptions"][0]["id"]
    uw.declare([{**ALICE, "devices": [device]}])
    result = _apply(uw)
    assert result.exit_code == 1
    assert (f"FAILED  user.prod.qa-alice: refused, nothing was sent: device {device} belongs to a user osctl "
            f"does not manage") in result.stdout
    assert uw.user("customer-7")["subscriptions"] == customer["subscriptions"]
    assert uw.user("qa-alice") is None and uw.records() == {}
    assert not [r for r in uw.emulator.requests() if r["method"] == "PATCH" and r["path"].endswith("/owner")]


def test_a_step_onesignal_applied_whose_record_was_lost_is_recorded_by_the_next_apply(uw):
    """A kill between a write and its record in state (tests/users/test_reliability.py found it):
    the next plan sees OneSignal as declared and brings state up to date, sending nothing, so a
    later plan that trusts state (--refresh list) is right."""
    uw.declare([ALICE])
    assert _apply(uw).exit_code == 0
    email_id = uw.records()["user.prod.qa-alice"]["subscriptions"][0].get("id")
    changed = {**ALICE, "tags": {"qa": "1", "cohort": "summer"}, "subscriptions": ALICE["subscriptions"][:1]}
    uw.declare([changed])
    # what the killed apply had sent: the tags, and the SMS deleted
    uw.api("PATCH", f"/apps/{uw.app_id}/users/by/external_id/qa-alice",
           json={"properties": {"tags": {"cohort": "summer"}}})
    sms = next(s["id"] for s in uw.user("qa-alice")["subscriptions"] if s["type"] == "SMS")
    uw.api("DELETE", f"/apps/{uw.app_id}/subscriptions/{sms}")
    planned = uw.osctl("plan", "--no-exports")
    assert planned.exit_code == 0, planned.output
    assert ('~ user "qa-alice" (prod)  OneSignal already has it as declared: an earlier apply stopped before '
            'recording it; recorded as it is (state only)\n      state: tags.cohort: "spring" → "summer"\n'
            f'      state: - subscription SMS +15555550100 (id {sms})\n') in planned.stdout
    uw.emulator.clear_requests()
    result = _apply(uw)
    assert result.exit_code == 0, result.output
    assert "user.prod.qa-alice: State updated [updated in state" in result.stdout
    assert not [r for r in uw.emulator.requests() if r["method"] != "GET"]  # nothing sent
    record = uw.records()["user.prod.qa-alice"]
    assert record["tags"] == {"qa": "1", "cohort": "summer"}
    assert [(s["type"], s["token"]) for s in record["subscriptions"]] == [("Email", "alice@example.com")]
    assert record["subscriptions"][0].get("id") == email_id  # what state knew of it is kept
    listed = uw.osctl("plan", "--no-exports", "--refresh", "list", "--detailed-exitcode")
    assert listed.exit_code == 0 and "No changes" in listed.stdout, listed.output


def test_an_edit_outside_osctl_after_the_plan_is_said_not_waited_for(uw):
    """Apply verifies what it sent. A dashboard edit of something else, made after the plan, used to
    keep it viewing the user for 30 s and then fail; now it is said, and the next plan shows it."""
    uw.declare([ALICE])
    assert _apply(uw).exit_code == 0
    uw.declare([{**ALICE, "tags": {"qa": "1", "cohort": "summer"}}])
    plan = uw.dir / "plan.json"
    assert uw.osctl("plan", "--no-exports", "--out", str(plan)).exit_code in (0, 2)
    edit = uw.api("PATCH", f"/apps/{uw.app_id}/users/by/external_id/qa-alice",
                  json={"properties": {"tags": {"qa": "0"}}})  # the dashboard, after the plan
    assert edit.status_code in (200, 202), edit.text
    result = uw.osctl("apply", str(plan))
    assert result.exit_code == 0, result.output
    assert re.search(r'user\.prod\.qa-alice: Update complete \[updated \(properties\), '
                     r'verified after \d s; changed outside osctl since the plan, and left as it is: '
                     r'tags\.qa: "0" → "1" \(the next plan shows it\)\]', result.stdout), result.stdout
    assert uw.user("qa-alice")["properties"]["tags"] == {"qa": "0", "cohort": "summer"}
    after = uw.osctl("plan", "--no-exports")
    assert 'tags.qa: "0" → "1"' in after.stdout, after.stdout
