"""`osctl exports status` and `osctl exports run NAME... [--force]`."""

from __future__ import annotations

import click

from osctl.addresses import export_address
from osctl.cli.apply_view import report_internal_errors
from osctl.cli.exports_view import TextObserver, outcome_lines
from osctl.cli.options import Settings, global_options, lock_timeout_option, pass_settings
from osctl.cli.planning import load_config
from osctl.errors import UsageError


@click.group()
@global_options
def exports() -> None:
    """Scheduled exports: what is due and what was written; run exports now."""


@exports.command()
@global_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the same for scripts.")
@pass_settings
def status(settings: Settings, fmt: str) -> int:
    """Every export: schedule, last success, next due, last file, anything in flight."""
    import json

    from osctl import runtime
    from osctl.exports.status import export_status, render_text
    from osctl.state import open_backend

    config = load_config(settings)
    rows = export_status(config, open_backend(config).read(), runtime.now())
    if fmt == "json":
        click.echo(json.dumps({"format_version": "1", "exports": rows}, indent=2))
    else:
        click.echo(render_text(rows), nl=False)
    return 0


@exports.command()
@global_options
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option("--force", is_flag=True, help="Run even if not due (exports with a schedule).")
@lock_timeout_option
@pass_settings
def run(settings: Settings, names: tuple[str, ...], force: bool, lock_timeout: float) -> int:
    """Run these exports now: due ones, on-demand ones (no schedule), any with --force."""
    from osctl import runtime
    from osctl.exports import apply_exports, plan_exports
    from osctl.schedule import format_time, next_tick
    from osctl.state import open_backend
    from osctl.state.model import State
    from osctl.state.store import StateStore
    from osctl.stopping import StopSignals

    config = load_config(settings)
    declared = {e.name: e for e in config.exports}
    unknown = [n for n in names if n not in declared]
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise UsageError(f"no export named {', '.join(repr(n) for n in unknown)} (declared: {known})")
    names = tuple(dict.fromkeys(names))
    forced = names if force else tuple(n for n in names if not declared[n].schedule)
    apps = sorted({declared[n].app for n in names})
    backend = open_backend(config)
    stop = StopSignals()  # SIGINT/SIGTERM: see osctl.stopping
    with stop, backend.lock("exports run", lock_timeout), \
            runtime.clients(config, settings.resolved_api_url, apps=apps,
                        verbose=settings.verbose > 0) as clients:
        state = backend.read()
        now = runtime.now()
        runs = plan_exports(config, state, clients, now, forced=forced, names=names)
        chosen = {r.name for r in runs}
        for name in names:
            if name not in chosen:
                export = declared[name]
                upcoming = next_tick(export.schedule, export.timezone, now) if export.schedule else None
                when = format_time(upcoming) if upcoming else "never"
                click.echo(f"{export_address(name)} is not due (next tick {when}); use --force to run it now")
        if not runs:
            return 0
        store = StateStore(backend, state if state is not None else State.new())
        observer = TextObserver(quiet=settings.quiet)
        with stop.changing():
            result = apply_exports(runs, config, store, clients, runtime.now, observer,
                                   config_dir=config.directory, stop_reason=stop.reason, sleep=stop.sleep)
        store.flush()
    for line, err in outcome_lines(result):
        click.echo(line, err=err)
    report_internal_errors(result.tracebacks, settings.verbose > 0)
    return stop.exit_code(1 if result.failed or result.stopped else 0)
