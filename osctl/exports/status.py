"""What `osctl exports status` shows, as plain data. Pure: state and the clock are arguments.

File URLs of exports in flight are bearer links: only their masked form (scheme and host)
appears here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from osctl.addresses import export_address
from osctl.config.model import Config
from osctl.exports.links import mask_url
from osctl.schedule import due, format_time, next_tick, parse_time
from osctl.state.model import FileRecord, InFlight, PrunedFile, State


class FileView(TypedDict):
    path: str
    bytes: int
    rows: int
    sha256: str
    tick: str | None
    message_id: str | None
    written_at: str | None
    duration_seconds: float | None
    etag: str | None
    version: str | None


class PrunedView(TypedDict):
    path: str
    sha256: str
    tick: str | None
    written_at: str | None
    pruned_at: str


class FlightView(TypedDict):
    kind: str
    message_id: str | None
    requested_at: str
    expires_at: str
    expired: bool
    url: str  # masked
    tick: str | None


class StatusRow(TypedDict):
    """One export: declared, or only in state (then app, kind and schedule are None)."""

    name: str
    address: str
    app: str | None
    kind: str | None
    declared: bool
    schedule: str | None
    timezone: str | None
    due: bool
    due_since: str | None
    next_due: str | None
    next_tick: str | None
    last_attempt: str | None
    last_success: str | None
    satisfied_tick: str | None
    last_error: str | None
    messages_done: int
    files: int
    last_file: FileView | None
    in_flight: list[FlightView]
    keep: str | None
    pruned: list[PrunedView]


def export_status(config: Config, state: State | None, now: datetime) -> list[StatusRow]:
    records = state.exports if state is not None else {}
    rows: list[StatusRow] = []
    for export in sorted(config.exports, key=lambda e: e.name):
        record = records.get(export.name)
        tick = due(export, record, now)
        upcoming = next_tick(export.schedule, export.timezone, now) if export.schedule else None
        last_file = record.files[-1] if record is not None and record.files else None
        rows.append({
            "name": export.name,
            "address": export.address,
            "app": export.app,
            "kind": export.kind,
            "declared": True,
            "schedule": export.schedule,
            "timezone": export.timezone,
            "due": tick is not None,
            "due_since": format_time(tick) if tick is not None else None,
            "next_due": format_time(tick) if tick is not None else (format_time(upcoming) if upcoming else None),
            "next_tick": format_time(upcoming) if upcoming else None,
            "last_attempt": record.last_attempt if record else None,
            "last_success": record.last_success if record else None,
            "satisfied_tick": record.satisfied_tick if record else None,
            "last_error": record.last_error if record else None,
            "messages_done": len(record.messages_done) if record else 0,
            "files": len(record.files) if record else 0,
            "last_file": _file(last_file) if last_file else None,
            "in_flight": [_flight(f, now) for f in record.in_flight] if record else [],
            "keep": export.keep,
            "pruned": [_pruned(p) for p in record.pruned] if record else [],
        })
    declared = {e.name for e in config.exports}
    for name in sorted(set(records) - declared):
        record = records[name]
        last_file = record.files[-1] if record.files else None
        rows.append({
            "name": name, "address": export_address(name), "app": None, "kind": None, "declared": False,
            "schedule": None, "timezone": None, "due": False, "due_since": None, "next_due": None,
            "next_tick": None, "last_attempt": record.last_attempt, "last_success": record.last_success,
            "satisfied_tick": record.satisfied_tick, "last_error": record.last_error,
            "messages_done": len(record.messages_done), "files": len(record.files),
            "last_file": _file(last_file) if last_file else None,
            "in_flight": [_flight(f, now) for f in record.in_flight],
            "keep": None, "pruned": [_pruned(p) for p in record.pruned],
        })
    return rows


def _file(file: FileRecord) -> FileView:
    return {"path": file.path, "bytes": file.bytes, "rows": file.rows, "sha256": file.sha256, "tick": file.tick,
            "message_id": file.message_id, "written_at": file.written_at, "duration_seconds": file.duration_seconds,
            "etag": file.etag, "version": file.version}


def _pruned(pruned: PrunedFile) -> PrunedView:
    return {"path": pruned.path, "sha256": pruned.sha256, "tick": pruned.tick, "written_at": pruned.written_at,
            "pruned_at": pruned.pruned_at}


def _flight(flight: InFlight, now: datetime) -> FlightView:
    return {"kind": flight.kind, "message_id": flight.message_id, "requested_at": flight.requested_at,
            "expires_at": flight.expires_at, "expired": parse_time(flight.expires_at) <= now,
            "url": mask_url(flight.url), "tick": flight.tick}


def render_text(rows: list[StatusRow]) -> str:
    if not rows:
        return "No exports are declared.\n"
    lines = []
    for row in rows:
        head = export_address(row["name"])
        if not row["declared"]:
            lines.append(f"{head}  (in state, no longer declared)")
        else:
            schedule = f"{row['schedule']} {row['timezone']}" if row["schedule"] else "on demand (no schedule)"
            lines.append(f"{head}  {row['kind']}  app {row['app']}  schedule: {schedule}")
        lines.append(f"  last success: {row['last_success'] or 'never'}"
                     + (f" (satisfied tick {row['satisfied_tick']})" if row["satisfied_tick"] else ""))
        if row["declared"] and row["schedule"]:
            if row["due"]:
                lines.append(f"  next due:     now (due since {row['due_since']})")
            else:
                lines.append(f"  next due:     {row['next_due']}")
        if row["last_error"]:
            lines.append(f"  last error:   {row['last_error']}")
        file = row["last_file"]
        if file:
            lines.append(f"  last file:    {file['path']} ({file['rows']:,} rows, {file['bytes']:,} bytes, "
                         f"sha256 {file['sha256'][:12]}…)")
        if row["keep"] or row["pruned"]:
            keep = f"keep {row['keep']}" if row["keep"] else "none declared"
            pruned = row["pruned"]
            deleted = (f"; {len(pruned)} file(s) deleted, last {pruned[-1]['path']} at {pruned[-1]['pruned_at']}"
                       if pruned else "; nothing deleted yet")
            lines.append(f"  retention:    {keep} ({row['files']} file(s) kept){deleted}")
        if row["messages_done"]:
            lines.append(f"  messages:     {row['messages_done']} exported")
        for flight in row["in_flight"]:
            what = f" message {flight['message_id']}" if flight["message_id"] else ""
            state = "expired" if flight["expired"] else f"valid until {flight['expires_at']}"
            lines.append(f"  in flight:    {flight['kind']}{what} requested {flight['requested_at']}, "
                         f"{state}: {flight['url']}")
        lines.append("")
    return "\n".join(lines)
