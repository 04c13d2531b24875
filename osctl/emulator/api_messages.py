"""Messages: view messages (paged) and view one message (docs/onesignal-api.md#messages)."""

from __future__ import annotations

import base64
import binascii

from osctl.emulator.api_outcomes import OutcomeQuery, compute_outcomes
from osctl.emulator.clock import parse_time
from osctl.emulator.core import Core, fail, int_arg
from osctl.emulator.messages import KIND_API, Message
from osctl.emulator.server import Request, Response, json_response
from osctl.emulator.world import App

PAGE_MAX = 50
API_RETENTION = 30 * 86_400  # API-created messages are kept 30 days; dashboard ones for ever
NOT_FOUND = "Notification not found"


def visible(app: App, now: float) -> list[Message]:
    return [m for m in app.messages if m.kind != KIND_API or now - m.queued_at <= API_RETENTION]


def _cursor_time(raw: str) -> float:
    try:
        return parse_time(raw)
    except ValueError:
        pass
    try:
        return parse_time(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise fail(400, "time_offset must be an ISO-8601 time or a next_time_offset cursor") from None


def _cursor(ts: float) -> str:
    return base64.urlsafe_b64encode(str(int(ts)).encode()).decode().rstrip("=")


def list_messages(core: Core, request: Request, app: App) -> Response:
    limit = int_arg(request, "limit", PAGE_MAX, low=1, high=PAGE_MAX)
    kind = request.arg("kind")
    if kind not in (None, "", "0", "1", "3"):
        raise fail(400, "kind must be 0 (dashboard), 1 (api) or 3 (automated)")
    time_offset = request.arg("time_offset")
    if time_offset and request.arg("offset") not in (None, ""):
        raise fail(400, "time_offset cannot be combined with offset")
    now = core.clock.now()
    with core.world.lock:
        messages = visible(app, now)
    total = len(messages)  # every message of the app, whatever the kind filter (DOC)
    if kind not in (None, ""):
        messages = [m for m in messages if m.kind == int(kind)]
    payload: dict = {"total_count": total, "limit": limit}
    if time_offset:
        after = _cursor_time(time_offset)
        # ascending by send_after, exact matches skipped
        page = sorted((m for m in messages if m.queued_at > after), key=lambda m: m.queued_at)[:limit]
        payload["time_offset"] = time_offset
        if page:
            payload["next_time_offset"] = _cursor(page[-1].queued_at)
    else:
        offset = int_arg(request, "offset", 0, low=0)
        page = sorted(messages, key=lambda m: m.queued_at, reverse=True)[offset:offset + limit]
        payload["offset"] = offset
    payload["notifications"] = [m.to_json(app.audience) for m in page]
    return json_response(200, payload)


def view_message(core: Core, request: Request, app: App, message_id: str) -> Response:
    now = core.clock.now()
    with core.world.lock:
        message = next((m for m in visible(app, now) if m.id == message_id), None)
    if message is None:
        raise fail(404, NOT_FOUND)
    body = message.to_json(app.audience)
    if request.arg("outcome_names") or request.arg("outcome_names[]"):
        query = OutcomeQuery.parse(request, default_range="1h")
        body["outcomes"] = compute_outcomes(app, [message], query, now, use_range=False)
    return json_response(200, body)
