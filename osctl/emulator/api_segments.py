"""Segments: list, create, view (with include-segment-detail), update, delete (docs/onesignal-api.md#segments)."""

from __future__ import annotations

import copy
import uuid
from itertools import islice
from typing import Any

from osctl.emulator.core import Core, fail, int_arg, json_body
from osctl.emulator.filtering import validate
from osctl.emulator.server import Request, Response, json_response
from osctl.emulator.world import App, Segment

MAX_NAME = 128
MAX_DESCRIPTION = 255
PAGE_MAX = 300
NAME_TAKEN = "Segment name is already taken."
# docs/onesignal-api.md#updating-a-segment names this cause of a 400 without quoting OneSignal's words; this is the emulator's wording
IN_ACTIVE_JOURNEY = "This segment is used by an active Journey and cannot be updated."


def list_segments(core: Core, request: Request, app: App) -> Response:
    offset = int_arg(request, "offset", 0, low=0)
    limit = int_arg(request, "limit", PAGE_MAX, low=1, high=PAGE_MAX)
    with core.world.lock:
        total = len(app.segments)
        page = list(islice(app.segments.values(), offset, offset + limit))  # ascending created_at
        listed = [s.listing(app.app_id) for s in page]
    return json_response(200, {
        "total_count": total,  # all of the app's segments (§8.7)
        "offset": offset,
        "limit": limit,
        "segments": listed,
    })


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise fail(400, "name is required", success=False)
    if len(name) > MAX_NAME:
        raise fail(400, f"name must be at most {MAX_NAME} characters", success=False)
    return name


def _check_description(body: dict) -> str | None:
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise fail(400, f"description must be a string of at most {MAX_DESCRIPTION} characters", success=False)
    return description or None


def _check_filters(filters: Any) -> list[dict]:
    errors = validate(filters)
    if errors:
        raise fail(400, *errors, success=False)
    return copy.deepcopy(filters)


def create(core: Core, request: Request, app: App) -> Response:
    body = json_body(request, required=True)
    if not isinstance(body, dict):
        raise fail(400, "Request body must be a JSON object", success=False)
    name = _check_name(body.get("name"))
    if "filters" not in body:
        raise fail(400, "filters is required", success=False)
    filters = _check_filters(body["filters"])
    description = _check_description(body)
    segment_id = body.get("id")
    if segment_id is not None:
        try:
            segment_id = str(uuid.UUID(str(segment_id)))
        except ValueError:
            raise fail(400, "id must be a UUID", success=False) from None
    with core.world.lock:
        if app.segment_by_name(name) is not None:
            raise fail(409, NAME_TAKEN, success=False)  # §8.2
        if segment_id in app.segments:
            raise fail(409, "Segment id is already taken.", success=False)
        now = core.clock.now()
        segment = Segment(segment_id or core.world.new_id(), name, filters, now, now, description=description)
        app.add_segment(segment)
    return json_response(201, {"success": True, "id": segment.id})


def _find(app: App, segment_id: str, *, success_key: bool) -> Segment:
    segment = app.segments.get(segment_id)
    if segment is None:
        raise fail(404, "segment not found", success=False if success_key else None)
    return segment


def _detail_filters(filters: list[dict]) -> list[dict]:
    """Filters as stored; location numbers come back as strings (DOC:view-segment)."""
    out = []
    for entry in filters:
        entry = dict(entry)
        for key in ("radius", "lat", "long"):
            if key in entry and not isinstance(entry[key], str):
                entry[key] = format(entry[key], "g") if isinstance(entry[key], float) else str(entry[key])
        out.append(entry)
    return out


def view(core: Core, request: Request, app: App, segment_id: str) -> Response:
    with core.world.lock:
        segment = _find(app, segment_id, success_key=False)
    payload: dict[str, Any] = {"subscriber_count": app.subscriber_count(segment, core.clock.now())}
    if (request.arg("include-segment-detail") or "").lower() in ("true", "1"):
        payload["payload"] = {
            "id": segment.id, "name": segment.name, "description": segment.description,
            "created_at": int(segment.created_at), "source": segment.source,
            "filters": _detail_filters(segment.filters),
        }
    return json_response(200, payload)


def update(core: Core, request: Request, app: App, segment_id: str) -> Response:
    body = json_body(request, required=True)
    if not isinstance(body, dict):
        raise fail(400, "Request body must be a JSON object", success=False)
    with core.world.lock:
        segment = _find(app, segment_id, success_key=True)
    name = _check_name(body.get("name"))  # always required, even when unchanged
    filters = _check_filters(body["filters"]) if "filters" in body else None
    if "description" in body:
        _check_description(body)
    with core.world.lock:
        if segment.read_only:
            raise fail(400, "This segment is read-only and cannot be changed.", success=False)
        if segment.in_active_journey:
            raise fail(400, IN_ACTIVE_JOURNEY, success=False)
        other = app.segment_by_name(name)
        if other is not None and other.id != segment.id:
            raise fail(400, NAME_TAKEN, success=False)
        if name != segment.name:
            app.rename(segment, name)
        if "description" in body:
            segment.description = body["description"] or None  # "" clears it
        if filters is not None:
            segment.filters = filters
            segment.recompile()
        segment.touch(core.clock.now())
    return json_response(200, {"success": True, "id": segment.id})


def delete(core: Core, request: Request, app: App, segment_id: str) -> Response:
    with core.world.lock:
        segment = app.segments.get(segment_id)
        if segment is None:
            return json_response(404, {"success": False})
        if segment.read_only:
            raise fail(400, "This segment is read-only and cannot be deleted.", success=False)
        app.remove_segment(segment_id)
    return json_response(200, {"success": True})
