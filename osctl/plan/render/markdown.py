"""The plan as a pull-request comment: the summary and what it destroys first, details folded.

Forges cap comments at 65,536 characters, so the comment is kept under
MARKDOWN_LIMIT by leaving out folded details (never the summary, the violations
or the list of deletes and replaces) and saying how many were left out.
"""

from __future__ import annotations

import difflib
import html
import json
import re

from osctl.plan.filterdiff import describe_entry, describe_filters
from osctl.plan.render.common import (
    DESTRUCTIVE,
    NO_CHANGES,
    STATE_ONLY,
    affected_phrase,
    clip,
    export_context,
    export_timing,
    has_actions,
    identity_notes,
    impact_notes,
    live_name_suffix,
    membership_line,
    number,
    outcome,
    override_phrase,
    plural,
    printable,
    redact_plan,
    short_id,
    summary_line,
    user_notes,
)

MARKDOWN_LIMIT = 60_000
_NOTE_RESERVE = 600  # room kept for the truncation note itself
_MD_SPECIAL = re.compile(r"([\\`*_|\[\]~])")


def md(text: object) -> str:
    """Text safe in a markdown paragraph, list item or table cell."""
    text = html.escape(printable(text), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


def html_text(text: object) -> str:
    """Text safe inside an HTML tag such as <summary>, where markdown is not parsed."""
    return html.escape(printable(text), quote=False)


def code(text: object) -> str:
    """An inline code span that no backtick inside `text` can close early."""
    text = printable(text)
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fenced(info: str, lines: list[str]) -> str:
    body = "\n".join(printable(line) for line in lines)
    fence = "`" * max(3, max((len(run) + 1 for run in re.findall(r"`+", body)), default=0))
    return f"{fence}{info}\n{body}\n{fence}\n"


def render_markdown(plan: dict, *, limit: int = MARKDOWN_LIMIT) -> str:
    plan = redact_plan(plan)
    head = _head(plan)
    footer = _footer(plan)
    if not has_actions(plan):
        return head + footer
    destructive = [c for c in plan["changes"] if c["action"] in DESTRUCTIVE]
    blocks: list[tuple[str | None, str]] = [(None, _change_details(c)) for c in destructive]
    blocks += [("Updates in place (id kept)", _change_details(c)) for c in plan["changes"] if c["action"] == "update"]
    blocks += [("Creates", _change_details(c)) for c in plan["changes"] if c["action"] == "create"]
    blocks += [("Imports (state only)", _change_details(c)) for c in plan["changes"] if c["action"] == "import"]
    blocks += [("State only", _change_details(c)) for c in plan["changes"] if c["action"] in STATE_ONLY]
    blocks += [("Test users", _user_details(c)) for c in plan.get("user_changes", ())]
    blocks += [("Exports due", _export_item(run)) for run in plan["exports"]]
    room = limit - len(head) - len(footer) - _NOTE_RESERVE
    top = head + _destructive_table(destructive, room) if destructive else head
    pieces = _pieces(blocks)
    full = top + "".join(pieces) + footer
    if len(full) < limit:
        return full
    kept = _fitting(pieces, limit - len(top) - len(footer) - _NOTE_RESERVE)
    return top + "".join(pieces[:kept]) + _left_out_note(plan, kept, limit) + footer


def _head(plan: dict) -> str:
    out = "### osctl plan\n\n"
    if not has_actions(plan):
        out += f"**No changes.** {NO_CHANGES.removeprefix('No changes. ')}\n\n"
    else:
        summary = plan["summary"]
        out += f"**{summary_line(summary)}**\n\n"
        out += "| | Count |\n|:--|--:|\n"
        out += f"| `+` create | {number(summary['create'])} |\n"
        if summary.get("update"):
            out += f"| `~` update in place (id kept) | {number(summary['update'])} |\n"
        if summary.get("import"):
            out += f"| `<=` import (state only) | {number(summary['import'])} |\n"
        out += f"| `-/+` replace (new segment id) | {number(summary['replace'])} |\n"
        out += f"| `-` delete | {number(summary['delete'])} |\n"
        out += f"| `~` state only | {number(summary['state_only'])} |\n"
        out += _user_rows(summary.get("users") or {}) if plan.get("user_changes") else ""
        out += f"| `>` exports due | {number(summary['exports_due'])} |\n"
        affected = affected_phrase(plan)
        if affected:
            out += f"| subscribers in deleted or replaced segments | {md(affected)} |\n"
        out += "\n"
    if plan["violations"]:
        out += "#### Refused by apply\n\n"
        for v in plan["violations"]:
            out += f"- **{md(v['kind'])}**: {md(clip(v['message']))} ({override_phrase(v)})\n"
        out += "\n"
    if plan["warnings"]:
        out += "#### Warnings\n\n" + "".join(f"- {md(clip(w))}\n" for w in plan["warnings"]) + "\n"
    return out


def _destructive_table(changes: list[dict], room: int) -> str:
    """Every delete and replace, one row each; cut (with a row saying so) only if even this cannot fit."""
    out = "#### Deletes and replaces\n\n| | Segment | Subscribers | Used by exports |\n|:--|:--|--:|:--|\n"
    for i, change in enumerate(changes):
        count = change.get("subscriber_count")
        row = (f"| `{change['symbol']}` | {md(change['address'] + live_name_suffix(change))} | "
               f"{'unknown' if count is None else number(count)} | "
               f"{md(', '.join(change['used_by_exports']))} |\n")
        if len(out) + len(row) > room - 200:
            out += f"| | … and {number(len(changes) - i)} more: see the JSON plan | | |\n"
            break
        out += row
    return out + "\n"


def _change_details(change: dict) -> str:
    action = change["action"]
    summary = (f"<code>{html_text(change['symbol'])}</code> {html_text(change['address'] + live_name_suffix(change))} "
               f"{outcome(change)}")
    if action in DESTRUCTIVE and change.get("subscriber_count") is not None:
        summary += f" · {plural(change['subscriber_count'], 'subscriber')}"
    bullets = [f"because {change['reason_text']}"] + identity_notes(change) + impact_notes(change)
    if action == "create":
        bullets.append(f"filters: {describe_filters(change['after'])}")
    paragraphs = ["".join(f"- {md(b)}\n" for b in bullets)]
    if action in ("replace", "update") and change["filter_diff"]:
        # a paragraph between the two lists, or markdown would merge them into one
        paragraphs.append("Filter changes:\n")
        paragraphs.append("".join(f"- {code(line)}\n" for line in change["filter_diff"]))
    if action in ("create", "replace", "update", "delete") and (change.get("before") or change.get("after")):
        before = change.get("before") if action != "create" else None
        after = change.get("after") if action != "delete" else None
        paragraphs.append(fenced("diff", _filter_diff(before or [], after or [])))
    return f"<details><summary>{summary}</summary>\n\n" + "\n".join(paragraphs) + "\n</details>\n\n"


def _user_rows(users: dict) -> str:
    rows = [("`+` create test users", "create"), ("`~` update test users", "update"),
            ("`-` delete test users", "delete"), ("`~` test users, state only", "state_only")]
    return "".join(f"| {label} | {number(users.get(key) or 0)} |\n" for label, key in rows if users.get(key))


_USER_OUTCOME = {"update": "will be updated"}  # a test user is never replaced: no "in place" to tell apart


def _user_details(change: dict) -> str:
    summary = (f"<code>{html_text(change['symbol'])}</code> {html_text(change['address'])} "
               f"{_USER_OUTCOME.get(change['action']) or outcome(change)}")
    bullets = [md(f"because {change['reason_text']}")]
    bullets += [code(line) for line in change["lines"]]
    bullets += [md(note) for note in user_notes(change)]
    membership = membership_line(change)
    if membership:
        bullets.append(md(membership))
    body = "".join(f"- {b}\n" for b in bullets)
    return f"<details><summary>{summary}</summary>\n\n{body}\n</details>\n\n"


def _filter_diff(before: list[dict], after: list[dict]) -> list[str]:
    """Entry by entry, in words; as JSON when the words alone would hide the difference."""
    old, new = [describe_entry(e) for e in before], [describe_entry(e) for e in after]
    if old == new and before != after:
        old = [json.dumps(e, ensure_ascii=False, sort_keys=True) for e in before]
        new = [json.dumps(e, ensure_ascii=False, sort_keys=True) for e in after]
    lines: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [f"  {line}" for line in old[i1:i2]]
            continue
        lines += [f"- {line}" for line in old[i1:i2]]
        lines += [f"+ {line}" for line in new[j1:j2]]
    return lines


def _export_item(run: dict) -> str:
    out = (f"- `>` **{md(run['name'])}** will run ({md(export_timing(run))}): "
           f"{md(export_context(run))}\n")
    if run["messages"]:
        out += f"  - messages ({len(run['messages'])}): " + ", ".join(code(short_id(m)) for m in run["messages"])
        out += "\n"
    out += "".join(f"  - warning: {md(clip(w))}\n" for w in run["warnings"])
    return out + "\n"  # items apart: a loose list, so each ends cleanly wherever the comment is cut


def _pieces(blocks: list[tuple[str | None, str]]) -> list[str]:
    """Each block's text, with its section heading in front of the first block of a section."""
    pieces, section = [], None
    for heading, text in blocks:
        if heading is not None and heading != section:
            text = f"#### {heading}\n\n" + text
        section = heading
        pieces.append(text)
    return pieces


def _fitting(pieces: list[str], room: int) -> int:
    """How many pieces, taken in order, fit in `room` characters."""
    used = 0
    for kept, piece in enumerate(pieces):
        used += len(piece)
        if used + 1 > room:
            return kept
    return len(pieces)


def _left_out_note(plan: dict, kept: int, limit: int) -> str:
    changes, users, exports = len(plan["changes"]), len(plan.get("user_changes", ())), len(plan["exports"])
    shown_changes = min(kept, changes)
    shown_users = min(max(0, kept - changes), users)
    shown_exports = max(0, kept - changes - users)
    parts = []
    if changes - shown_changes:
        parts.append(f"the details of {number(changes - shown_changes)} of {plural(changes, 'change')}")
    if users - shown_users:
        parts.append(f"{number(users - shown_users)} of {plural(users, 'test user change')}")
    if exports - shown_exports:
        parts.append(f"{number(exports - shown_exports)} of {plural(exports, 'export run')}")
    return (f"> **Left out: {' and '.join(parts)}**, to keep this comment under "
            f"{number(limit)} characters. The full plan is in the JSON plan artifact; "
            "`osctl show PLANFILE` prints all of it.\n\n")


def _footer(plan: dict) -> str:
    prov = plan["provenance"]
    facts = [f"osctl {plan['osctl_version']}", f"plan made {plan['created_at']}",
             f"state serial {prov['state_serial']}", f"refresh {prov['refresh']}"]
    return "<sub>" + " · ".join(html_text(f) for f in facts) + "</sub>\n"
