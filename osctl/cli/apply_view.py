"""How apply reports progress and its result on a terminal or in a CI log."""

from __future__ import annotations

import threading

import click

from osctl.errors import VERBOSE_HINT

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

    def started(self, change, step):
        if not self.quiet:
            self._say(f"{change.address}: {_VERBS[step][0]}")

    def finished(self, change, step, detail):
        if not self.quiet:
            self._say(f"{change.address}: {_VERBS[step][1]} [{detail}]")

    def failed(self, change, step, error):
        # "record": done in OneSignal, not in state; the error says exactly that
        self._say(f"{change.address}: {error}" if step == "record" else f"{change.address}: {step} failed: {error}",
                  err=True)


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


def result_lines(result) -> list[str]:
    lines = []
    if result.failed or result.not_attempted:
        lines.append("")
        how = f"Apply {result.stopped}" if result.stopped else "Apply incomplete"
        lines.append(f"{how}: {len(result.succeeded)} succeeded, {len(result.failed)} failed, "
                     f"{len(result.not_attempted)} not attempted.")
        for change, detail in result.succeeded:
            lines.append(f"  ok      {change.address}: {detail}")
        for change, error in result.failed:
            lines.append(f"  FAILED  {change.address}: {error}")
        for change, why in result.not_attempted:
            lines.append(f"  skipped {change.address}: {why}")
        if result.state_incomplete:
            lines.append("State could not record all of it (see above); run 'osctl plan' to see what remains.")
        else:
            lines.append("State records exactly what was done; run 'osctl plan' to see what remains.")
        return lines
    counts: dict[str, int] = {}
    for change, _ in result.succeeded:
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
    words = {"create": "created", "update": "updated in place", "replace": "replaced", "delete": "deleted",
             "forget": "forgotten",
             "adopt": "adopted", "update-state": "updated in state", "import": "imported"}
    parts = [f"{counts.get(a, 0)} {w}" for a, w in words.items() if counts.get(a) or a in ("create", "replace", "delete")]
    lines.append("")
    lines.append("Apply complete! Segments: " + ", ".join(parts) + ".")
    return lines
