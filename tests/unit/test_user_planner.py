"""The test-user part of the planner (docs/design.md#test-users), with no I/O."""

from datetime import UTC, datetime

import pytest

from osctl.config.loader import analyse
from osctl.errors import PlanError
from osctl.onesignal.user_types import LiveUser
from osctl.plan.model import Action, Plan, Reason
from osctl.plan.planner import AppLive, PlanOptions, make_plan
from osctl.state.model import State, UserRecord, UserSubscriptionRecord
from osctl.users.ownership import TokenOwners
from osctl.users.planner import LiveUsers

NOW = datetime(2026, 11, 22, 3, 5, tzinfo=UTC)
APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
ALICE = """  - external_id: qa-alice
    tags: {qa: 1, cohort: spring}
    language: en
    subscriptions: [{type: Email, token: alice@example.com}]
"""


def config(users: str = ALICE, segments: str = "") -> object:
    text = (f"osctl: 1\napps:\n  prod:\n    app_id: {APP_ID}\n    test_users: {{external_id_prefix: qa-, "
            f"email_domains: [example.com], sms_numbers: ['+15555550100']}}\n")
    if segments:
        text += "segments:\n" + segments
    if users:
        text += "test_users:\n" + users
    analysis = analyse("conf", [("conf/osctl.yaml", text)])
    assert analysis.config is not None, [d.format() for d in analysis.diagnostics]
    return analysis.config


def alice_record(**kw) -> UserRecord:
    fields = dict(app="prod", app_id=APP_ID, external_id="qa-alice", onesignal_id="os-1",
                  tags={"qa": "1", "cohort": "spring"}, language="en",
                  subscriptions=[UserSubscriptionRecord("Email", "alice@example.com", "sub-1")])
    fields.update(kw)
    return UserRecord(**fields)


def state(*records: UserRecord) -> State:
    s = State.new()
    for r in records:
        s.users[r.address] = r
    return s


def live_user(external_id="qa-alice", tags=None, language="en", subs=None, onesignal_id="os-1") -> LiveUser:
    data = {"identity": {"external_id": external_id, "onesignal_id": onesignal_id},
            "properties": {"tags": {"qa": "1", "cohort": "spring"} if tags is None else tags, "language": language},
            "subscriptions": [{"id": "sub-1", "type": "Email", "token": "alice@example.com"}] if subs is None else subs}
    return LiveUser.from_json(data)


def viewed(users=None, owners=None) -> dict:
    return {"prod": AppLive(segments=(), users=LiveUsers(users=users, owners=owners))}


def plan(cfg, st, live, **options) -> Plan:
    return make_plan(cfg, st, live, NOW, PlanOptions(**options))


def only(p: Plan):
    [change] = p.user_changes
    return change


def test_a_declared_user_nobody_has_is_created_with_what_the_plan_shows():
    change = only(plan(config(), None, viewed({"qa-alice": None})))
    assert (change.action, change.reason, change.address) == (Action.CREATE, Reason.NEW, "user.prod.qa-alice")
    assert change.lines == ('tags.cohort: "spring"', 'tags.qa: "1"', 'language: "en"',
                            "+ subscription Email alice@example.com")
    assert change.declared["tags"] == {"qa": "1", "cohort": "spring"}


def test_a_live_user_osctl_did_not_create_is_in_the_way_and_never_adopted():
    with pytest.raises(PlanError) as caught:
        plan(config(), None, viewed({"qa-alice": live_user()}))
    [problem] = caught.value.problems
    assert "already exists in OneSignal" in problem and "osctl import user.prod.qa-alice" in problem


def test_a_dashboard_edit_is_drift_and_the_update_restores_the_declaration():
    change = only(plan(config(), state(alice_record()),
                       viewed({"qa-alice": live_user(tags={"qa": "1", "cohort": "summer", "vip": "y"})})))
    assert (change.action, change.reason) == (Action.UPDATE, Reason.EDITED_OUTSIDE)
    assert change.lines == ('tags.cohort: "summer" → "spring"', 'tags.vip: "y" → (removed)')
    assert change.diff["tags_removed"] == {"vip": "y"}


def test_a_changed_declaration_is_an_update_for_the_config_reason():
    users = ALICE.replace("cohort: spring", "cohort: summer")
    change = only(plan(config(users), state(alice_record()), viewed({"qa-alice": live_user()})))
    assert (change.action, change.reason) == (Action.UPDATE, Reason.DECLARATION_CHANGED)
    assert change.lines == ('tags.cohort: "spring" → "summer"',)


def test_without_views_the_declaration_is_compared_with_what_osctl_last_applied():
    users = ALICE.replace("cohort: spring", "cohort: summer")
    not_viewed = {"prod": AppLive(None)}
    change = only(plan(config(users), state(alice_record()), not_viewed, refresh="none"))
    assert (change.action, change.lines) == (Action.UPDATE, ('tags.cohort: "spring" → "summer"',))
    assert plan(config(), state(alice_record()), not_viewed, refresh="none").user_changes == ()


def test_without_views_an_address_whose_id_osctl_has_not_learnt_is_removed_without_an_empty_id():
    users = ALICE.replace("alice@example.com", "alice2@example.com")
    record = alice_record(subscriptions=[UserSubscriptionRecord("Email", "alice@example.com")])  # no id yet
    change = only(plan(config(users), state(record), {"prod": AppLive(None)}, refresh="list"))
    assert change.lines == ("+ subscription Email alice2@example.com", "- subscription Email alice@example.com")


def test_deleted_outside_is_created_again_or_forgotten_when_no_longer_declared():
    change = only(plan(config(), state(alice_record()), viewed({"qa-alice": None})))
    assert (change.action, change.reason) == (Action.CREATE, Reason.DELETED_OUTSIDE)
    change = only(plan(config(users=""), state(alice_record()), viewed({"qa-alice": None})))
    assert (change.action, change.reason) == (Action.FORGET, Reason.DELETED_OUTSIDE)


def test_a_user_no_longer_declared_is_deleted():
    change = only(plan(config(users=""), state(alice_record()), viewed({"qa-alice": live_user()})))
    assert (change.action, change.reason, change.onesignal_id) == (Action.DELETE, Reason.NOT_DECLARED, "os-1")


def test_an_interrupted_create_is_adopted_when_the_user_is_there_as_declared():
    pending = alice_record(onesignal_id=None, status="pending_create")
    change = only(plan(config(), state(pending), viewed({"qa-alice": live_user()})))
    assert (change.action, change.reason, change.onesignal_id) == (Action.ADOPT, Reason.CREATE_INTERRUPTED, "os-1")
    change = only(plan(config(), state(pending), viewed({"qa-alice": None})))
    assert (change.action, change.reason) == (Action.CREATE, Reason.CREATE_INTERRUPTED)


def test_a_step_done_whose_record_was_lost_brings_state_up_to_date_and_sends_nothing():
    """Killed after OneSignal applied a step and before state recorded it: live already shows
    the declaration, state does not. Only state changes, or --refresh list plans would be wrong."""
    behind = alice_record(tags={"qa": "1", "cohort": "summer"},
                          subscriptions=[UserSubscriptionRecord("Email", "alice@example.com", "sub-1"),
                                         UserSubscriptionRecord("SMS", "+15555550100", "sub-2")])
    change = only(plan(config(), state(behind), viewed({"qa-alice": live_user()})))
    assert (change.action, change.reason, change.onesignal_id) == (Action.UPDATE_STATE, Reason.ALREADY_LIVE, "os-1")
    assert change.declared["tags"] == {"qa": "1", "cohort": "spring"} and change.diff is None
    assert change.lines == ('state: tags.cohort: "summer" → "spring"', "state: - subscription SMS +15555550100 (id sub-2)")
    assert plan(config(), state(behind), viewed({"qa-alice": live_user()})).summary()["users"]["state_only"] == 1
    # state holding an id the user does not have (a repeated create's answer) catches up too
    change = only(plan(config(), state(alice_record(onesignal_id="os-0")), viewed({"qa-alice": live_user()})))
    assert (change.action, change.onesignal_id, change.lines) == (Action.UPDATE_STATE, "os-1",
                                                                  ("state: onesignal_id os-0 → os-1",))
    # state as declared, live as declared: nothing to do
    assert plan(config(), state(alice_record()), viewed({"qa-alice": live_user()})).user_changes == ()


def test_a_recorded_user_outside_the_prefix_is_never_touched():
    stray = alice_record(external_id="real-bob")
    with pytest.raises(PlanError) as caught:
        plan(config(users=""), state(stray), viewed({}))
    [problem] = caught.value.problems
    assert "does not start with the app's external_id_prefix 'qa-'" in problem
    assert "osctl state rm user.prod.real-bob" in problem


@pytest.mark.parametrize(("owner", "named"), [("qa-bob", "test user 'qa-bob'"),
                                               ("", "a user osctl does not manage"),
                                               ("customer-7", "a user osctl does not manage")])
def test_an_address_someone_else_holds_is_refused_naming_the_owner(owner, named):
    bob = "  - external_id: qa-bob\n"
    owners = TokenOwners.from_rows([{"identifier": "ALICE@example.com", "device_type": "11",
                                     "external_user_id": owner}])
    with pytest.raises(PlanError) as caught:
        plan(config(ALICE + bob), None, viewed({"qa-alice": None, "qa-bob": None}, owners))
    [problem] = caught.value.problems
    assert problem.startswith("user.prod.qa-alice: Email alice@example.com already belongs to " + named)


def test_an_address_the_user_itself_holds_is_fine():
    owners = TokenOwners.from_rows([{"identifier": "alice@example.com", "device_type": "11",
                                     "external_user_id": "qa-alice"}])
    assert only(plan(config(), None, viewed({"qa-alice": None}, owners))).action == Action.CREATE


def test_the_plan_says_which_declared_segments_the_user_falls_into():
    segments = ("  - name: QA testers\n    filters: [{field: tag, key: qa, relation: '=', value: '1'}]\n"
                "  - name: Active\n    filters: [{field: session_count, relation: '>', value: '3'}]\n"
                "  - name: French\n    filters: [{field: language, relation: '=', value: fr}]\n")
    change = only(plan(config(segments=segments), None, viewed({"qa-alice": None})))
    assert change.segments == (("Active", "can't tell"), ("QA testers", "yes"))


def test_user_changes_round_trip_through_a_saved_plan_and_are_targetable():
    p = plan(config(), state(alice_record()), viewed({"qa-alice": live_user(tags={"qa": "2"})}))
    assert Plan.from_dict(p.to_dict()) == p
    assert p.to_dict()["summary"]["users"] == {"create": 0, "update": 1, "delete": 0, "state_only": 0}
    assert plan(config(), state(alice_record()), viewed({"qa-alice": live_user(tags={"qa": "2"})}),
                targets=("segment",)).user_changes == ()
