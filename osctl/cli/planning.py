"""What plan and apply share: loading everything a plan needs and rendering it."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from osctl.addresses import segment_address
from osctl.cli.options import Settings
from osctl.config.loader import load
from osctl.config.model import Config
from osctl.errors import ConfigError

if TYPE_CHECKING:
    from osctl.onesignal.api import ExportClients

PLAN_FORMATS = ("text", "markdown", "json")


def load_config(settings: Settings) -> Config:
    """The config, with warnings printed to stderr; errors raise ConfigError."""
    analysis = load(settings.config_path)
    if analysis.config is None:
        raise ConfigError(analysis.diagnostics)
    if not settings.quiet:
        for diagnostic in analysis.diagnostics:
            click.echo(diagnostic.format(), err=True)
    return analysis.config


@dataclass
class PlanFlags:
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    refresh: str = "full"
    include_exports: bool = True
    parallelism: int = 10


def build_plan(settings: Settings, config: Config, state, clients: ExportClients, flags: PlanFlags):
    from osctl import runtime
    from osctl.plan.live import gather
    from osctl.plan.planner import PlanOptions, make_plan
    from osctl.progress import reporter_for

    _check_selection(config, state, flags)
    with reporter_for(sys.stderr, quiet=settings.quiet) as progress:  # a hanging API must show
        live = gather(config, state, clients, flags.refresh, flags.parallelism, progress=progress)
    options = PlanOptions(refresh=flags.refresh, targets=flags.targets, excludes=flags.excludes,
                          include_exports=flags.include_exports)
    now = runtime.now()
    the_plan = make_plan(config, state, live, now, options)
    if not flags.include_exports or not config.exports:
        return the_plan
    from osctl.exports import plan_exports
    from osctl.plan.planner import selected

    names = [e.name for e in config.exports if selected(e.address, options)]  # no listing for the rest
    with reporter_for(sys.stderr, quiet=settings.quiet) as progress:
        progress.start("Checking which exports are due")
        runs = plan_exports(config, state, clients, now, segment_changes=the_plan.changes, names=names)
    runs, waiting = _without_uncreated_segments(config, state, live, now, options, the_plan, runs)
    # the segment changes do not depend on the exports: add the runs instead of planning again
    return dataclasses.replace(the_plan, exports=tuple(runs), warnings=the_plan.warnings + waiting)


def _check_selection(config: Config, state, flags: PlanFlags) -> None:
    """A --target/--exclude that matches nothing is a typo, not an empty plan."""
    from osctl.addresses import known_addresses, unmatched_selection
    from osctl.errors import UsageError

    if flags.targets or flags.excludes:
        problem = unmatched_selection(flags.targets, flags.excludes, known_addresses(config, state))
        if problem:
            raise UsageError(problem)


def drop_refused_intents(backend, addresses: tuple[str, ...]) -> None:
    """Forget unfinished creates the planner refused to adopt (the caller holds the lock):
    the segment that has their name now is not the one osctl meant to create."""
    if not addresses:
        return
    from osctl import __version__

    current = backend.read()
    if current is None:
        return
    gone = [a for a in addresses if a in current.segments and current.segments[a].status == "pending_create"]
    if not gone:
        return
    for address in gone:
        del current.segments[address]
    current.serial += 1
    current.osctl_version = __version__
    backend.write(current)


def _without_uncreated_segments(config, state, live, now, options, the_plan, runs):
    """Drop export runs whose segment still has to be created or replaced by changes this
    (targeted) plan leaves out: exporting it now would fail or export the old segment."""
    from osctl.errors import PlanError
    from osctl.plan.planner import PlanOptions, make_plan

    if not (options.targets or options.excludes):
        return runs, ()
    try:
        everything = make_plan(config, state, live, now, PlanOptions(refresh=options.refresh))
    except PlanError:
        return runs, ()
    planned = {c.address for c in the_plan.changes}
    pending = {c.address for c in everything.changes
               if c.action.value in ("create", "replace") and c.address not in planned}
    kept, waiting = [], []
    for run in runs:
        export = config.export(run.name)
        address = segment_address(export.app, export.segment) if export and export.segment else None
        if address in pending:
            waiting.append(f"{run.address} waits: its segment {address} has a create or replace pending "
                           f"that --target/--exclude leave out of this plan")
        else:
            kept.append(run)
    return tuple(kept), tuple(waiting)


def render_plan(settings: Settings, plan, fmt: str) -> str:
    from osctl.plan.render import render

    return render(plan.to_dict(), fmt, color=fmt == "text" and settings.color(sys.stdout.isatty()))


def plan_options(func):
    """--target/--exclude/--no-exports/--refresh/--parallelism, shared by plan and apply."""
    from osctl.plan.live import REFRESH_MODES

    options = [
        click.option("--target", "targets", multiple=True, metavar="ADDR",
                     help="Only this address (segment.APP.NAME, segment.APP, export.NAME); repeatable."),
        click.option("--exclude", "excludes", multiple=True, metavar="ADDR", help="Leave this address out; repeatable."),
        click.option("--no-exports", is_flag=True, help="Leave due exports out of the plan."),
        click.option("--refresh", type=click.Choice(REFRESH_MODES), default="full", show_default=True,
                     help="full: view each managed segment (drift); list: list only; none: trust state."),
        click.option("--parallelism", type=click.IntRange(1, 100), default=10, show_default=True,
                     help="Concurrent API operations."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
