"""Making the plan plan and apply show: segment changes, then the exports due with them.

Reads the live apps through the clients it is given and reports what it waits for
through `progress`; the caller owns the clock, the clients and the rendering.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from osctl.addresses import segment_address

if TYPE_CHECKING:  # the CLI imports this module on every command: keep it light
    from osctl.config.model import Config
    from osctl.onesignal.api import PlanClients, SegmentClients
    from osctl.plan.model import ExportRun, Plan
    from osctl.plan.planner import AppLive, PlanOptions
    from osctl.progress import Progress
    from osctl.state.backend import StateBackend
    from osctl.state.model import State
    from osctl.users.owners_lookup import OwnersByApp


@dataclass
class PlanFlags:
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    refresh: str = "full"
    include_exports: bool = True
    parallelism: int = 10


def build_plan(config: Config, state: State | None, clients: PlanClients, flags: PlanFlags,
               clock: Callable[[], datetime], progress: Callable[[], AbstractContextManager[Progress]],
               owners: OwnersByApp | None = None) -> Plan:
    """The plan for `config` against `state` and the live apps, as of `clock()` once they are
    read; `progress()` opens a reporter for each stretch of waiting on the API. `owners` keeps
    the owners of addresses the plan looked up (apply hands them on to the users executor)."""
    from osctl.plan.live import gather
    from osctl.plan.planner import PlanOptions

    check_selection(config, state, flags)
    options = PlanOptions(refresh=flags.refresh, targets=flags.targets, excludes=flags.excludes,
                          include_exports=flags.include_exports)
    with progress() as reporter:  # a hanging API must show
        live = gather(config, state, clients, flags.refresh, flags.parallelism, progress=reporter,
                      selection=options, owners=owners)
    now = clock()
    the_plan, left_out = plan_and_left_out(config, state, live, now, options)
    if not flags.include_exports or not config.exports:
        return the_plan
    from osctl.exports import plan_exports
    from osctl.plan.planner import selected

    names = [e.name for e in config.exports if selected(e.address, options)]  # no listing for the rest
    with progress() as reporter:
        reporter.start("Checking which exports are due")
        runs = plan_exports(config, state, clients, now, segment_changes=the_plan.changes, names=names)
    runs, waiting = without_uncreated_segments(config, tuple(runs), left_out)
    # the segment changes do not depend on the exports: add the runs instead of planning again
    return dataclasses.replace(the_plan, exports=runs, warnings=the_plan.warnings + waiting)


def saved_plan_stale_reasons(the_plan: Plan, config: Config, state: State | None,
                             clients: SegmentClients) -> list[str]:
    """Why a saved plan can no longer be applied as reviewed (empty when it can): lists the
    segments of the apps whose changes need a live segment."""
    from osctl.plan import planfile

    apps = sorted({c.app for c in the_plan.changes if c.needs_live_segment and c.app in config.apps})
    live_ids = {alias: {s.id for s in clients[alias].list_segments(config.apps[alias].app_id)} for alias in apps}
    return planfile.stale_reasons(
        the_plan, config_digest=config.digest, lineage=state.lineage if state else None,
        serial=state.serial if state else 0, live_ids=live_ids)


def check_selection(config: Config, state: State | None, flags: PlanFlags) -> None:
    """A --target/--exclude that matches nothing is a typo, not an empty plan."""
    from osctl.addresses import known_addresses, unmatched_selection
    from osctl.errors import UsageError

    if flags.targets or flags.excludes:
        problem = unmatched_selection(flags.targets, flags.excludes, known_addresses(config, state))
        if problem:
            raise UsageError(problem)


def drop_refused_intents(backend: StateBackend, addresses: tuple[str, ...]) -> None:
    """Forget unfinished creates the planner refused to adopt (the caller holds the lock):
    the segment that has their name now is not the one osctl meant to create."""
    from osctl.state.edits import forget

    current = backend.read() if addresses else None
    if current is None:
        return
    gone = [a for a in addresses if a in current.segments and current.segments[a].status == "pending_create"]
    if gone:
        backend.write(forget(current, gone))


def drop_refused_intents_unless_locked(backend: StateBackend, addresses: tuple[str, ...]) -> None:
    """Plan only writes state to forget creates it refused to adopt, and only when no one else
    holds the lock; otherwise the next apply does it (no plan adopts them meanwhile)."""
    from osctl.errors import LockHeld

    if not addresses:
        return
    try:
        with backend.lock("plan", 0):
            drop_refused_intents(backend, addresses)
    except LockHeld:
        pass


def plan_and_left_out(config: Config, state: State | None, live: dict[str, AppLive], now: datetime,
                      options: PlanOptions) -> tuple[Plan, frozenset[str]]:
    """The plan for `options`, and the segments whose create or replace its --target/--exclude
    leave out (planned once: the whole plan, then the selection)."""
    from osctl.plan.planner import plan_everything, select

    whole = plan_everything(config, state, live, now, options.refresh)
    return select(whole, config, state, live, options), whole.left_out_creates(options)


def without_uncreated_segments(config: Config, runs: tuple[ExportRun, ...], left_out: frozenset[str]
                               ) -> tuple[tuple[ExportRun, ...], tuple[str, ...]]:
    """Drop export runs whose segment still has to be created or replaced by changes the
    (targeted) plan leaves out (`left_out`): exporting it now would fail or export the old
    segment. Returns the runs kept and a warning for each run dropped."""
    kept: list[ExportRun] = []
    waiting: list[str] = []
    for run in runs:
        export = config.export(run.name)
        address = segment_address(export.app, export.segment) if export and export.segment else None
        if address in left_out:
            waiting.append(f"{run.address} waits: its segment {address} has a create or replace pending "
                           f"that --target/--exclude leave out of this plan")
        else:
            kept.append(run)
    return tuple(kept), tuple(waiting)
