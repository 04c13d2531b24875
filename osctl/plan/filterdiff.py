"""Readable differences between two canonical filter lists, and filters described in words.

deepdiff finds the differences; this module only phrases them:
`filters[1].value: "US" → "CA"`, `filters[2]: added tag vip exists`.
"""

from __future__ import annotations

import json
import re

from osctl.filters import is_operator, or_groups

_PATH_PART = re.compile(r"\[(\d+|'[^']*')\]")


def _path(deepdiff_path: str) -> str:
    """root[1]['value'] -> filters[1].value"""
    out = "filters"
    for part in _PATH_PART.findall(deepdiff_path):
        out += f"[{part}]" if part.isdigit() else f".{part.strip(chr(39))}"
    return out


def _show(value: object) -> str:
    if isinstance(value, dict):
        return describe_entry(value)
    return json.dumps(value, ensure_ascii=False)


def describe_entry(entry: dict) -> str:
    """One filter in words: `country = "US"`, `tag vip exists`, `last_session < 72 hours ago`."""
    if is_operator(entry):
        return entry["operator"]
    field = entry.get("field", "?")
    relation = entry.get("relation")
    if field == "location":
        return f"within {entry.get('radius')} m of ({entry.get('lat')}, {entry.get('long')})"
    subject = f"tag {entry['key']}" if field == "tag" and "key" in entry else field
    if field not in ("tag",) and "key" in entry:
        subject += f" {entry['key']}"
    if relation in ("exists", "not_exists"):
        return f"{subject} {relation.replace('_', ' ')}"
    if "hours_ago" in entry:
        return f"{subject} {relation} {entry['hours_ago']} hours ago"
    return f"{subject} {relation} {json.dumps(entry.get('value'), ensure_ascii=False)}"


def describe_filters(filters: list[dict]) -> str:
    """The whole expression in words, AND binding tighter than OR."""
    groups = [g for g in or_groups(filters) if g]
    parts = [" and ".join(describe_entry(e) for e in group) for group in groups]
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({p})" if " and " in p else p for p in parts)


def diff_lines(before: list[dict] | None, after: list[dict] | None) -> tuple[str, ...]:
    """Readable lines for what changes from `before` to `after` (both canonical)."""
    from deepdiff import DeepDiff  # imported late: only plans with replaces need it

    # plain dicts: DeepDiff would report a state record's read-only dicts as a change of type
    before, after = [dict(e) for e in before or []], [dict(e) for e in after or []]
    if before == after:
        return ()
    diff = DeepDiff(before, after, ignore_order=False, verbose_level=2)
    lines: list[str] = []
    for path, change in sorted(diff.get("values_changed", {}).items()):
        lines.append(f"{_path(path)}: {_show(change['old_value'])} → {_show(change['new_value'])}")
    for path, change in sorted(diff.get("type_changes", {}).items()):
        lines.append(f"{_path(path)}: {_show(change['old_value'])} → {_show(change['new_value'])}")
    for path, value in sorted(diff.get("dictionary_item_added", {}).items()):
        lines.append(f"{_path(path)}: added {_show(value)}")
    for path, value in sorted(diff.get("dictionary_item_removed", {}).items()):
        lines.append(f"{_path(path)}: removed (was {_show(value)})")
    for path, value in sorted(diff.get("iterable_item_added", {}).items()):
        lines.append(f"{_path(path)}: added {_show(value)}")
    for path, value in sorted(diff.get("iterable_item_removed", {}).items()):
        lines.append(f"{_path(path)}: removed {_show(value)}")
    if describe_filters(before) != describe_filters(after):
        lines.append(f"was: {describe_filters(before)}")
        lines.append(f"now: {describe_filters(after)}")
    return tuple(lines)
