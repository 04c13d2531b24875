"""The three CSV exports (docs/onesignal-api.md#exports): subscriptions, audience activity, message history."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

from osctl.emulator.api_messages import NOT_FOUND, visible
from osctl.emulator.audience import Subscription
from osctl.emulator.core import Core, fail, json_body, parse_int
from osctl.emulator.exports import (
    ACTIVITY_COLUMNS,
    EXTRA_FIELDS,
    HISTORY_COLUMNS,
    KIND_ACTIVITY,
    KIND_HISTORY,
    KIND_SUBSCRIPTIONS,
    ExportJob,
    activity_rows,
    history_rows,
    stamp,
    subscription_header,
    subscription_rows,
)
from osctl.emulator.messages import Message
from osctl.emulator.server import Request, Response, json_response
from osctl.emulator.world import App

BUSY = "Only one export can be in progress per account at a time."  # §8.11
HISTORY_WINDOW = 7 * 86_400
ACTIVITY_WINDOW = 30 * 86_400
HISTORY_MIN_SENT = 1000  # below this many recipients no "sent" events are recorded (§3.3)
UNIX_SECONDS_MAX = 253_402_300_799  # 9999-12-31T23:59:59Z
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _answer(core: Core, request: Request, job: ExportJob | None, fallback: str, key: str,
            **extra: object) -> Response:
    if job is None:
        raise fail(409, BUSY)
    return json_response(200, {**extra, key: core.base_url(request, fallback) + job.url_path})


def subscriptions(core: Core, request: Request, app: App, fallback_url: str) -> Response:
    body = json_body(request) if request.body.strip() else {}  # every field is optional, the body too
    if not isinstance(body, dict):
        raise fail(400, "Request body must be a JSON object")
    extra = body.get("extra_fields")
    extra = [] if extra is None else extra
    if not isinstance(extra, list) or any(f not in EXTRA_FIELDS for f in extra):
        raise fail(400, f"extra_fields may only contain: {', '.join(EXTRA_FIELDS)}")
    since = body.get("last_active_since")
    after = None
    if since is not None:
        after = parse_int(since.strip(), 0, UNIX_SECONDS_MAX) if isinstance(since, str) else None
        if after is None:
            raise fail(400, "last_active_since must be a string of unix seconds")
    include_unsubscribed = body.get("include_unsubscribed", False)
    if not isinstance(include_unsubscribed, bool):
        raise fail(400, "include_unsubscribed must be a boolean")
    segment_name = body.get("segment_name")
    if segment_name is not None and not isinstance(segment_name, str):
        raise fail(400, "segment_name must be a string")
    now = core.clock.now()
    with core.world.lock:
        segment = None
        if segment_name is not None:
            segment = app.segment_by_name(segment_name)
            if segment is None:
                raise fail(400, f"Segment {segment_name!r} not found")
        match = segment.predicate if segment else None
    if core.exports.busy(app.account, now):
        raise fail(409, BUSY)  # answer at once rather than after counting a large audience

    def selected() -> Iterator[Subscription]:
        for s in app.subscriptions():
            if after is not None and s.last_session <= after:
                continue
            # a segment export has subscribed rows only unless asked otherwise
            if match is not None and not ((s.subscribed or include_unsubscribed) and match(s, now)):
                continue
            yield s

    rows = (len(app.audience) + app.users.row_count() if match is None and after is None
            else sum(1 for _ in selected()))
    job = core.exports.start(
        kind=KIND_SUBSCRIPTIONS, app_id=app.app_id, account=app.account, rows=rows, now=now,
        filename=f"{app.app_id}_users_export_{stamp(now)}_{uuid.uuid4().hex[:12]}.csv.gz",
        header=subscription_header(extra), records=lambda: subscription_rows(selected(), extra))
    return _answer(core, request, job, fallback_url, "csv_file_url")


def _message(core: Core, app: App, message_id: str, now: float, window: float) -> Message | None:
    try:
        uuid.UUID(message_id)
    except ValueError:
        raise fail(400, "message_id must be a UUID") from None
    message = next((m for m in visible(app, now) if m.id == message_id), None)
    if message is None:
        raise fail(404, NOT_FOUND)
    if now - message.queued_at > window:
        return None
    return message


def export_events(core: Core, request: Request, app: App, message_id: str, fallback_url: str) -> Response:
    now = core.clock.now()
    with core.world.lock:
        message = _message(core, app, message_id, now, ACTIVITY_WINDOW)
        if message is None:
            raise fail(404, "The message is older than 30 days and its audience activity has been purged.")
    rows = message.stats(app.audience)["totals"]["recipients"]
    job = core.exports.start(
        kind=KIND_ACTIVITY, app_id=app.app_id, account=app.account, rows=rows, now=now,
        filename=f"events_audience-activity-{message.id}-{message.channel}-{stamp(now)}.csv.gz",
        header=ACTIVITY_COLUMNS, records=lambda: activity_rows(message.recipients(app.audience)))
    return _answer(core, request, job, fallback_url, "csv_file_url")


def history(core: Core, request: Request, app: App, message_id: str, fallback_url: str) -> Response:
    body = json_body(request)  # an object holding app_id, or routing would have refused it
    events = body.get("events")
    if events not in ("sent", "clicked"):
        raise fail(400, "param `events` must be \"sent\" or \"clicked\"", success=False)
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or not _EMAIL.match(email)):
        raise fail(400, "param `email` must be a valid email", success=False)
    now = core.clock.now()
    with core.world.lock:
        message = _message(core, app, message_id, now, HISTORY_WINDOW)
        if message is None:
            raise fail(400, "Message history is only available for 7 days after the message was sent",
                       success=False)
    totals = message.stats(app.audience)["totals"]
    if events == "clicked":
        rows = totals["converted"]
    else:
        rows = totals["successful"] if totals["recipients"] >= HISTORY_MIN_SENT else 0
    header = HISTORY_COLUMNS + (["timestamp"] if events == "clicked" else [])

    def records() -> Iterator[list]:
        if events == "sent" and rows == 0:
            return iter(())
        return history_rows(message.recipients(app.audience), events, message.channel)

    job = core.exports.start(
        kind=KIND_HISTORY, app_id=app.app_id, account=app.account, rows=rows, now=now,
        filename=f"{message.id}_{events}_{stamp(now)}.csv.gz", header=header, records=records)
    return _answer(core, request, job, fallback_url, "destination_url", success=True)
