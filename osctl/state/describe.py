"""State records (segments, test users, exports) as readable text for `osctl state show`. Pure; export URLs
come out masked."""

from __future__ import annotations

import json

from osctl.exports.links import mask_url, mask_urls_in
from osctl.state.model import ExportRecord, SegmentRecord, UserRecord


def describe_segment(record: SegmentRecord) -> str:
    status = record.status
    if status == "pending_create":
        status += (" (the create may have been sent; the next plan adopts the segment if it exists with "
                   "these filters and was created after this)")
    lines = [record.address, *_fields([
        ("app", f"{record.app} ({record.app_id})"), ("name", record.name), ("id", record.id or "(none yet)"),
        ("status", status), ("created_at", record.created_at),
        ("updated_at", record.updated_at), ("description", record.description),
        ("digest", record.digest)]), "  filters:"]
    # one filter per line: reads like the YAML that declared them, and is valid JSON
    entries = [json.dumps(entry, ensure_ascii=False) for entry in record.filters]
    lines += ["    [", *[f"      {entry}{',' if i < len(entries) - 1 else ''}" for i, entry in enumerate(entries)],
              "    ]"]
    return "\n".join(lines)


def describe_user(record: UserRecord) -> str:
    status = record.status
    if status == "pending_create":
        status += (" (the create may have been sent; the next plan adopts the user if OneSignal has it, "
                   "else creates it)")
    lines = [record.address, *_fields([
        ("app", f"{record.app} ({record.app_id})"), ("external_id", record.external_id),
        ("onesignal_id", record.onesignal_id or "(none yet)"), ("status", status),
        ("created_at", record.created_at), ("language", record.language), ("timezone_id", record.timezone_id),
        ("tags", json.dumps(record.tags, ensure_ascii=False, sort_keys=True)),
        ("aliases", json.dumps(record.aliases, ensure_ascii=False, sort_keys=True))])]
    lines.append(f"  subscriptions: {len(record.subscriptions)}")
    lines += [f"    - {s.type} {s.token} (id {s.id or 'not known yet'})" for s in record.subscriptions]
    lines.append(f"  devices: {len(record.devices)}")
    lines += [f"    - {device}" for device in record.devices]
    return "\n".join(lines)


def describe_export(record: ExportRecord) -> str:
    done = record.messages_done
    lines = [record.address, *_fields([
        ("last_attempt", record.last_attempt), ("last_success", record.last_success),
        ("satisfied_tick", record.satisfied_tick),
        ("last_error", mask_urls_in(record.last_error) if record.last_error else None),
        ("messages_done", f"{len(done)}" + (f": {', '.join(done)}" if done else ""))])]
    lines.append(f"  files: {len(record.files)}")
    for file in record.files:
        lines.append(f"    - {file.path}")
        lines += ["  " + line for line in _fields([
            ("bytes", file.bytes), ("rows", file.rows), ("sha256", file.sha256), ("tick", file.tick),
            ("message_id", file.message_id), ("written_at", file.written_at),
            ("duration", f"{file.duration_seconds:g}s" if file.duration_seconds is not None else None)],
            indent=6)]
    lines.append(f"  in_flight: {len(record.in_flight)}")
    for flight in record.in_flight:
        lines.append(f"    - {flight.kind}")
        lines += ["  " + line for line in _fields([
            ("requested_at", flight.requested_at), ("url", mask_url(flight.url)),
            ("expires_at", flight.expires_at), ("message_id", flight.message_id), ("tick", flight.tick)],
            indent=6)]
    return "\n".join(lines)


def _fields(pairs: list[tuple[str, object]], indent: int = 2) -> list[str]:
    present = [(key, value) for key, value in pairs if value is not None]
    width = max((len(key) for key, _ in present), default=0) + 1
    return [f"{' ' * indent}{key + ':':<{width}} {value}" for key, value in present]

