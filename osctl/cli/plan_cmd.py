from __future__ import annotations

import click

from osctl.cli.options import Settings, global_options, pass_settings
from osctl.cli.planning import (
    PLAN_FORMATS,
    PlanFlags,
    build_plan,
    load_config,
    plan_options,
    render_plan,
)
from osctl.errors import OsctlError, PlanError, SafetyViolation
from osctl.plan.build import drop_refused_intents_unless_locked
from osctl.shell import osctl_command


@click.command()
@global_options
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Save the plan for 'osctl apply FILE'.")
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True,
              help="text for people, markdown for a pull-request comment, json for scripts.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes or due exports.")
@plan_options
@pass_settings
def plan(settings: Settings, out: str | None, fmt: str, detailed_exitcode: bool, targets: tuple[str, ...],
         excludes: tuple[str, ...], no_exports: bool, refresh: str, parallelism: int) -> int:
    """Show what apply would do: compare config, state and the live app."""
    from osctl import runtime
    from osctl.plan import planfile
    from osctl.state import open_backend

    config = load_config(settings)
    backend = open_backend(config)
    state = backend.read()
    flags = PlanFlags(targets, excludes, refresh, not no_exports, parallelism)
    with runtime.clients(config, settings.resolved_api_url, parallelism=parallelism,
                        verbose=settings.verbose > 0) as clients:
        try:
            the_plan = build_plan(settings, config, state, clients, flags)
        except PlanError as exc:
            drop_refused_intents_unless_locked(backend, exc.dropped_intents)
            raise
    click.echo(render_plan(settings, the_plan, fmt), nl=False)
    blocking = [v for v in the_plan.violations if not v.overridable]
    if out:
        # saved even when it fails below, so a pull-request job can still post it; apply refuses it
        save_plan(out, planfile.dumps(the_plan))
        if blocking:
            click.echo(f"\nSaved the plan to {out} for review; apply refuses it while prevent_destroy blocks it.",
                       err=True)
        elif not settings.quiet:
            click.echo(f"\nSaved the plan to {out}. Apply exactly this plan with: {osctl_command('apply', out)}",
                       err=True)
    if blocking:
        # prevent_destroy makes the plan itself fail (docs/design.md#safety)
        raise SafetyViolation("plan fails: " + "; ".join(v.message for v in blocking))
    return 2 if detailed_exitcode and the_plan.has_changes else 0


def save_plan(out: str, text: str) -> None:
    """Write the saved plan whole or not at all; a directory that is missing is not made
    (a typo in --out should not scatter directories)."""
    from pathlib import Path

    from osctl.fileio import write_atomic

    path = Path(out)
    if not path.parent.is_dir():
        problem = "is not a directory" if path.parent.exists() else "does not exist"
        raise OsctlError(f"cannot save the plan to {out}: {path.parent} {problem}; nothing was saved")
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise OsctlError(f"cannot save the plan to {out}: {exc.strerror or exc}; nothing was saved") from None

