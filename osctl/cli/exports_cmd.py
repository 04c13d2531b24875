"""`osctl exports status` and `osctl exports run NAME... [--force]`."""

from __future__ import annotations

import sys
import threading
import time

import click

from osctl.addresses import export_address
from osctl.cli.apply_view import report_internal_errors
from osctl.cli.options import Settings, global_options, pass_settings
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
@click.option("--lock-timeout", default="0s", show_default=True, metavar="DURATION",
              help="How long to wait for the state lock (e.g. 30s, 5m).")
@pass_settings
def run(settings: Settings, names: tuple[str, ...], force: bool, lock_timeout: str) -> int:
    """Run these exports now: due ones, on-demand ones (no schedule), any with --force."""
    from osctl import runtime
    from osctl.durations import parse_duration
    from osctl.exports import apply_exports, plan_exports
    from osctl.schedule import format_time, next_tick
    from osctl.state import open_backend
    from osctl.state.model import State
    from osctl.state.store import StateStore
    from osctl.stopping import StopSignals

    try:
        wait = parse_duration(lock_timeout)
    except ValueError:
        raise UsageError(f"--lock-timeout {lock_timeout!r} is not a duration (valid: 0s, 30s, 5m, ...)") from None
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
    with stop, backend.lock("exports run", wait), \
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


def outcome_lines(result) -> list[tuple[str, bool]]:
    """(line, to stderr) for each export's outcome, then the count."""
    lines = [(f"{export_address(run.name)}: {detail}", False) for run, detail in result.succeeded]
    lines += [(f"{export_address(run.name)} failed: {error}", True) for run, error in result.failed]
    lines += [(f"{export_address(run.name)}: {why}", False) for run, why in result.stopped]
    stopped = f", {len(result.stopped)} stopped" if result.stopped else ""
    lines.append((f"Exports: {len(result.succeeded)} succeeded, {len(result.failed)} failed{stopped}.", False))
    return lines


class TextObserver:
    """Export progress for people: steps as lines on stderr, a progress bar on a terminal only."""

    def __init__(self, *, quiet: bool = False, stream=None, interactive: bool | None = None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._shown = 0.0
        self._bar = False
        self._lock = threading.RLock()  # accounts run in parallel threads

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        with self._lock:
            self._end_bar()
            click.echo(text, file=self.stream)

    def _end_bar(self) -> None:
        if self._bar:
            click.echo("", file=self.stream)
            self._bar = False

    def export_started(self, run) -> None:
        what = f" ({len(run.messages)} message{'s' if len(run.messages) != 1 else ''})" if run.messages else ""
        self._line(f"{export_address(run.name)}: running{what}, {run.reason}")

    def export_step(self, run, text: str) -> None:
        self._line(f"{export_address(run.name)}: {text}")

    def export_progress(self, run, done: int, total: int | None, rows: int) -> None:
        if self.quiet or not self.interactive:
            return
        now = time.monotonic()
        finished = total is not None and done >= total
        with self._lock:
            if now - self._shown < 0.1 and not finished:
                return
            self._shown = now
            self._bar_line(run, done, total, rows)

    def _bar_line(self, run, done: int, total: int | None, rows: int) -> None:
        if total:
            width = 24
            filled = int(width * min(done / total, 1.0))
            bar = "#" * filled + "-" * (width - filled)
            text = f"[{bar}] {_mb(done)} / {_mb(total)}"
        else:
            text = f"{_mb(done)}"
        click.echo(f"\r  export.{run.name} {text}, {rows:,} rows", file=self.stream, nl=False)
        self._bar = True

    def export_finished(self, run, detail: str) -> None:
        with self._lock:
            self._end_bar()

    def export_failed(self, run, error: str) -> None:
        with self._lock:
            self._end_bar()


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
