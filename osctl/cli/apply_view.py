"""How apply reports progress and its result on a terminal or in a CI log."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from osctl.addresses import export_address
from osctl.cli.exports_view import TextObserver as ExportsObserver
from osctl.cli.exports_view import outcome_lines
from osctl.errors import VERBOSE_HINT, OsctlError

if TYPE_CHECKING:
    from osctl.apply import ApplyResult
    from osctl.exports.runner import ExportsResult
    from osctl.plan.model import Change, ExportRun

_VERBS = {  # step -> (start, done)
    "delete": ("Destroying...", "Destruction complete"),
    "create": ("Creating...", "Creation complete"),
    "update": ("Updating in place...", "Update complete"),
    "state": ("Updating state...", "State updated"),
    "import": ("Importing...", "Imported"),
}


class TextObserver:
    """Prints one line when an operation starts and one when it ends (threads share the stream)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._lock = threading.Lock()

    def _say(self, text: str, err: bool = False) -> None:
        with self._lock:
            click.echo(text, err=err)

    def started(self, change: Change, step: str) -> None:
        if not self.quiet:
            self._say(f"{change.address}: {_VERBS[step][0]}")

    def finished(self, change: Change, step: str, detail: str) -> None:
        if not self.quiet:
            self._say(f"{change.address}: {_VERBS[step][1]} [{detail}]")

    def failed(self, change: Change, step: str, error: str) -> None:
        # "record": done in OneSignal, not in state; the error says exactly that
        self._say(f"{change.address}: {error}" if step == "record" else f"{change.address}: {step} failed: {error}",
                  err=True)


class ApplyTextView:
    """osctl.applying.ApplyView for a terminal or a CI log: progress lines as work goes,
    then what was done (stdout) and what went wrong (stderr)."""

    def __init__(self, *, quiet: bool, verbose: bool):
        self.changes = TextObserver(quiet)
        self.exports = ExportsObserver(quiet=quiet)
        self.verbose = verbose

    def changes_done(self, segments: ApplyResult, users: ApplyResult | None) -> None:
        for line in result_lines(segments, users):
            click.echo(line)
        report_internal_errors(segments.tracebacks + (users.tracebacks if users else []), self.verbose)

    def state_not_written(self, error: OsctlError, exports_skipped: bool) -> None:
        click.echo(f"Error: {error}{'; due exports were not run' if exports_skipped else ''}", err=True)

    def exports_not_started(self, runs: Iterable[ExportRun], reason: str) -> None:
        for run in runs:
            click.echo(f"{export_address(run.name)}: not started: {reason}")

    def exports_done(self, result: ExportsResult) -> None:
        for line, err in outcome_lines(result):
            click.echo(line, err=err)
        report_internal_errors(result.tracebacks, self.verbose)


def report_internal_errors(tracebacks: list[str], verbose: bool) -> None:
    """For bugs that apply or an export run went on past (each already reported as
    'internal error: ...'): the tracebacks with -v, else the hint, as the CLI boundary does."""
    if not tracebacks:
        return
    if verbose:
        for text in tracebacks:
            click.echo(text, err=True, nl=False)
    else:
        count = len(tracebacks)
        click.echo(f"{count} internal error{'s' if count != 1 else ''} above: {VERBOSE_HINT}.", err=True)


def result_lines(result: ApplyResult, users: ApplyResult | None = None) -> list[str]:
    """The end of apply's output: what failed and was not attempted, or the counts. `users`:
    the test users' result, when the plan had user changes."""
    results = [result] + ([users] if users is not None else [])
    succeeded = [item for r in results for item in r.succeeded]
    failed = [item for r in results for item in r.failed]
    not_attempted = [item for r in results for item in r.not_attempted]
    lines = []
    if failed or not_attempted:
        lines.append("")
        stopped = next((r.stopped for r in results if r.stopped), None)
        how = f"Apply {stopped}" if stopped else "Apply incomplete"
        lines.append(f"{how}: {len(succeeded)} succeeded, {len(failed)} failed, "
                     f"{len(not_attempted)} not attempted.")
        for change, detail in succeeded:
            lines.append(f"  ok      {change.address}: {detail}")
        for change, error in failed:
            lines.append(f"  FAILED  {change.address}: {error}")
        for change, why in not_attempted:
            lines.append(f"  skipped {change.address}: {why}")
        if any(r.state_incomplete for r in results):
            lines.append("State could not record all of it (see above); run 'osctl plan' to see what remains.")
        else:
            lines.append("State records exactly what was done; run 'osctl plan' to see what remains.")
        return lines
    words = {"create": "created", "update": "updated in place", "replace": "replaced", "delete": "deleted",
             "forget": "forgotten",
             "adopt": "adopted", "update-state": "updated in state", "import": "imported"}
    parts = _counted(result.succeeded, words, ("create", "replace", "delete"))
    lines.append("")
    if users is None:
        lines.append("Apply complete! Segments: " + ", ".join(parts) + ".")
        return lines
    user_words = {"create": "created", "update": "updated", "delete": "deleted", "adopt": "adopted",
                  "update-state": "updated in state", "forget": "forgotten"}
    user_parts = _counted(users.succeeded, user_words, ())
    segments = "Segments: " + ", ".join(parts) + ". " if result.succeeded else ""
    lines.append(f"Apply complete! {segments}Test users: " + ", ".join(user_parts) + ".")
    return lines


def _counted(succeeded: list[tuple[Change, str]], words: dict[str, str], always: tuple[str, ...]) -> list[str]:
    counts: dict[str, int] = {}
    for change, _ in succeeded:
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
    return [f"{counts.get(a, 0)} {w}" for a, w in words.items() if counts.get(a) or a in always]
