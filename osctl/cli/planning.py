"""What plan and apply share: loading everything a plan needs and rendering it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import click

from osctl.cli.options import Command, Settings
from osctl.config.loader import load
from osctl.config.model import Config
from osctl.errors import ConfigError
from osctl.plan.build import PlanFlags

if TYPE_CHECKING:
    from osctl.onesignal.api import PlanClients
    from osctl.plan.model import Plan
    from osctl.progress import Progress
    from osctl.state.model import State
    from osctl.users.owners_lookup import OwnersByApp

__all__ = ["PLAN_FORMATS", "PlanFlags", "build_plan", "load_config", "plan_options", "render_plan"]

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


def build_plan(settings: Settings, config: Config, state: State | None, clients: PlanClients,
               flags: PlanFlags, owners: OwnersByApp | None = None) -> Plan:
    """The plan (osctl.plan.build), with progress on stderr unless -q; `owners` keeps the
    owners of addresses it looked up (see token_owners)."""
    from osctl import runtime
    from osctl.plan.build import build_plan as build

    return build(config, state, clients, flags, runtime.now, progress=progress_factory(settings), owners=owners)


def progress_factory(settings: Settings) -> Callable[[], AbstractContextManager[Progress]]:
    """What opens a progress reporter on stderr (nothing is shown with -q)."""
    from osctl.progress import reporter_for

    return lambda: reporter_for(sys.stderr, quiet=settings.quiet)


def token_owners(settings: Settings, config: Config, clients: PlanClients) -> OwnersByApp:
    """The owners of the apps' Email/SMS addresses, looked up at most once per command: apply
    passes it to build_plan (which fills it with --refresh full) and to the users executor as
    `token_owners` (which looks up an app the plan did not)."""
    from osctl.users.owners_lookup import OwnersByApp

    return OwnersByApp(config, clients, progress=progress_factory(settings))


def render_plan(settings: Settings, plan: Plan, fmt: str) -> str:
    from osctl.plan.render import render

    return render(plan.to_dict(), fmt, color=fmt == "text" and settings.color(sys.stdout.isatty()))


def plan_options(func: Command) -> Command:
    """--target/--exclude/--no-exports/--refresh/--parallelism, shared by plan and apply."""
    from osctl.plan.live import REFRESH_MODES

    options = [
        click.option("--target", "targets", multiple=True, metavar="ADDR",
                     help="Only this address (segment.APP.NAME, segment.APP, user.APP.EXTERNAL_ID, user.APP, "
                          "export.NAME); repeatable."),
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
