"""The test-user executor against the emulator over HTTP, with the time it waits for 202
writes taken from a clock the test moves (the emulator's clock moves with it), and with
the token owners handed in as `osctl apply` hands them (docs/test-users.md#applying)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from osctl.apply_users import UserExecutor
from osctl.cli.apply_view import TextObserver
from osctl.config.loader import load_or_fail
from osctl.onesignal.client import OneSignalClient
from osctl.onesignal.user_types import LiveUser
from osctl.plan.model import Action
from osctl.state.local import LocalBackend
from osctl.state.model import State
from osctl.state.store import StateStore
from osctl.users.ownership import TokenOwners
from osctl.users.planner import LiveUsers, plan_users

RAILS = {"external_id_prefix": "qa-", "email_domains": ["example.com"], "sms_numbers": ["+1555555010*"]}
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BOB = {"external_id": "qa-bob", "tags": {"qa": "1", "cohort": "spring"},
       "subscriptions": [{"type": "Email", "token": "bob@example.com"}]}


class MovedTime:
    """The executor's clock and sleep: sleeping moves this clock and the emulator's."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.emulator.advance(seconds)


class Setup:
    def __init__(self, tmp_path, emulator):
        self.dir, self.emulator = tmp_path, emulator
        emulator.set_rate_limit("user_view", None)  # the pace of views is not what these tests are about
        self.client = OneSignalClient(emulator.url, emulator.api_key, view_interval=0)
        self.backend = LocalBackend(tmp_path / ".osctl" / "state.json")
        self.store = StateStore(self.backend, State.new())
        self.time = MovedTime(emulator)

    def declare(self, users: list[dict], rails: dict = RAILS):
        lines = ["osctl: 1", "apps:", f"  prod: {{app_id: {self.emulator.app_id}, test_users: {json.dumps(rails)}}}",
                 "test_users:" + ("" if users else " []")]
        lines += [f"  - {json.dumps(user)}" for user in users]
        (self.dir / "osctl.yaml").write_text("\n".join(lines) + "\n")
        self.config = load_or_fail(self.dir)
        return self.config

    def plan(self, viewed: bool = False):
        """The pure planner's user changes; `viewed`: with the users viewed (as --refresh full does)."""
        live = {}
        if viewed:
            ids = {u.external_id for u in self.config.test_users} | {r.external_id for r in self.store.state.users.values()}
            live = {"prod": LiveUsers(users={i: self.client.get_user(self.emulator.app_id, i) for i in ids})}
        problems: list[str] = []
        changes = plan_users(self.config, self.store.state, live, problems)
        assert not problems
        return changes

    def run(self, changes, *, token_owners=lambda app: None, users_viewed=True, timeout: float = 30.0):
        executor = UserExecutor(store=self.store, clients={"prod": self.client}, observer=TextObserver(),
                                now=lambda: NOW, config=self.config, token_owners=token_owners,
                                users_viewed=users_viewed, clock=self.time.clock, sleep=self.time.sleep,
                                verify_timeout=timeout)
        result = executor.run(changes)
        self.store.flush()
        return result

    def make_user(self, external_id: str, **body) -> dict:
        answer = self.client.create_user(self.emulator.app_id, {"identity": {"external_id": external_id}, **body})
        return answer.identity

    def mark(self) -> int:
        """Where the emulator's request log is now: requests(mark) are those sent after."""
        return max((r["seq"] for r in self.emulator.requests()), default=0)

    def sent_since(self, mark: int) -> list[dict]:
        return self.emulator.requests(mark)

    def live(self, external_id: str) -> LiveUser | None:
        return self.client.get_user(self.emulator.app_id, external_id)

    def records(self) -> dict:
        return {address: record for address, record in (self.backend.read() or State.new()).users.items()}


@pytest.fixture
def setup(tmp_path, emulator):
    made = Setup(tmp_path, emulator)
    yield made
    made.client.close()


def test_a_create_answered_202_is_verified_once_the_user_shows(setup):
    setup.emulator.set_user_write_delay(10)
    setup.declare([BOB])
    result = setup.run(setup.plan())
    assert not result.failed
    [(change, detail)] = result.succeeded
    assert detail.startswith("created onesignal_id=") and detail.endswith("verified after 15 s")  # 1+2+4+8
    live = setup.live("qa-bob")
    assert live.tags == {"qa": "1", "cohort": "spring"}
    record = setup.records()["user.prod.qa-bob"]
    assert record.status == "created" and record.onesignal_id == live.onesignal_id
    assert [(s.type, s.token, s.id) for s in record.subscriptions] == \
        [(s.type, s.token, s.id) for s in live.subscriptions]


def test_a_create_that_never_shows_is_reported_and_its_record_kept(setup):
    setup.emulator.set_user_write_delay(1000)
    setup.declare([BOB])
    result = setup.run(setup.plan())
    [(change, error)] = result.failed
    assert error.startswith("created (onesignal_id ")
    assert "OneSignal accepted it (202), but after 30 s the user is not there yet" in error
    assert setup.records()["user.prod.qa-bob"].status == "created"  # the next plan finds it, or creates it again


def test_an_update_that_does_not_show_in_time_reports_what_still_differs(setup):
    setup.declare([BOB])
    assert not setup.run(setup.plan()).failed
    setup.emulator.set_user_write_delay(1000)
    setup.declare([{**BOB, "tags": {"qa": "1", "cohort": "summer"}}])
    result = setup.run(setup.plan())
    [(change, error)] = result.failed
    assert change.action == Action.UPDATE
    assert 'after 30 s the user still differs from its declaration: tags.cohort: "spring" → "summer"' in error
    assert setup.records()["user.prod.qa-bob"].tags == {"qa": "1", "cohort": "summer"}  # what was sent


def test_an_address_another_user_holds_is_refused_before_anything_is_sent(setup):
    setup.make_user("customer-7", subscriptions=[{"type": "Email", "token": "bob@example.com"}])
    setup.declare([BOB])
    owners = TokenOwners.from_rows([{"identifier": "bob@example.com", "device_type": "11",
                                     "external_user_id": "customer-7"}])
    looked_up = []
    before = setup.mark()

    def token_owners(app):
        looked_up.append(app)
        return owners

    result = setup.run(setup.plan(), token_owners=token_owners)
    [(change, error)] = result.failed
    assert error.startswith("refused, nothing was sent: Email bob@example.com already belongs to a user osctl "
                            "does not manage")
    assert looked_up == ["prod"]
    assert setup.sent_since(before) == []
    assert [s.token for s in setup.live("customer-7").subscriptions] == ["bob@example.com"]
    assert setup.records() == {}


def test_owners_not_looked_up_do_not_refuse(setup):
    setup.declare([BOB])
    result = setup.run(setup.plan(), token_owners=lambda app: None)
    assert not result.failed and setup.live("qa-bob") is not None


def test_the_guard_rails_are_checked_again_at_apply(setup):
    """A plan made under looser rails (a saved plan, an edited config) sends nothing outside them."""
    setup.declare([{**BOB, "subscriptions": [{"type": "Email", "token": "bob@example.org"}]}],
                  rails={**RAILS, "email_domains": ["example.org"]})
    changes = setup.plan()
    setup.declare([BOB])
    before = setup.mark()
    result = setup.run(changes)
    [(change, error)] = result.failed
    assert error == ("refused, nothing was sent: bob@example.org is not on an allowed email domain "
                     "(example.com)")
    assert setup.sent_since(before) == []


def test_a_user_in_the_way_is_refused_when_the_plan_did_not_view_users(setup):
    setup.declare([BOB])
    changes = setup.plan()
    setup.make_user("qa-bob", properties={"tags": {"owner": "someone"}})
    result = setup.run(changes, users_viewed=False)
    [(change, error)] = result.failed
    assert "appeared in OneSignal after the plan was made" in error
    assert setup.live("qa-bob").tags == {"owner": "someone"} and setup.records() == {}


def test_forget_and_adopt_change_state_only(setup):
    setup.declare([BOB, {"external_id": "qa-carol", "tags": {"qa": "1"}}])
    assert not setup.run(setup.plan()).failed
    # carol deleted outside and no longer declared: forgotten
    setup.client.delete_user(setup.emulator.app_id, "qa-carol")
    # bob's create was interrupted: his record is an intent, and he is live as declared
    setup.store.update(lambda s: s.users.__setitem__(
        "user.prod.qa-bob", type(s.users["user.prod.qa-bob"])(
            app="prod", app_id=setup.emulator.app_id, external_id="qa-bob", onesignal_id=None,
            status="pending_create")))
    setup.declare([BOB])
    changes = setup.plan(viewed=True)
    assert sorted(c.action for c in changes) == [Action.ADOPT, Action.FORGET]
    before = setup.mark()
    result = setup.run(changes)
    assert sorted(detail.split("=")[0] for _, detail in result.succeeded) == ["adopted onesignal_id",
                                                                              "removed from state"]
    assert setup.sent_since(before) == []
    records = setup.records()
    assert list(records) == ["user.prod.qa-bob"]
    assert records["user.prod.qa-bob"].status == "created"
    assert records["user.prod.qa-bob"].onesignal_id == setup.live("qa-bob").onesignal_id


def test_owners_that_cannot_be_looked_up_refuse_the_addresses_and_are_asked_for_once(setup):
    from osctl.errors import OsctlError

    setup.declare([BOB, {"external_id": "qa-carol", "subscriptions": [{"type": "SMS", "token": "+15555550101"}]}])
    asked = []

    def token_owners(app):
        asked.append(app)
        raise OsctlError("the subscriptions export did not finish in 2 hours")

    before = setup.mark()
    result = setup.run(setup.plan(), token_owners=token_owners)
    assert sorted(c.external_id for c, _ in result.failed) == ["qa-bob", "qa-carol"]
    assert all(error == "refused, nothing was sent: who holds its Email and SMS addresses could not be looked "
                        "up: the subscriptions export did not finish in 2 hours" for _, error in result.failed)
    assert asked == ["prod"] and setup.sent_since(before) == []
