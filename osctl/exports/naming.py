"""Where an export file goes: destination placeholders and the -N suffix. Pure.

Placeholders (docs/design.md#destinations): {app} {app_id} {export} {kind} {message_id} {date} {time} {tick}.
{date} (YYYY-MM-DD) and {time} (HHMMSS) are the tick's wall-clock time in the export's
time zone, the way its schedule is written; {tick} is the tick in UTC in ISO 8601 basic
form (20261122T030000Z), which sorts and holds no colon.

Files are never overwritten: a name that exists gets -1, -2, ... before its extensions
(exports/2026-11-22.csv.gz -> exports/2026-11-22-1.csv.gz).

A local destination stays inside the config directory (no absolute path, no '..' out of
it) and, since every kind writes a gzip-compressed CSV, ends in .csv.gz. Placeholder
values cannot break that (see safe_part), so the template alone is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import PurePath
from zoneinfo import ZoneInfo

# What a substituted value may contain: anything else (a slash, a colon) becomes "_",
# so a value can never add a directory level or climb out of one.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+=-]")
# Trailing extensions a -N suffix goes in front of: short, starting with a letter.
_EXTENSION = re.compile(r"^\.[A-Za-z][A-Za-z0-9]{0,4}$")
MAX_EXTENSIONS = 2


# Every kind writes gzip-compressed CSV (outcomes too: osctl compresses what it writes itself).
FILE_EXTENSION = ".csv.gz"
_DRIVE = re.compile(r"^[A-Za-z]:")


def local_destination_problem(template: str) -> tuple[str, str] | None:
    """(what is wrong, what is valid) for a local destination template, or None."""
    valid = "a path relative to the config directory, such as exports/{export}/{date}" + FILE_EXTENSION
    if template.startswith(("/", "\\")) or _DRIVE.match(template):
        return "an absolute path: a local destination stays inside the config directory", valid
    if template.startswith("~"):
        return "'~' is not expanded: a local destination stays inside the config directory", valid
    depth = 0
    for part in re.split(r"[/\\]", template):
        depth += -1 if part == ".." else 0 if part in ("", ".") else 1
        if depth < 0:
            return "'..' leads out of the config directory, where local destinations stay", valid
    if not template.lower().endswith(FILE_EXTENSION):
        return (f"the file is a gzip-compressed CSV, so its name must end in {FILE_EXTENSION}",
                f"a name ending in {FILE_EXTENSION}, e.g. exports/{{export}}/{{date}}{FILE_EXTENSION}")
    return None


def safe_part(value: str) -> str:
    text = _UNSAFE.sub("_", str(value))
    return "_" if text in ("", ".", "..") else text


def placeholders(*, app: str, app_id: str, export: str, kind: str, tick: datetime, timezone: str = "UTC",
                 message_id: str | None = None) -> dict[str, str]:
    local = tick.astimezone(ZoneInfo(timezone))
    utc = tick.astimezone(UTC)
    values = {
        "app": app, "app_id": app_id, "export": export, "kind": kind,
        "message_id": message_id or "", "date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H%M%S"),
        "tick": utc.strftime("%Y%m%dT%H%M%SZ"),
    }
    return {key: safe_part(value) if value else "" for key, value in values.items()}


def render(template: str, values: dict[str, str]) -> str:
    """The destination with placeholders filled in (the config checker rejects unknown ones)."""
    return template.format_map(values)


def split_extensions(name: str) -> tuple[str, str]:
    """("2026-11-22", ".csv.gz") for "2026-11-22.csv.gz"; a dotfile keeps its leading dot in the stem."""
    stem, extensions = name, ""
    for _ in range(MAX_EXTENSIONS):
        dot = stem.rfind(".")
        if dot <= 0 or not _EXTENSION.match(stem[dot:]):
            break
        stem, extensions = stem[:dot], stem[dot:] + extensions
    return stem, extensions


def candidates(path: str) -> Iterator[str]:
    """path, then path with -1, -2, ... before its extensions."""
    pure = PurePath(path)
    stem, extensions = split_extensions(pure.name)
    yield path
    n = 1
    while True:
        yield str(pure.with_name(f"{stem}-{n}{extensions}"))
        n += 1


def free_name(path: str, exists: Callable[[str], bool]) -> str:
    """The first candidate that does not exist (`exists` is the only effect, injected)."""
    for candidate in candidates(path):
        if not exists(candidate):
            return candidate
    raise AssertionError("unreachable")
