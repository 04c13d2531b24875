from __future__ import annotations

import sys
from pathlib import Path

import click

from osctl.addresses import export_address
from osctl.cli.options import Settings, global_options, lock_timeout_option, pass_settings
from osctl.cli.planning import (
    PlanFlags,
    build_plan,
    load_config,
    plan_options,
    render_plan,
    token_owners,
)
from osctl.errors import OsctlError, PlanError, SafetyViolation, StalePlan, UsageError
from osctl.plan.build import drop_refused_intents, saved_plan_stale_reasons


@click.command()
@global_options
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (CI).")
@lock_timeout_option
@click.option("--allow-mass-destroy", is_flag=True,
              help="Apply even if more than 30% (and more than 3) of an app's segments are deleted or replaced.")
@plan_options
@pass_settings
def apply(settings: Settings, planfile, auto_approve, lock_timeout, allow_mass_destroy, targets, excludes,
          no_exports, refresh, parallelism) -> int:
    """Carry out the plan: segment changes first, then test users, then due exports."""
    from osctl import runtime
    from osctl.state import open_backend
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
        owners = token_owners(settings, config, clients)  # for the users executor: see _execute
        if planfile:
            the_plan = _saved_plan(planfile, config, state, clients)
        else:
            flags = PlanFlags(targets, excludes, refresh, not no_exports, parallelism)
            try:
                the_plan = build_plan(settings, config, state, clients, flags, owners)
            except PlanError as exc:
                drop_refused_intents(backend, exc.dropped_intents)
                raise
            refusal = _refusal(the_plan, allow_mass_destroy)
            # -q: the plan only when a person must read it to answer; a refusal is its reason alone
            if not settings.quiet or (refusal is None and not auto_approve):
                click.echo(render_plan(settings, the_plan, "text"), nl=False)
            if not the_plan.has_changes:
                return 0
            if refusal is not None:
                raise refusal  # before asking: a "yes" could not make it apply
            if not _confirmed(auto_approve):
                click.echo("Apply cancelled.")
                return 1
        _enforce_safety(the_plan, allow_mass_destroy)
        # a plan made here with --refresh full viewed the users it creates; a saved plan (made
        # earlier) or --refresh list/none did not: apply views each before creating it
        users_viewed = not planfile and the_plan.provenance.refresh == "full"
        code = _execute(settings, the_plan, backend, state, clients, parallelism, config, stop,
                        users_viewed=users_viewed, token_owners=owners)
    return stop.exit_code(code)


def _saved_plan(path: str, config, state, clients):
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


def _refusal(the_plan, allow_mass_destroy: bool) -> SafetyViolation | None:
    for violation in the_plan.violations:
        if not violation.overridable or not allow_mass_destroy:
            return SafetyViolation(f"apply refused: {violation.message}")
    return None


def _enforce_safety(the_plan, allow_mass_destroy: bool) -> None:
    refusal = _refusal(the_plan, allow_mass_destroy)
    if refusal is not None:
        raise refusal


def _execute(settings: Settings, the_plan, backend, state, clients, parallelism: int, config, stop, *,
             users_viewed: bool = False, token_owners=lambda app: None) -> int:
    """token_owners(app alias) -> TokenOwners | None: who holds the Email/SMS tokens test users
    are about to get (None: not looked up; see osctl.apply_users)."""
    import time

    from osctl import runtime
    from osctl.apply import Executor
    from osctl.apply_users import UserExecutor
    from osctl.cli.apply_view import TextObserver, report_internal_errors, result_lines
    from osctl.state.model import State
    from osctl.state.store import StateStore

    store = StateStore(backend, state if state is not None else State.new())
    executor = Executor(store=store, clients=clients, observer=TextObserver(settings.quiet),
                        now=runtime.now, parallelism=parallelism, stop_reason=stop.reason)
    with stop.changing():
        result = executor.run(the_plan)
        users_result = None
        if the_plan.user_changes:  # after the segments, before the exports (which may read the users)
            users = UserExecutor(store=store, clients=clients, observer=TextObserver(settings.quiet), now=runtime.now,
                                 config=config, token_owners=token_owners, users_viewed=users_viewed,
                                 parallelism=parallelism, stop_reason=stop.reason, clock=time.monotonic,
                                 sleep=stop.sleep)
            users_result = users.run(the_plan.user_changes)
    for line in result_lines(result, users_result):
        click.echo(line)
    report_internal_errors(result.tracebacks + (users_result.tracebacks if users_result else []),
                           settings.verbose > 0)
    try:
        store.flush()
    except OsctlError as exc:
        not_run = "; due exports were not run" if the_plan.exports else ""
        click.echo(f"Error: {exc}{not_run}", err=True)
        return 1
    exports_failed = _run_exports(settings, the_plan, config, store, clients, result.failed_addresses, stop)
    users_failed = users_result is not None and bool(users_result.failed or users_result.not_attempted)
    return 1 if result.failed or result.not_attempted or users_failed or exports_failed else 0


def _run_exports(settings: Settings, the_plan, config, store, clients, failed_segments, stop) -> bool:
    """Due exports, after the segment changes; True when any failed."""
    if not the_plan.exports:
        return False
    if stop.reason():
        for run in the_plan.exports:
            click.echo(f"{export_address(run.name)}: not started: {stop.reason()}")
        return True
    from osctl import runtime
    from osctl.cli.apply_view import report_internal_errors
    from osctl.cli.exports_view import TextObserver as ExportsObserver
    from osctl.exports import apply_exports

    outcome = apply_exports(the_plan.exports, config, store, clients, runtime.now,
                            ExportsObserver(quiet=settings.quiet), config_dir=config.directory,
                            failed_segments=failed_segments, stop_reason=stop.reason, sleep=stop.sleep)
    store.flush()
    from osctl.cli.exports_view import outcome_lines

    for line, err in outcome_lines(outcome):
        click.echo(line, err=err)
    report_internal_errors(outcome.tracebacks, settings.verbose > 0)
    return bool(outcome.failed or outcome.stopped)
