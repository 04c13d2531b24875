"""`osctl apply` after the plan is approved: carry out the whole plan in its order and
say whether all of it was done (effects: through the executors and the state store).

The order (docs/design.md#applying-a-plan):
1. segment changes (osctl.apply.Executor): deletes before creates, so names free up;
2. test users (osctl.apply_users.UserExecutor), after the segments their plan says they
   fall into and before the exports, which may list their subscriptions;
3. state is flushed: if that write fails the due exports do not run, since their
   records would go into a state that does not hold the changes above;
4. due exports (osctl.exports.apply_exports), except those waiting for a segment
   that failed; after a stop request (SIGINT/SIGTERM) none starts.

Nothing here prints: progress and results go to an ApplyView, which the command supplies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from osctl.apply import ApplyObserver, ApplyResult, Executor
from osctl.apply_users import UserExecutor
from osctl.config.model import Config
from osctl.errors import OsctlError
from osctl.exports import apply_exports
from osctl.exports.runner import ExportObserver, ExportsResult
from osctl.onesignal.api import ExportsApi, UsersApi
from osctl.plan.model import ExportRun, Plan
from osctl.state.store import StateStore
from osctl.users.ownership import TokenOwners


class ApplyApi(ExportsApi, UsersApi, Protocol):
    """All apply calls on an app: segments, test users and exports."""


class ApplyView(Protocol):
    """What a command shows of an apply, in the order things happen."""

    @property
    def changes(self) -> ApplyObserver:
        """Progress of segment and test user changes."""

    @property
    def exports(self) -> ExportObserver:
        """Progress of export runs."""

    def changes_done(self, segments: ApplyResult, users: ApplyResult | None) -> None:
        """Segments and test users are done (users: None when the plan changed none)."""

    def state_not_written(self, error: OsctlError, exports_skipped: bool) -> None:
        """State could not be written after the changes; due exports (if any) do not run."""

    def exports_not_started(self, runs: tuple[ExportRun, ...], reason: str) -> None:
        """A stop was asked for before the due exports started."""

    def exports_done(self, result: ExportsResult) -> None: ...


@dataclass(frozen=True)
class Stopping:
    """How a stop request reaches the work (osctl.stopping.StopSignals supplies both)."""

    reason: Callable[[], str | None] = lambda: None
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class ApplyOutcome:
    segments: ApplyResult
    users: ApplyResult | None  # None: the plan changed no test user
    exports: ExportsResult | None  # None: no due exports, or they did not start
    exports_not_run: bool = False  # there were due exports and none ran (a stop, a failed state write)
    state_not_written: bool = False

    @property
    def complete(self) -> bool:
        """Everything the plan holds was done and recorded."""
        changes = [self.segments] + ([self.users] if self.users is not None else [])
        if any(r.failed or r.not_attempted for r in changes) or self.exports_not_run or self.state_not_written:
            return False
        return self.exports is None or not (self.exports.failed or self.exports.stopped)


def apply_plan(the_plan: Plan, *, config: Config, store: StateStore, clients: Mapping[str, ApplyApi],
               view: ApplyView, now: Callable[[], datetime], parallelism: int = 10,
               stopping: Stopping = Stopping(), token_owners: Callable[[str], TokenOwners | None] = lambda app: None,
               users_viewed: bool = False) -> ApplyOutcome:
    """Carry out `the_plan` (already checked for safety and staleness by the caller).

    `token_owners(app alias)`: who holds the Email/SMS tokens test users are about to get
    (None: not looked up); `users_viewed`: the plan viewed the users it creates just before
    (see osctl.apply_users)."""
    segments = Executor(store=store, clients=clients, observer=view.changes, now=now, parallelism=parallelism,
                        stop_reason=stopping.reason).run(the_plan)
    users = None
    if the_plan.user_changes:
        users = UserExecutor(store=store, clients=clients, observer=view.changes, now=now, config=config,
                             token_owners=token_owners, users_viewed=users_viewed, parallelism=parallelism,
                             stop_reason=stopping.reason, clock=time.monotonic,
                             sleep=stopping.sleep).run(the_plan.user_changes)
    view.changes_done(segments, users)
    try:
        store.flush()
    except OsctlError as exc:
        view.state_not_written(exc, exports_skipped=bool(the_plan.exports))
        return ApplyOutcome(segments, users, None, exports_not_run=bool(the_plan.exports), state_not_written=True)
    if not the_plan.exports:
        return ApplyOutcome(segments, users, None)
    reason = stopping.reason()
    if reason:
        view.exports_not_started(the_plan.exports, reason)
        return ApplyOutcome(segments, users, None, exports_not_run=True)
    exports = apply_exports(the_plan.exports, config, store, clients, now, view.exports,
                            config_dir=config.directory, failed_segments=segments.failed_addresses,
                            stop_reason=stopping.reason, sleep=stopping.sleep)
    store.flush()
    view.exports_done(exports)
    return ApplyOutcome(segments, users, exports)
