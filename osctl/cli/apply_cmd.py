from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from osctl.cli.options import Settings, global_options, lock_timeout_option, pass_settings
from osctl.cli.planning import (
    PlanFlags,
    build_plan,
    load_config,
    plan_options,
    render_plan,
    token_owners,
)
from osctl.errors import OsctlError, PlanError, StalePlan, UsageError
from osctl.plan.build import drop_refused_intents, saved_plan_stale_reasons

if TYPE_CHECKING:
    from osctl.config.model import Config
    from osctl.onesignal.api import PlanClients
    from osctl.plan.model import Plan
    from osctl.state.model import State


@click.command()
@global_options
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (CI).")
@lock_timeout_option
@click.option("--allow-mass-destroy", is_flag=True,
              help="Apply even if more than 30% (and more than 3) of an app's segments are deleted or replaced.")
@plan_options
@pass_settings
def apply(settings: Settings, planfile: str | None, auto_approve: bool, lock_timeout: float,
          allow_mass_destroy: bool, targets: tuple[str, ...], excludes: tuple[str, ...], no_exports: bool,
          refresh: str, parallelism: int) -> int:
    """Carry out the plan: segment changes first, then test users, then due exports."""
    from osctl import runtime
    from osctl.applying import Stopping, apply_plan
    from osctl.cli.apply_view import ApplyTextView
    from osctl.plan import safety
    from osctl.state import open_backend
    from osctl.state.model import State
    from osctl.state.store import StateStore
    from osctl.stopping import StopSignals

    if planfile and (targets or excludes):
        raise UsageError("--target/--exclude cannot be combined with a saved plan: it is applied exactly as saved")
    config = load_config(settings)
    backend = open_backend(config)
    stop = StopSignals()  # SIGINT/SIGTERM: see osctl.stopping
    with stop, backend.lock("apply", lock_timeout), \
            runtime.clients(config, settings.resolved_api_url, parallelism=parallelism,
                        verbose=settings.verbose > 0) as clients:
        state = backend.read()
        owners = token_owners(settings, config, clients)  # who holds the addresses test users get: see osctl.applying
        if planfile:
            the_plan = _saved_plan(planfile, config, state, clients)
        else:
            flags = PlanFlags(targets, excludes, refresh, not no_exports, parallelism)
            try:
                the_plan = build_plan(settings, config, state, clients, flags, owners)
            except PlanError as exc:
                drop_refused_intents(backend, exc.dropped_intents)
                raise
        refusal = safety.refusal(the_plan, allow_mass_destroy)
        if not planfile:
            # -q: the plan only when a person must read it to answer; a refusal is its reason alone
            if not settings.quiet or (refusal is None and not auto_approve):
                click.echo(render_plan(settings, the_plan, "text"), nl=False)
            if not the_plan.has_changes:
                return 0
        if refusal is not None:
            raise refusal  # before asking: a "yes" could not make it apply
        if not planfile and not _confirmed(auto_approve):
            click.echo("Apply cancelled.")
            return 1
        store = StateStore(backend, state if state is not None else State.new())
        with stop.changing():
            outcome = apply_plan(
                the_plan, config=config, store=store, clients=clients, now=runtime.now, parallelism=parallelism,
                view=ApplyTextView(quiet=settings.quiet, verbose=settings.verbose > 0),
                stopping=Stopping(stop.reason, stop.sleep), token_owners=owners,
                # a plan made here with --refresh full viewed the users it creates; a saved plan
                # (made earlier) or --refresh list/none did not: apply views each before creating it
                users_viewed=not planfile and the_plan.provenance.refresh == "full")
    return stop.exit_code(0 if outcome.complete else 1)


def _saved_plan(path: str, config: Config, state: State | None, clients: PlanClients) -> Plan:
    from osctl.plan import planfile

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise OsctlError(f"cannot read saved plan {path}: {exc.strerror}") from None
    the_plan = planfile.loads(text, path)
    reasons = saved_plan_stale_reasons(the_plan, config, state, clients)
    if reasons:
        raise StalePlan("saved plan is stale:\n  - " + "\n  - ".join(reasons) + "\nRun 'osctl plan' again.")
    return the_plan


def _confirmed(auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        raise UsageError("apply needs confirmation: stdin is not a terminal, so pass --auto-approve "
                         "(or apply a reviewed plan file)")
    answer = click.prompt("\nDo you want to perform these actions? Only 'yes' will be accepted",
                          default="", show_default=False)
    return answer.strip() == "yes"
