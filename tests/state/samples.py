"""States to test with."""

from __future__ import annotations

from osctl.filters import filters_digest
from osctl.state.model import ExportRecord, FileRecord, InFlight, SegmentRecord, State

APP_ID = "11111111-2222-3333-4444-555555555555"
SECRET_URL = "https://exports.example.com/csv/9f3c/subscriptions.csv.gz?X-Amz-Signature=s3cr3t"


def segment(name: str, *, app: str = "prod", country: str = "US", id: str | None = None,
            status: str = "created") -> SegmentRecord:
    filters = [{"field": "country", "relation": "=", "value": country}, {"operator": "OR"},
               {"field": "tag", "key": "vip", "relation": "exists"}]
    return SegmentRecord(app=app, app_id=APP_ID, name=name,
                         id=id if id or status != "created" else f"id-{name}", filters=tuple(filters),
                         digest=filters_digest(filters), description=f"about {name}",
                         created_at="2026-11-22T03:05:00Z", status=status)


def export() -> ExportRecord:
    return ExportRecord(
        name="daily_subscriptions", last_attempt="2026-11-22T03:00:00Z", last_success="2026-11-21T03:00:04Z",
        satisfied_tick="2026-11-21T03:00:00Z", messages_done=["m-1", "m-2"],
        files=[FileRecord(path="exports/2026-11-21.csv.gz", bytes=1234, rows=56, sha256="ab" * 32,
                          tick="2026-11-21T03:00:00Z", written_at="2026-11-21T03:00:04Z", duration_seconds=3.5)],
        in_flight=[InFlight(kind="subscriptions", requested_at="2026-11-22T03:00:01Z", url=SECRET_URL,
                            expires_at="2026-11-25T03:00:01Z", tick="2026-11-22T03:00:00Z")],
        last_error="HTTP 503 from OneSignal")


def sample_state(serial: int = 1) -> State:
    state = State.new()
    state.serial = serial
    for record in (segment("Active US"), segment("Überall – ✓", country="DE"),
                   segment("Being created", status="pending_create")):
        state.segments[record.address] = record
    state.exports["daily_subscriptions"] = export()
    return state
