"""The plan for a terminal, in Terraform's shape: one `# address will be ...` block per change."""

from __future__ import annotations

import json

from osctl.plan.filterdiff import describe_filters
from osctl.plan.render.common import (
    DESTRUCTIVE,
    NO_CHANGES,
    affected_phrase,
    export_context,
    export_timing,
    has_actions,
    identity_notes,
    impact_notes,
    live_name_suffix,
    membership_line,
    outcome,
    override_phrase,
    printable,
    redact_plan,
    short_id,
    summary_line,
    user_heading,
    user_notes,
)

_ANSI = {"green": "32", "red": "31", "yellow": "33", "cyan": "36", "bold": "1"}
_SYMBOL_COLOR = {"+": "green", "-": "red", "-/+": "yellow", "~": "yellow", ">": "cyan", "<=": "cyan"}
_BODY = " " * 6  # body lines sit under the segment name, as in Terraform
_MAX_LISTED = 10


class _Paint:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, style: str, text: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if self.enabled else text

    def symbol(self, symbol: str) -> str:
        return self(_SYMBOL_COLOR[symbol], symbol.rjust(3))


def render_text(plan: dict, *, color: bool = False) -> str:
    plan = redact_plan(plan)
    paint = _Paint(color)
    lines: list[str] = []
    if has_actions(plan):
        lines += ["osctl will perform the following actions:", ""]
    for change in plan["changes"]:
        lines += _change_block(change, paint) + [""]
    for change in plan.get("user_changes", ()):
        lines += _user_block(change, paint) + [""]
    for run in plan["exports"]:
        lines += _export_block(run, paint) + [""]
    for violation in plan["violations"]:
        lines += _violation_block(violation, paint) + [""]
    for warning in plan["warnings"]:
        lines += [paint("yellow", "Warning: ") + printable(warning), ""]
    if not has_actions(plan):
        lines.append(NO_CHANGES)
        return "\n".join(lines) + "\n"
    affected = affected_phrase(plan)
    if affected:
        lines.append(f"Subscribers in the segments deleted or replaced: {affected}. "
                     "Deleting a segment removes its definition, never its users.")
    lines.append(paint("bold", summary_line(plan["summary"])))
    return "\n".join(lines) + "\n"


def _change_block(change: dict, paint: _Paint) -> list[str]:
    action = change["action"]
    lines = [
        paint("bold", f"  # {printable(change['address'])} {outcome(change)}"),
        f"  # because {change['reason_text']}",
        f"{paint.symbol(change['symbol'])} segment {_quoted(change['name'])}{printable(live_name_suffix(change))} "
        f"(app {printable(change['app'])}) {{",
    ]
    body = [printable(note) for note in identity_notes(change)]
    if action in ("replace", "update"):
        body += [_diff_line(line, paint) for line in change["filter_diff"]]
    elif action == "create" or (action in DESTRUCTIVE and change.get("before") is not None):
        filters = change["after"] if action == "create" else change["before"]
        body += _filter_lines(filters)
    body += [printable(note) for note in impact_notes(change)]
    lines += [_BODY + line for line in body]
    lines.append("    }")
    return lines


def _user_block(change: dict, paint: _Paint) -> list[str]:
    """The test user in USERS.md's shape: its line, then what changes and the segments it falls into."""
    body = [_diff_line(line, paint) for line in change["lines"]]
    body += [printable(note) for note in user_notes(change)]
    membership = membership_line(change)
    if membership:
        body.append(printable(membership))
    return [f"{paint.symbol(change['symbol'])} {printable(user_heading(change))}"] + [_BODY + line for line in body]


def _filter_lines(filters: list[dict]) -> list[str]:
    """The expression in words, then each entry compactly (what is sent, or was)."""
    lines = [f"filters: {printable(describe_filters(filters))}"]
    for i, entry in enumerate(filters):
        lines.append(f"  [{i}] {printable(json.dumps(entry, ensure_ascii=False))}")
    return lines


def _diff_line(line: str, paint: _Paint) -> str:
    """What goes red (`was: ...` of filters, `- subscription ...` of a test user) or green (`now: `, `+ `)."""
    line = printable(line)
    if line.startswith(("was: ", "- ")):
        return paint("red", line)
    if line.startswith(("now: ", "+ ")):
        return paint("green", line)
    return line


def _export_block(run: dict, paint: _Paint) -> list[str]:
    lines = [f"{paint.symbol('>')} export {printable(run['name'])} will run "
             f"({printable(export_timing(run))})",
             _BODY + printable(export_context(run))]
    if run["messages"]:
        lines.append(_BODY + f"messages ({len(run['messages'])}): "
                     + ", ".join(printable(short_id(m)) for m in run["messages"]))
    lines += [_BODY + paint("yellow", "warning: ") + printable(w) for w in run["warnings"]]
    return lines


def _violation_block(violation: dict, paint: _Paint) -> list[str]:
    lines = [paint("red", "! Refused by apply: ") + printable(violation["message"])]
    lines.append("    " + override_phrase(violation))
    addresses = violation["addresses"]
    if addresses:
        listed = ", ".join(printable(a) for a in addresses[:_MAX_LISTED])
        more = len(addresses) - _MAX_LISTED
        lines.append(f"    affects: {listed}" + (f" and {more:,} more" if more > 0 else ""))
    return lines


def _quoted(name: str) -> str:
    # json.dumps escapes quotes and control characters, so a name cannot break the line
    return json.dumps(name, ensure_ascii=False)
