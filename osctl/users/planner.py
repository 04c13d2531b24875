"""(config, state, live users) -> the test-user changes of a plan. Pure.

Identity is the external_id. osctl acts only on users in its state (created or
imported by it) and only inside each app's `external_id_prefix`; a declared user
that exists live but is not in state is "in the way" and must be imported, never
adopted silently (docs/design.md#test-users).

Drift: with `--refresh full` the live users are viewed and compared with the
declaration; with `list` or `none` they are not viewed, and the declaration is
compared with what osctl last applied (state).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from osctl.addresses import user_address
from osctl.config.model import Config
from osctl.onesignal.user_types import LiveUser
from osctl.plan.model import Action, Reason, UserChange
from osctl.shell import osctl_command
from osctl.state.model import State, UserRecord
from osctl.users.guards import GuardRails
from osctl.users.membership import Profile, Verdict, falls_into
from osctl.users.model import DeclaredUser, diff, show_value
from osctl.users.ownership import TokenOwners, ownership_problem


@dataclass(frozen=True)
class LiveUsers:
    """An app's test users as the API showed them; `users` is None when they were not
    viewed (--refresh list/none), `owners` None when token owners were not looked up."""

    users: Mapping[str, LiveUser | None] | None = None  # external_id -> the live user, None if absent
    owners: TokenOwners | None = None


def plan_users(config: Config, state: State | None, live: Mapping[str, LiveUsers],
               problems: list[str]) -> list[UserChange]:
    """The changes that make the live test users match the config; what stops the plan goes to `problems`."""
    records = state.users if state else {}
    changes: list[UserChange] = []
    declared_ids = {(u.app, u.external_id) for u in config.test_users}
    for user in config.test_users:
        declared_app = config.apps[user.app]
        planner = _UserPlanner(config, user.app, declared_app.app_id, declared_app.test_users,
                               live.get(user.app, LiveUsers()), problems)
        change = planner.declared(user, records.get(user.address))
        if change:
            changes.append(change)
    for record in records.values():
        if (record.app, record.external_id) in declared_ids:
            continue
        app = config.apps.get(record.app)
        if app is None:
            problems.append(f"{record.address} is in state but app '{record.app}' is no longer configured; "
                            f"declare the app again to delete its test users, or drop them from state with: "
                            f"{osctl_command('state', 'rm', record.address)}")
            continue
        planner = _UserPlanner(config, record.app, app.app_id, app.test_users, live.get(record.app, LiveUsers()),
                               problems)
        change = planner.undeclared(record)
        if change:
            changes.append(change)
    return sorted(changes, key=lambda c: (_ORDER[c.action], c.address))


_ORDER = {Action.DELETE: 0, Action.UPDATE: 1, Action.CREATE: 2, Action.ADOPT: 3, Action.UPDATE_STATE: 4,
          Action.FORGET: 5}


def recorded_as_live(record: UserRecord) -> dict:
    """What osctl last applied to a user, shaped like a view of it (for users.model.diff)."""
    subscriptions = [{"id": s.id or "", "type": s.type, "token": s.token} for s in record.subscriptions]
    subscriptions += [{"id": device, "type": "push", "token": ""} for device in record.devices]
    properties: dict = {"tags": dict(record.tags)}
    if record.language is not None:
        properties["language"] = record.language
    if record.timezone_id is not None:
        properties["timezone_id"] = record.timezone_id
    return {"identity": {"external_id": record.external_id, **record.aliases}, "properties": properties,
            "subscriptions": subscriptions}


class _UserPlanner:
    def __init__(self, config: Config, alias: str, app_id: str, rails: GuardRails | None, live: LiveUsers,
                 problems: list[str]):
        self.config = config
        self.alias = alias
        self.app_id = app_id
        self.rails = rails
        self.live = live
        self.problems = problems

    def _change(self, action: Action, reason: Reason, external_id: str, **kw: object) -> UserChange:
        return UserChange(address=user_address(self.alias, external_id), action=action, reason=reason,
                          app=self.alias, app_id=self.app_id, external_id=external_id, **kw)  # type: ignore[arg-type]

    def _outside_rails(self, address: str, external_id: str) -> bool:
        if self.rails is None:
            self.problems.append(f"{address}: app '{self.alias}' declares no test_users guard rails; osctl "
                                 f"touches no user of an app without them (declare apps.{self.alias}.test_users)")
            return True
        if not self.rails.owns(external_id):
            self.problems.append(f"{address}: external id {external_id!r} does not start with the app's "
                                 f"external_id_prefix {self.rails.external_id_prefix!r}; osctl never reads, "
                                 f"changes or deletes such a user (drop it from state with: "
                                 f"{osctl_command('state', 'rm', address)})")
            return True
        return False

    def declared(self, user: DeclaredUser, record: UserRecord | None) -> UserChange | None:
        if self._outside_rails(user.address, user.external_id):
            return None
        seen = self.live.users
        live = seen.get(user.external_id) if seen is not None else None
        if record is None:
            if live is not None:
                self.problems.append(self._in_the_way(user.address, user.external_id))
                return None
            return self._create(user, Reason.NEW)
        if record.status == "pending_create":
            if live is None:  # not there, or not viewed: creating again is safe (found by external_id)
                return self._create(user, Reason.CREATE_INTERRUPTED)
            return self._update(user, live.data, Reason.CREATE_INTERRUPTED, live.onesignal_id,
                                unchanged=Action.ADOPT)
        if seen is None:  # not viewed: compare with what osctl last applied
            return self._update(user, recorded_as_live(record), Reason.DECLARATION_CHANGED, record.onesignal_id)
        if live is None:
            return self._create(user, Reason.DELETED_OUTSIDE)
        behind = diff(user, recorded_as_live(record))
        config_changed = not behind.empty
        reason = Reason.DECLARATION_CHANGED if config_changed else Reason.EDITED_OUTSIDE
        change = self._update(user, live.data, reason, live.onesignal_id)
        wrong_id = record.onesignal_id is not None and record.onesignal_id != live.onesignal_id
        if change is None and (config_changed or wrong_id):
            # live shows the declaration, state does not: a step was applied and its record lost
            # (a kill in between), or state holds an id the user does not have. State catches up,
            # or plans that trust it (--refresh list) go wrong.
            lines = tuple(f"state: {line}" for line in behind.lines())
            if wrong_id:
                lines += (f"state: onesignal_id {record.onesignal_id} → {live.onesignal_id}",)
            return self._change(Action.UPDATE_STATE, Reason.ALREADY_LIVE, user.external_id,
                                onesignal_id=live.onesignal_id, declared=user.to_dict(), lines=lines)
        return change

    def undeclared(self, record: UserRecord) -> UserChange | None:
        if self._outside_rails(record.address, record.external_id):
            return None
        seen = self.live.users
        if seen is not None and seen.get(record.external_id) is None:
            return self._change(Action.FORGET, Reason.DELETED_OUTSIDE, record.external_id,
                                onesignal_id=record.onesignal_id)
        live = seen.get(record.external_id) if seen is not None else None
        onesignal_id = live.onesignal_id if live else record.onesignal_id
        return self._change(Action.DELETE, Reason.NOT_DECLARED, record.external_id, onesignal_id=onesignal_id,
                            lines=(f"onesignal_id {onesignal_id or 'unknown'}",))

    def _create(self, user: DeclaredUser, reason: Reason) -> UserChange | None:
        if not self._tokens_allowed(user, user.subscriptions):
            return None
        lines = [f"tags.{k}: {show_value(v)}" for k, v in sorted(user.tags.items())]
        lines += [f"{name}: {show_value(value)}" for name, value in (("language", user.language),
                                                                   ("timezone_id", user.timezone_id)) if value]
        lines += [f"aliases.{k}: {show_value(v)}" for k, v in sorted(user.aliases.items())]
        lines += [f"+ subscription {kind} {token}" for kind, token in user.subscriptions]
        lines += [f"+ device {device}" for device in user.devices]
        return self._change(Action.CREATE, reason, user.external_id, declared=user.to_dict(), lines=tuple(lines),
                            segments=self._segments(user))

    def _update(self, user: DeclaredUser, live: Mapping, reason: Reason, onesignal_id: str | None,
                unchanged: Action | None = None) -> UserChange | None:
        difference = diff(user, live)
        if difference.empty:
            if unchanged is None:
                return None
            return self._change(unchanged, reason, user.external_id, onesignal_id=onesignal_id,
                                declared=user.to_dict())
        if not self._tokens_allowed(user, difference.subscriptions_added):
            return None
        return self._change(Action.UPDATE, reason, user.external_id, onesignal_id=onesignal_id,
                            declared=user.to_dict(), diff=difference.to_dict(), lines=tuple(difference.lines()),
                            segments=self._segments(user))

    def _tokens_allowed(self, user: DeclaredUser, added: tuple[tuple[str, str], ...]) -> bool:
        """The guard rails on addresses, and nobody else holding one (when the owners were looked up)."""
        found = []
        for kind, token in added:
            problem = self.rails.token_problem(kind, token) if self.rails else "no guard rails"
            if problem is None and self.live.owners is not None:
                others = (u.external_id for u in self.config.test_users if u.app == self.alias)
                problem = ownership_problem(kind, token, user.external_id, self.live.owners, others)
            if problem:
                found.append(f"{user.address}: {problem}")
        self.problems.extend(found)
        return not found

    def _segments(self, user: DeclaredUser) -> tuple[tuple[str, str], ...]:
        profile = Profile(tags=dict(user.tags), language=user.language)
        verdicts = []
        for segment in self.config.segments:
            if segment.app != self.alias:
                continue
            verdict = falls_into(list(segment.filters), profile)
            if verdict != Verdict.NO:
                verdicts.append((segment.name, verdict.value))
        return tuple(sorted(verdicts))

    def _in_the_way(self, address: str, external_id: str) -> str:
        return (f"{address}: a user with external id {external_id!r} already exists in OneSignal and osctl did "
                f"not create or import it; osctl leaves it alone. To manage it with this configuration, run: "
                f"{osctl_command('import', address)} (then plan again); or declare another external id")

