"""Carries out a plan's test-user changes (effects: API calls and state writes), after the
segment changes and before the exports (docs/test-users.md#applying).

Order and safety, as for segments (osctl.apply):
- deletes, then updates, then creates, then the state-only changes (forget, adopt, and
  update-state: OneSignal shows the declaration already, state catches up);
  users run side by side up to --parallelism, one user's steps one after another
  (OneSignal takes about one write per second per user);
- before anything is sent for a user, the guard rails are checked again against the
  config (a saved plan may be older than it), and so is who holds each Email or SMS
  address about to be added, when `token_owners` looked them up (None: not looked up);
- a create is refused when a user with its external id exists live and state does not
  hold it. The plan saw that already when it viewed the users; it did not when it was
  saved earlier or made with --refresh list/none: the caller says so (`users_viewed`),
  and the executor then views the user before the create;
- before a create is sent, its intent is durable in state (status pending_create): a
  lost answer leaves a record that the next plan adopts (the create is found by its
  external_id, never duplicated);
- after each step (create, properties, aliases, each subscription and device) state
  records what was applied, durably, so a crash leaves state true;
- writes OneSignal only accepted (202: every update, a create answered 202) are checked
  by viewing the user until it matches the declaration, or `verify_timeout` passes: what
  still differs is reported as the failure of that change;
- once `stop_reason()` says why, no new user is started; those in flight finish
  (verification included) and are recorded; the rest are listed as not attempted.
The executor reports progress to an observer (as osctl.apply's) and never prints.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from osctl.apply import ApplyObserver, ApplyResult, run_step
from osctl.config.model import Config
from osctl.errors import (
    ApiError,
    NotFound,
    NotRecorded,
    OneSignalRequestFailed,
    OsctlError,
    StateError,
    UserIdentityConflict,
)
from osctl.onesignal.api import UserClients, UsersApi
from osctl.onesignal.user_types import LiveUser
from osctl.plan.model import Action, UserChange
from osctl.schedule import format_time
from osctl.shell import osctl_command
from osctl.state.model import State, UserRecord, UserSubscriptionRecord
from osctl.state.store import StateAccess
from osctl.users.guards import GUARDED_TYPES, GuardRails
from osctl.users.model import DeclaredUser, UserDiff, diff
from osctl.users.ownership import TokenOwners, ownership_problem, token_key

VERIFY_TIMEOUT = 30.0  # seconds a 202 write may take to show (docs/test-users.md#applying)
VERIFY_WAITS = (1.0, 2.0, 4.0, 8.0)  # between views of a user being verified; then 8 s each
_STEPS = {Action.CREATE: "create", Action.UPDATE: "update", Action.DELETE: "delete"}


class UserExecutor:
    def __init__(self, *, store: StateAccess, clients: UserClients, observer: ApplyObserver,
                 now: Callable[[], datetime], config: Config,
                 token_owners: Callable[[str], TokenOwners | None] = lambda app: None,
                 users_viewed: bool = False, parallelism: int = 10,
                 stop_reason: Callable[[], str | None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 verify_timeout: float = VERIFY_TIMEOUT):
        """`token_owners(app alias)`: who holds the app's Email/SMS tokens, or None when not
        looked up (then ownership is not checked here); `users_viewed`: the plan viewed the
        users it creates just before (see the module docstring); `clock` and `sleep`
        time the verification of 202 writes."""
        self.store, self.clients, self.observer, self.now = store, clients, observer, now
        self.rails: dict[str, GuardRails | None] = {alias: app.test_users for alias, app in config.apps.items()}
        self.declared_ids: dict[str, list[str]] = {}
        for user in config.test_users:
            self.declared_ids.setdefault(user.app, []).append(user.external_id)
        self.token_owners = token_owners
        self.users_viewed = users_viewed
        self.parallelism = max(1, parallelism)
        self.stop_reason = stop_reason
        self.clock, self.sleep, self.verify_timeout = clock, sleep, verify_timeout
        self._owners: dict[str, TokenOwners | OsctlError | None] = {}  # looked up (or failed) once per app
        self._owners_locks = {alias: threading.Lock() for alias in config.apps}

    def run(self, changes: Iterable[UserChange]) -> ApplyResult:
        result = ApplyResult()
        changes = list(changes)
        for action in (Action.DELETE, Action.UPDATE, Action.CREATE):
            batch = [c for c in changes if c.action == action]
            if batch:
                with ThreadPoolExecutor(max_workers=min(self.parallelism, len(batch))) as pool:
                    list(pool.map(lambda c: self._unless_stopped(c, result), batch))
        for change in changes:
            if change.action in (Action.FORGET, Action.ADOPT, Action.UPDATE_STATE):
                self._unless_stopped(change, result)
        return result

    def _unless_stopped(self, change: UserChange, result: ApplyResult) -> None:
        reason = self.stop_reason()
        if reason is not None:
            result.stopped = reason
            result.skip(change, f"not started: {reason}")
            return
        work = {Action.CREATE: self._create, Action.UPDATE: self._update, Action.DELETE: self._delete,
                Action.FORGET: self._forget, Action.ADOPT: self._adopt, Action.UPDATE_STATE: self._catch_up}[change.action]
        run_step(self.observer, result, change, _STEPS.get(change.action, "state"), lambda: work(change))

    # -- the changes -------------------------------------------------------------------
    def _delete(self, change: UserChange) -> str:
        self._check_rails(change, ())
        found = self._client(change).delete_user(change.app_id, change.external_id)
        done = f"deleted in OneSignal (onesignal_id {change.onesignal_id or 'unknown'})" if found \
            else "already gone from OneSignal"
        self._record(change, lambda s: s.users.pop(change.address, None), done=done,
                     then="the next plan will forget it")
        return f"deleted onesignal_id={change.onesignal_id or 'unknown'}" if found else "already gone"

    def _create(self, change: UserChange) -> str:
        user = _declared(change)
        self._check_rails(change, user.subscriptions)
        self._check_owners(change, user.subscriptions)
        self._check_devices(change, user.devices)
        client = self._client(change)
        record = self.store.view(lambda s: s.users.get(change.address))
        if not self.users_viewed and record is None and client.get_user(change.app_id, change.external_id):
            raise ApiError(
                f"a user with external id {change.external_id!r} appeared in OneSignal after the plan was made, "
                f"and osctl did not create or import it: osctl leaves it alone and created nothing. To manage it "
                f"with this configuration, run: {osctl_command('import', change.address)} (then plan again); "
                f"or declare another external id")
        stamp = format_time(self.now())
        intent = UserRecord(app=change.app, app_id=change.app_id, external_id=change.external_id,
                            onesignal_id=None, created_at=stamp, status="pending_create")
        try:
            self.store.update(lambda s: _put(s, intent))
        except StateError as exc:  # nothing is sent whose intent is not durable
            raise StateError(f"not created: recording the intent in state failed: {exc}") from None
        try:
            created = client.create_user(change.app_id, user.create_body())
        except OneSignalRequestFailed as exc:
            if _certainly_not_done(exc):  # the intent goes: state says what happened
                with contextlib.suppress(StateError):  # else the next plan creates it again, as now
                    self.store.update(lambda s: _put(s, record) if record else s.users.pop(change.address, None))
            raise
        onesignal_id = created.onesignal_id
        ids = {token_key(s.type, s.token): s.id for s in created.subscriptions}  # a 201 names them
        applied = replace(intent, onesignal_id=onesignal_id, status="created", tags=dict(user.tags),
                          language=user.language, timezone_id=user.timezone_id,
                          subscriptions=[UserSubscriptionRecord(kind, token, ids.get(token_key(kind, token)))
                                         for kind, token in user.subscriptions])
        done = f"created (onesignal_id {onesignal_id})"
        self._record(change, lambda s: _put(s, applied), done=done + " in OneSignal",
                     then="its intent is in state, so the next plan finds it by external id and adopts it")
        detail = f"created onesignal_id={onesignal_id}"
        steps = _Steps(self, change, done)
        if created.accepted_only and (user.aliases or user.devices):  # they need the user to be there
            self._view_until(change, lambda live: None if live is not None else
                             "the user is not there yet, so its aliases and devices were not set", done)
        steps.set_aliases(dict(user.aliases))
        for device in user.devices:
            steps.attach(device)
        if created.accepted_only:  # a 201 is applied; a 202 is verified by viewing
            detail += f", {self._verify(change, user, done)}"
        return detail

    def _update(self, change: UserChange) -> str:
        user = _declared(change)
        difference = UserDiff.from_dict(change.diff or {})
        self._check_rails(change, difference.subscriptions_added)
        self._check_owners(change, difference.subscriptions_added)
        self._check_devices(change, difference.devices_attached)
        steps = _Steps(self, change, "")
        try:
            steps.properties(difference, user)
            steps.set_aliases({label: new for label, (_, new) in difference.aliases_set.items()})
            for label in difference.aliases_removed:
                steps.remove_alias(label)
            for kind, token in difference.subscriptions_added:
                steps.add_subscription(kind, token)
            for subscription in difference.subscriptions_removed:
                steps.remove_subscription(subscription.id, subscription.type, subscription.token)
            for device in difference.devices_attached:
                steps.attach(device)
        except NotFound as exc:
            if self._client(change).get_user(change.app_id, change.external_id) is not None:
                raise  # a subscription or device that is gone: the error names it
            before = f"{steps.summary()} in OneSignal; then " if steps.done else ""
            raise ApiError(f"{before}user {change.external_id!r} is not in OneSignal any more (deleted outside "
                           f"osctl), so it was not updated; 'osctl plan' (with --refresh full) plans to create "
                           f"it again", status=exc.status) from None
        # every user write but a create is answered 202: view until it shows
        return f"updated ({steps.summary()}), {self._verify(change, user, f'updated ({steps.summary()})', difference)}"

    def _forget(self, change: UserChange) -> str:
        self.store.update(lambda s: s.users.pop(change.address, None))
        return "removed from state"

    def _adopt(self, change: UserChange) -> str:
        user = _declared(change)
        stamp = format_time(self.now())
        record = UserRecord(app=change.app, app_id=change.app_id, external_id=change.external_id,
                            onesignal_id=change.onesignal_id, tags=dict(user.tags), language=user.language,
                            timezone_id=user.timezone_id, aliases=dict(user.aliases),
                            subscriptions=[UserSubscriptionRecord(k, t) for k, t in user.subscriptions],
                            devices=list(user.devices), created_at=stamp, status="created")
        self.store.update(lambda s: _put(s, record))
        return f"adopted onesignal_id={change.onesignal_id or 'unknown'}"

    def _catch_up(self, change: UserChange) -> str:
        """Record the declaration the plan saw live; subscription ids state had are kept."""
        user = _declared(change)

        def put(state: State) -> None:
            record = state.users.get(change.address)
            if record is None:  # gone from state since the plan: nothing to bring up to date
                return
            ids = {(s.type, s.token): s.id for s in record.subscriptions}
            _put(state, replace(record, onesignal_id=change.onesignal_id or record.onesignal_id,
                                tags=dict(user.tags), language=user.language or record.language,
                                timezone_id=user.timezone_id or record.timezone_id, aliases=dict(user.aliases),
                                subscriptions=[UserSubscriptionRecord(k, t, ids.get((k, t)))
                                               for k, t in user.subscriptions],
                                devices=list(user.devices), status="created"))

        self.store.update(put)
        return "updated in state (OneSignal already showed it)"

    # -- checks --------------------------------------------------------------------------
    def _check_rails(self, change: UserChange, tokens: Iterable[tuple[str, str]]) -> None:
        rails = self.rails.get(change.app)
        problem = (f"app '{change.app}' declares no test_users guard rails; osctl touches no user of an app "
                   f"without them") if rails is None else rails.refusal(change.external_id, tokens)
        if problem:
            raise ApiError(f"refused, nothing was sent: {problem}")

    def _check_owners(self, change: UserChange, tokens: Iterable[tuple[str, str]]) -> None:
        tokens = [(kind, token) for kind, token in tokens if kind in GUARDED_TYPES]
        if not tokens:
            return
        with self._owners_locks[change.app]:  # one lookup per app (an export), however many users need it
            if change.app not in self._owners:
                try:
                    self._owners[change.app] = self.token_owners(change.app)
                except OsctlError as exc:
                    self._owners[change.app] = exc
            owners = self._owners[change.app]
        if isinstance(owners, OsctlError):
            raise ApiError(f"refused, nothing was sent: who holds its Email and SMS addresses could not be "
                           f"looked up: {owners}")
        if owners is None:
            return
        for kind, token in tokens:
            problem = ownership_problem(kind, token, change.external_id, owners, self.declared_ids.get(change.app, ()))
            if problem:
                raise ApiError(f"refused, nothing was sent: {problem}")

    def _check_devices(self, change: UserChange, devices: Iterable[str]) -> None:
        """A device is moved only from a user without an external id (an app install nobody logged
        in to) or from a user inside the prefix that is not another declared test user: a push
        subscription of a real person's account is never taken (docs/test-users.md#applying)."""
        rails = self.rails.get(change.app)
        others = set(self.declared_ids.get(change.app, ())) - {change.external_id}
        for device in devices:
            owner = self._client(change).subscription_owner(change.app_id, device)
            if owner is None:
                raise ApiError(f"refused, nothing was sent: device {device} is not a subscription of app "
                               f"'{change.app}' (was it deleted, or is it another app's?)")
            external_id = owner.get("external_id")
            if not external_id or external_id == change.external_id:
                continue
            if external_id in others:
                holder = f"test user {external_id!r}"
            elif rails is not None and rails.owns(external_id):
                continue  # a user inside the prefix osctl does not manage: a QA leftover
            else:
                holder = "a user osctl does not manage"
            raise ApiError(f"refused, nothing was sent: device {device} belongs to {holder}; osctl does not "
                           f"take a push subscription away from it. Log the device out of that account "
                           f"(or remove it from the other test user) first")

    def _verify(self, change: UserChange, user: DeclaredUser, done: str, sent: UserDiff | None = None) -> str:
        """View the user until it matches `user`; what still differs when the time is up is an error.
        `sent`: what an update changed. Only that is waited for: a difference in what it left alone
        was made outside osctl since the plan, and is said, not waited for (the next plan shows it)."""
        def problem(live: LiveUser | None) -> str | None:
            if live is None:
                return "the user is not there yet"
            difference = diff(user, live.data)
            if sent is not None:
                difference = difference.within(sent)
            if difference.empty:
                return None
            return "the user still differs from its declaration: " + "; ".join(difference.lines())

        live, waited = self._view_until(change, problem, done)
        assert live is not None  # _view_until raises unless problem(live) is None
        self._record_verified(change, user, live)
        verified = f"verified after {waited:.0f} s"
        outside = diff(user, live.data)
        if outside.empty:
            return verified
        return (f"{verified}; changed outside osctl since the plan, and left as it is: "
                + "; ".join(outside.lines()) + " (the next plan shows it)")

    def _view_until(self, change: UserChange, problem: Callable[[LiveUser | None], str | None],
                    done: str) -> tuple[LiveUser | None, float]:
        """View the user (paced by the client) until `problem(view)` is None: (the view, seconds
        waited). If `verify_timeout` passes first, or a stop is asked for, the problem is the error."""
        client = self._client(change)
        started = self.clock()
        waits = iter(VERIFY_WAITS)
        while True:
            live = client.get_user(change.app_id, change.external_id)
            wrong = problem(live)
            if wrong is None:
                return live, self.clock() - started
            remaining = started + self.verify_timeout - self.clock()
            if remaining <= 0 or self.stop_reason():
                break
            self.sleep(min(next(waits, VERIFY_WAITS[-1]), remaining))
        stopped = f" ({self.stop_reason()})" if self.stop_reason() else ""
        raise ApiError(f"{done}; OneSignal accepted it (202), but after {self.clock() - started:.0f} s{stopped} "
                       f"{wrong}. State records what was sent; run 'osctl plan' to see what remains")

    def _record_verified(self, change: UserChange, user: DeclaredUser, live: LiveUser) -> None:
        """The user as declared, which the view showed, with the ids OneSignal gave it and its
        subscriptions. The whole declaration, not only the steps this apply took: a step sent by an
        earlier apply that was killed before recording it is true now too, and would otherwise stay
        unrecorded. The view's onesignal_id wins over a create's answer: a create asked again while
        OneSignal was applying the first is answered with an id of its own, and applied to the first's user."""
        ids = {token_key(s.type, s.token): s.id for s in live.subscriptions}

        def fill(state: State) -> None:
            record = state.users.get(change.address)
            if record is not None:
                subscriptions = [UserSubscriptionRecord(kind, token, ids.get(token_key(kind, token)))
                                 for kind, token in user.subscriptions]
                _put(state, replace(record, onesignal_id=live.onesignal_id or record.onesignal_id,
                                    tags=dict(user.tags), language=user.language or record.language,
                                    timezone_id=user.timezone_id or record.timezone_id, aliases=dict(user.aliases),
                                    subscriptions=subscriptions, devices=list(user.devices)))

        self._record(change, fill, done="verified", then="the ids are looked up again when needed")

    # -- plumbing --------------------------------------------------------------------------
    def _client(self, change: UserChange) -> UsersApi:
        return self.clients[change.app]

    def _record(self, change: UserChange, mutate: Callable[[State], object], *, done: str, then: str) -> None:
        """Record durably what was just `done` in OneSignal; NotRecorded (saying `then`: what the
        next plan makes of it) if state cannot be written."""
        try:
            self.store.update(mutate)
        except StateError as exc:
            raise NotRecorded(f"{done}, but recording it in state failed: {exc}; {then}") from None


class _Steps:
    """One user's writes after its create (or for its update), each recorded in state as it is done."""

    def __init__(self, executor: UserExecutor, change: UserChange, done: str):
        self.x = executor
        self.change = change
        self.client = executor._client(change)
        self.done: list[str] = [done] if done else []

    def summary(self) -> str:
        return ", ".join(self.done) or "nothing to send"

    def _step(self, what: str | None, mutate: Callable[[UserRecord], UserRecord]) -> None:
        """Record the step `what` just done (None: nothing was sent): `mutate` the user's record."""
        change = self.change

        def put(state: State) -> None:
            record = state.users.get(change.address) or UserRecord(
                app=change.app, app_id=change.app_id, external_id=change.external_id,
                onesignal_id=change.onesignal_id, created_at=format_time(self.x.now()))
            if record.status == "pending_create":  # an interrupted create the update finishes
                record = replace(record, status="created", onesignal_id=change.onesignal_id)
            _put(state, mutate(record))

        if what:
            self.done.append(what)
        self.x._record(change, put, done=f"changed in OneSignal ({self.summary()})",
                       then="the next plan sends what remains")

    def properties(self, difference: UserDiff, user: DeclaredUser) -> None:
        patch = difference.properties_patch()
        if patch is not None:
            self.client.update_user_properties(self.change.app_id, self.change.external_id, patch["properties"])

        # the declared tags, language and time zone are what the user has now (live matched
        # them already where nothing was sent)
        def applied(r: UserRecord) -> UserRecord:
            return replace(r, tags=dict(user.tags), language=user.language or r.language,
                           timezone_id=user.timezone_id or r.timezone_id)

        self._step("properties" if patch is not None else None, applied)

    def set_aliases(self, aliases: dict[str, str]) -> None:
        if not aliases:
            return
        try:
            self.client.upsert_aliases(self.change.app_id, self.change.external_id, aliases)
        except UserIdentityConflict as exc:
            held = exc.conflicting_aliases or aliases
            shown = ", ".join(f"{label}={value!r}" for label, value in sorted(held.items()))
            before = f"{', '.join(self.done)} in OneSignal; " if self.done else ""
            raise ApiError(f"{before}OneSignal refused alias {shown}: another user holds it, so the user was left "
                           f"without it. Declare another alias id, or remove it from the other user",
                           status=exc.status) from None
        self._step("aliases " + ", ".join(sorted(aliases)),
                   lambda r: replace(r, aliases={**r.aliases, **aliases}))

    def remove_alias(self, label: str) -> None:
        self.client.delete_alias(self.change.app_id, self.change.external_id, label)
        self._step(f"alias {label} removed",
                   lambda r: replace(r, aliases={k: v for k, v in r.aliases.items() if k != label}))

    def add_subscription(self, kind: str, token: str) -> None:
        added = self.client.add_subscription(self.change.app_id, self.change.external_id, kind, token)
        entry = UserSubscriptionRecord(kind, token, added.id if added else None)
        self._step(f"{kind} {token} added", lambda r: replace(
            r, subscriptions=[s for s in r.subscriptions if (s.type, s.token) != (kind, token)] + [entry]))

    def remove_subscription(self, subscription_id: str, kind: str, token: str) -> None:
        if not subscription_id:  # known only from state, which had no id yet: find it by viewing
            live = self.client.get_user(self.change.app_id, self.change.external_id)
            found = [s.id for s in (live.subscriptions if live else ()) if (s.type, s.token) == (kind, token)]
            subscription_id = found[0] if found else ""
        if subscription_id:
            self.client.delete_subscription(self.change.app_id, subscription_id)
        self._step(f"{kind} {token} removed", lambda r: replace(
            r, subscriptions=[s for s in r.subscriptions if (s.type, s.token) != (kind, token)]))

    def attach(self, device: str) -> None:
        self.client.transfer_subscription(self.change.app_id, device, self.change.external_id)
        self._step(f"device {device} attached",
                   lambda r: replace(r, devices=r.devices + ([device] if device not in r.devices else [])))


def _declared(change: UserChange) -> DeclaredUser:
    """The declaration a create, update or adopt carries: the planner always sets it."""
    assert change.declared is not None, f"{change.address}: {change.action.value} without a declaration"
    return DeclaredUser.from_dict(change.declared)


def _certainly_not_done(exc: OneSignalRequestFailed) -> bool:
    """OneSignal refused the request (4xx but 429): it did nothing. No answer, 429 or 5xx: it may have."""
    status = exc.status
    return status is not None and 400 <= status < 500 and status != 429


def _put(state: State, record: UserRecord) -> None:
    state.users[record.address] = record

