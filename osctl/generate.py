"""Declarations for the live segments osctl does not manage yet (`osctl generate`). Pure.

The output is one YAML file to add to the configuration directory: a `segments:` entry
for each chosen live segment, in the canonical layout `osctl fmt` keeps (filters as flow
mappings in canonical key order, values as the API returns them), and an `imports:` block
naming each one's id, so that the next plan adopts them through review and changes
nothing. Segments osctl must never touch (read-only ones, or ones whose filters the API
does not show) are listed at the end as comments, with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import yaml

try:  # the config loader's own (libyaml) reading, so plain text is judged as validate reads it
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    # the same interface; the stubs declare the two as unrelated classes
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from osctl.config.names import look_alike_key, name_problem
from osctl.filters import try_canonical
from osctl.onesignal.types import LiveSegment, SegmentDetail

FILTER_KEY_ORDER = ("operator", "field", "key", "relation", "value", "hours_ago", "radius", "lat", "long")
# Text YAML reads back as the same string when written plain, even inside a flow mapping.
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@/+-]*(?: [A-Za-z0-9_.@/+-]+)*")


@dataclass(frozen=True)
class Candidate:
    """A live segment of an app, as listed, and what osctl knows of it locally."""

    app: str
    segment: LiveSegment
    declared: bool  # a segment of this app and name is declared already: only an import block


@dataclass(frozen=True)
class Skipped:
    app: str
    name: str
    id: str
    reason: str


@dataclass(frozen=True)
class Generated:
    text: str  # "" when there is nothing to generate
    segments: int  # declarations written
    imports: int  # import blocks written
    skipped: tuple[Skipped, ...]


def choose(app: str, listed: Iterable[LiveSegment], managed_ids: set[str], declared_names: set[str],
           match: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Candidate]:
    """The live segments to generate: not managed yet, matching a --match glob (if any) and no
    --exclude-match glob. Shell-style globs on the name, case-sensitive."""
    chosen = []
    for segment in listed:
        if segment.id in managed_ids:
            continue
        if match and not any(fnmatchcase(segment.name, pattern) for pattern in match):
            continue
        if any(fnmatchcase(segment.name, pattern) for pattern in exclude):
            continue
        chosen.append(Candidate(app, segment, declared=segment.name in declared_names))
    return sorted(chosen, key=lambda c: (c.app, c.segment.name, c.segment.id))


def why_not(candidate: Candidate, detail: SegmentDetail | None) -> str | None:
    """Why osctl cannot manage this segment, or None if it can."""
    problem = name_problem(candidate.segment.name) if not candidate.declared else None
    if problem is not None:
        return f"{problem}, which a configuration cannot declare; rename it in the dashboard first"
    if candidate.segment.read_only:
        return "read-only: made and kept by OneSignal"
    if detail is None:
        return "deleted while it was being read"
    if detail.unsupported:
        return "its filters use kinds the API does not show (unsupported_in_api); manage it in the dashboard"
    if try_canonical(list(detail.filters)) is None:
        return "its filters are not in a form osctl can declare"
    return None


def render(candidates: Sequence[Candidate], details: dict[tuple[str, str], SegmentDetail | None],
           several_apps: bool, header: Sequence[str] = (),
           declared: dict[str, set[str]] | None = None) -> Generated:
    """The YAML text for `candidates`; `details` maps (app, segment id) to its view, `declared`
    an app to the names its configuration declares already (a new name must not look like one)."""
    declarations: list[str] = []
    imports: list[str] = []
    skipped: list[Skipped] = []
    written = 0
    looks = {(app, look_alike_key(name)): name for app, names in (declared or {}).items() for name in names}
    for candidate in candidates:
        segment = candidate.segment
        detail = details.get((candidate.app, segment.id))
        reason = why_not(candidate, detail)
        key = (candidate.app, look_alike_key(segment.name))
        if reason is None and not candidate.declared and key in looks:
            reason = (f"it looks the same as {scalar(looks[key])} (names are compared ignoring letter case, "
                      "Unicode form and repeated spaces), so both cannot be declared; rename one")
        if reason is not None:
            skipped.append(Skipped(candidate.app, segment.name, segment.id, reason))
            continue
        assert detail is not None
        imports.append(f"  - {{segment: {scalar(segment.name)}, app: {scalar(candidate.app)}, "
                       f"id: {scalar(segment.id)}}}")
        if not candidate.declared:
            declarations.extend(_declaration(candidate, detail, several_apps))
            looks[key] = segment.name
            written += 1
    lines = [f"# {line}" if line else "#" for line in header]
    if declarations:
        lines += ["segments:", *declarations[:-1]]  # the last entry's trailing blank line goes
    if imports:
        lines += ([""] if declarations else []) + ["imports:", *imports]
    if skipped:
        lines += ["", "# Not generated (osctl never changes these):"]
        lines += [f"# - {scalar(s.name)} in app {s.app} (id {s.id}): {s.reason}" for s in skipped]
    text = "\n".join(lines) + "\n" if imports or skipped else ""
    return Generated(text, segments=written, imports=len(imports), skipped=tuple(skipped))


def _declaration(candidate: Candidate, detail: SegmentDetail, several_apps: bool) -> list[str]:
    segment = candidate.segment
    count = "" if detail.subscriber_count is None else f", {detail.subscriber_count:,} subscribers"
    lines = [f"  # id {segment.id}{count}", f"  - name: {scalar(segment.name)}"]
    if several_apps:
        lines.append(f"    app: {scalar(candidate.app)}")
    description = detail.description or segment.description
    if description:
        lines.append(f"    description: {scalar(description)}")
    lines.append("    filters:")
    for entry in try_canonical(list(detail.filters)) or ():
        ordered = sorted(entry, key=lambda k: FILTER_KEY_ORDER.index(k) if k in FILTER_KEY_ORDER else 99)
        lines.append("      - {" + ", ".join(f"{key}: {scalar(entry[key])}" for key in ordered) + "}")
    lines.append("")
    return lines


def scalar(value: object) -> str:
    """`value` as a YAML flow scalar that reads back as exactly the same value."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return yaml.safe_dump(value).split("\n")[0]  # YAML 1.1 spelling: 1.0e-05, not 1e-05
    text = str(value)
    if _PLAIN.fullmatch(text) and yaml.load(text, Loader=_Loader) == text:
        return text
    return '"' + "".join(_escaped(ch) for ch in text) + '"'


def _escaped(ch: str) -> str:
    """One character inside a YAML double-quoted scalar."""
    if ch in '"\\':
        return "\\" + ch
    if ch.isprintable():
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
