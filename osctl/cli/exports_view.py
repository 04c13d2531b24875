"""How export runs look to people: progress lines while they run, one line per outcome after.

Shared by `osctl exports run` and `osctl apply` (which runs due exports after the segments).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

import click

from osctl.addresses import export_address

if TYPE_CHECKING:
    from osctl.exports.runner import ExportsResult
    from osctl.plan.model import ExportRun


def outcome_lines(result: ExportsResult) -> list[tuple[str, bool]]:
    """(line, to stderr) for each export's outcome, then the count."""
    lines = [(f"{export_address(run.name)}: {detail}", False) for run, detail in result.succeeded]
    lines += [(f"{export_address(run.name)} failed: {error}", True) for run, error in result.failed]
    lines += [(f"{export_address(run.name)}: {why}", False) for run, why in result.stopped]
    stopped = f", {len(result.stopped)} stopped" if result.stopped else ""
    lines.append((f"Exports: {len(result.succeeded)} succeeded, {len(result.failed)} failed{stopped}.", False))
    return lines


class TextObserver:
    """Export progress for people: steps as lines on stderr, a progress bar on a terminal only."""

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None, interactive: bool | None = None):
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

    def export_started(self, run: ExportRun) -> None:
        what = f" ({len(run.messages)} message{'s' if len(run.messages) != 1 else ''})" if run.messages else ""
        self._line(f"{export_address(run.name)}: running{what}, {run.reason}")

    def export_step(self, run: ExportRun, text: str) -> None:
        self._line(f"{export_address(run.name)}: {text}")

    def export_progress(self, run: ExportRun, done: int, total: int | None, rows: int) -> None:
        if self.quiet or not self.interactive:
            return
        now = time.monotonic()
        finished = total is not None and done >= total
        with self._lock:
            if now - self._shown < 0.1 and not finished:
                return
            self._shown = now
            self._bar_line(run, done, total, rows)

    def _bar_line(self, run: ExportRun, done: int, total: int | None, rows: int) -> None:
        if total:
            width = 24
            filled = int(width * min(done / total, 1.0))
            bar = "#" * filled + "-" * (width - filled)
            text = f"[{bar}] {_mb(done)} / {_mb(total)}"
        else:
            text = f"{_mb(done)}"
        click.echo(f"\r  export.{run.name} {text}, {rows:,} rows", file=self.stream, nl=False)
        self._bar = True

    def export_finished(self, run: ExportRun, detail: str) -> None:
        with self._lock:
            self._end_bar()

    def export_failed(self, run: ExportRun, error: str) -> None:
        with self._lock:
            self._end_bar()


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
