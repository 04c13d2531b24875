"""What every plan renderer shares: wording, counts and the scrubbing of unsafe text.

Renderers read the plan as a dict (Plan.to_dict(), or a saved plan file), so a
saved plan renders exactly like a fresh one.
"""

from __future__ import annotations

import json
import re

from osctl.exports.links import mask_urls_in

DESTRUCTIVE = ("delete", "replace")
STATE_ONLY = ("forget", "adopt", "update-state")

# "# segment.prod.X will be ..." in text; "... will be ..." in markdown summaries
OUTCOME = {
    "create": "will be created",
    "delete": "will be deleted",
    "replace": "will be replaced",
    "update": "will be updated in place",
    "forget": "will be forgotten (state only)",
    "adopt": "will be adopted (state only)",
    "update-state": "will be updated in state",
    "import": "will be imported",
}


def outcome(change: dict) -> str:
    """`will be replaced`; for a segment an imports: block adopts first, `will be imported, then replaced`."""
    action = change["action"]
    if change.get("importing") and action != "import":
        return "will be imported, then " + OUTCOME[action].removeprefix("will be ")
    return OUTCOME[action]

NO_CHANGES = "No changes. Live segments match the configuration and no export is due."

_FREE_TEXT_LIMIT = 1000
# C0 and C1 controls (ESC included) would let a segment name recolour or rewrite a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def redact_urls(text: str) -> str:
    """Download URLs of exports work for anyone holding them for 3 days: cut to their host."""
    return mask_urls_in(text)


def redact_plan(plan: dict) -> dict:
    """The plan with URLs in its free-text fields (warnings, messages, reasons) cut to their host.

    Names, addresses and filters are left alone: they are the plan itself, and a
    saved plan must still apply exactly what was reviewed.
    """
    out = dict(plan)
    out["warnings"] = [redact_urls(w) for w in plan.get("warnings", ())]
    out["violations"] = [{**v, "message": redact_urls(v["message"])} for v in plan.get("violations", ())]
    out["exports"] = [
        {**e, "reason": redact_urls(e["reason"]), "warnings": [redact_urls(w) for w in e.get("warnings", ())]}
        for e in plan.get("exports", ())
    ]
    return out


def printable(text: object) -> str:
    """Text with control characters shown as escapes, newlines as spaces."""
    text = str(text).replace("\r\n", " ").replace("\n", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def clip(text: str, limit: int = _FREE_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(n: int) -> str:
    return f"{n:,}"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{number(n)} {word if n == 1 else (words or word + 's')}"


def short_id(message_id: str) -> str:
    return message_id[:8]


def has_actions(plan: dict) -> bool:
    return bool(plan.get("changes") or plan.get("exports") or plan.get("user_changes"))


def summary_line(summary: dict) -> str:
    """`Plan: 2 to create, 1 to replace, 0 to delete; 3 exports due.` (import, update and state-only
    counts only when non-zero: `Plan: 3 to import, 0 to create, 2 to update in place, ...`)."""
    updates = f", {summary['update']} to update in place" if summary.get("update") else ""
    imports = f"{summary['import']} to import, " if summary.get("import") else ""
    counts = (f"{imports}{summary['create']} to create{updates}, {summary['replace']} to replace, "
              f"{summary['delete']} to delete")
    if summary.get("state_only"):
        counts += f", {summary['state_only']} state-only"
    users = user_counts(summary.get("users") or {})
    return f"Plan: {counts}; {users + '; ' if users else ''}{plural(summary['exports_due'], 'export')} due."


def user_counts(users: dict) -> str:
    """`2 test users to create, 1 to delete`: the non-zero test-user counts; "" when there are none."""
    parts = [(users.get(key) or 0, words) for key, words in
             (("create", "to create"), ("update", "to update"), ("delete", "to delete"), ("state_only", "state-only"))]
    parts = [(n, words) for n, words in parts if n]
    if not parts:
        return ""
    (first, words), rest = parts[0], parts[1:]
    return ", ".join([f"{plural(first, 'test user')} {words}"] + [f"{number(n)} {w}" for n, w in rest])


# test-user reasons worth a word beside the user's line; the symbol says the rest
_USER_REASONS_SHOWN = ("edited_outside", "deleted_outside", "create_interrupted", "already_live")
_USER_STATE_ONLY = {"forget": "forgotten (state only)", "adopt": "adopted as it is (state only)",
                    "update-state": "recorded as it is (state only)"}


def user_heading(change: dict) -> str:
    """`user "qa-alice" (prod)`, then why when it is drift or an unfinished create, and what a
    state-only change does: `  edited outside osctl (drift)`."""
    notes = [change["reason_text"]] if change["reason"] in _USER_REASONS_SHOWN else []
    if change["action"] in _USER_STATE_ONLY:
        notes.append(_USER_STATE_ONLY[change["action"]])
    heading = f"user {_json(change['external_id'])} ({change['app']})"
    return heading + ("  " + "; ".join(notes) if notes else "")


def user_notes(change: dict) -> list[str]:
    """What a reviewer weighs beside a test user's changes: what a delete takes with it."""
    if change["action"] == "delete":
        return ["OneSignal deletes the user with all its subscriptions (push devices included) and aliases"]
    return []


def membership_line(change: dict) -> str | None:
    """`falls into: QA testers; can't tell: Active users`: the declared segments a test user would be in."""
    sure = [name for name, verdict in _verdicts(change) if verdict == "yes"]
    unsure = [name for name, verdict in _verdicts(change) if verdict != "yes"]
    parts = ([f"falls into: {', '.join(sure)}"] if sure else []) + \
        ([f"can't tell: {', '.join(unsure)}"] if unsure else [])
    return "; ".join(parts) or None


def _verdicts(change: dict) -> list[tuple[str, str]]:
    return [(s["name"], s["verdict"]) for s in change.get("segments") or ()]


def subscriber_phrase(count: int | None) -> str:
    if count is None:
        return "subscriber count unknown (only read with --refresh full)"
    return f"{plural(count, 'subscriber')} in this segment now"


def affected_phrase(plan: dict) -> str | None:
    """How many users sit in the segments this plan deletes or replaces; None when it destroys nothing."""
    destroyed = [c for c in plan["changes"] if c["action"] in DESTRUCTIVE]
    if not destroyed:
        return None
    unknown = sum(1 for c in destroyed if c.get("subscriber_count") is None)
    if unknown == len(destroyed):
        return "unknown (only read with --refresh full)"
    total = number(plan["summary"]["subscribers_affected"])
    if unknown:
        return f"at least {total} (unknown for {plural(unknown, 'segment')})"
    return total


def override_phrase(violation: dict) -> str:
    if violation["overridable"]:
        return "apply --allow-mass-destroy overrides this"
    return "cannot be overridden from the command line"


def export_timing(run: dict) -> str:
    """`due since 2026-11-22T03:00:00Z; last success 2026-11-21T03:04:12Z`"""
    last = f"last success {run['last_success']}" if run.get("last_success") else "no earlier success"
    return f"{run['reason']}; {last}"


def export_context(run: dict) -> str:
    text = f"{run['kind']} export of app {run['app']}"
    if run.get("after_segment"):
        text += f", after {run['after_segment']} is created"
    return text


def identity_notes(change: dict) -> list[str]:
    """Which live segment a change is about, and its description."""
    action, segment_id = change["action"], change.get("segment_id")
    notes: list[str] = []
    if change.get("importing"):
        notes.append(f"imported: segment id {change['importing']} (an imports: block), recorded in state "
                     "without calling OneSignal" + ("" if action == "import" else ", before the change below"))
    if action == "replace":
        notes.append(f"forces replacement: new segment id (old id {segment_id})")
    elif action == "update":
        notes.append(f"id kept: {segment_id} (updated in place)")
    elif action == "delete":
        notes.append(f"segment id {segment_id}")
    elif action == "forget":
        notes.append(f"segment id {segment_id} is already gone from OneSignal; only state changes")
    elif action == "adopt":
        notes.append(f"found in OneSignal by name as segment id {segment_id}; "
                     "recorded in state without calling OneSignal")
    if change.get("moved_from"):
        notes.append(f"the same segment as {change['moved_from']} in state (renamed_from)")
    live_name = change.get("live_name")
    if live_name is not None:
        if action == "delete":
            notes.append(f"named {_json(live_name)} in OneSignal now (renamed outside osctl)")
        else:
            notes.append(f"name: {_json(live_name)} → {_json(change['name'])}")
    if change.get("description"):
        notes.append("description: " + json.dumps(change["description"], ensure_ascii=False))
    return notes


def live_name_suffix(change: dict) -> str:
    """` (named "X" in OneSignal)` for a segment deleted or replaced under another name than state's."""
    live_name = change.get("live_name")
    if live_name is None or change["action"] not in DESTRUCTIVE:
        return ""
    return f" (named {_json(live_name)} in OneSignal)"


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def impact_notes(change: dict) -> list[str]:
    """What a reviewer weighs: users in a segment about to go, protection, exports naming it."""
    notes: list[str] = []
    if change["action"] in DESTRUCTIVE:
        notes.append(subscriber_phrase(change.get("subscriber_count")))
        if change.get("prevent_destroy"):
            notes.append("prevent_destroy is set: apply refuses this change")
    if change.get("used_by_exports"):
        notes.append("used by exports: " + ", ".join(change["used_by_exports"]))
    return notes
