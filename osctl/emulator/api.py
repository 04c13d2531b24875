"""Routing of the OneSignal API paths, with authentication and rate limits.

Order of checks, as a client meets them: the Authorization header must be
present (400), the app id must be given (400), the key must belong to that app
(403 "Access denied"), then the endpoint's rate limit (429 + Retry-After).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from osctl.emulator import api_exports, api_messages, api_outcomes, api_segments, api_users
from osctl.emulator.core import (
    ACCESS_DENIED,
    APP_ID_NOT_FOUND,
    MALFORMED_APP_ID,
    MISSING_AUTH,
    RATE_LIMITED,
    ApiError,
    Core,
    fail,
    json_body,
)
from osctl.emulator.server import Request, Response, json_response
from osctl.emulator.world import App

AUTH_SCHEMES = ("key", "basic")  # §8.3: Key (any case) and the legacy Basic


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    endpoint: str            # rate-limit bucket name
    app_from: str            # "path" (first group), "query" or "body"
    handler: Callable[..., Response]
    needs_url: bool = False  # export handlers build file URLs


def _route(method: str, path: str, endpoint: str, app_from: str, handler: Callable[..., Response],
           needs_url: bool = False) -> Route:
    return Route(method, re.compile(f"^{path}$"), endpoint, app_from, handler, needs_url)


ID = "([^/]+)"
ROUTES = [
    _route("GET", f"/apps/{ID}/segments", "segments_list", "path", api_segments.list_segments),
    _route("POST", f"/apps/{ID}/segments", "segment_create", "path", api_segments.create),
    _route("GET", f"/apps/{ID}/segments/{ID}", "segment_view", "path", api_segments.view),
    _route("PATCH", f"/apps/{ID}/segments/{ID}", "segment_update", "path", api_segments.update),
    _route("DELETE", f"/apps/{ID}/segments/{ID}", "segment_delete", "path", api_segments.delete),
    _route("GET", "/notifications", "messages_list", "query", api_messages.list_messages),
    _route("GET", f"/notifications/{ID}", "message_view", "query", api_messages.view_message),
    _route("POST", "/players/csv_export", "subscriptions_export", "query", api_exports.subscriptions, True),
    _route("POST", f"/notifications/{ID}/export_events", "export_events", "query", api_exports.export_events,
           True),
    _route("POST", f"/notifications/{ID}/history", "message_history", "body", api_exports.history, True),
    _route("GET", f"/apps/{ID}/outcomes", "outcomes", "path", api_outcomes.outcomes),
    _route("POST", f"/apps/{ID}/users", "user_write", "path", api_users.create_user),
    _route("GET", f"/apps/{ID}/users/by/{ID}/{ID}", "user_view", "path", api_users.view_user),
    _route("PATCH", f"/apps/{ID}/users/by/{ID}/{ID}", "user_write", "path", api_users.update_user),
    _route("DELETE", f"/apps/{ID}/users/by/{ID}/{ID}", "user_write", "path", api_users.delete_user),
    _route("GET", f"/apps/{ID}/users/by/{ID}/{ID}/identity", "user_view", "path", api_users.view_identity),
    _route("PATCH", f"/apps/{ID}/users/by/{ID}/{ID}/identity", "user_write", "path", api_users.upsert_identity),
    _route("DELETE", f"/apps/{ID}/users/by/{ID}/{ID}/identity/{ID}", "user_write", "path",
           api_users.delete_alias),
    _route("POST", f"/apps/{ID}/users/by/{ID}/{ID}/subscriptions", "user_write", "path",
           api_users.add_subscription),
    _route("PATCH", f"/apps/{ID}/subscriptions/{ID}", "user_write", "path", api_users.update_subscription),
    _route("DELETE", f"/apps/{ID}/subscriptions/{ID}", "user_write", "path", api_users.delete_subscription),
    _route("GET", f"/apps/{ID}/subscriptions/{ID}/user/identity", "user_view", "path",
           api_users.view_identity_by_subscription),
    _route("PATCH", f"/apps/{ID}/subscriptions/{ID}/owner", "user_write", "path",
           api_users.transfer_subscription),
]


def match(method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
    if path.startswith("/api/v1/"):  # the legacy base URL serves the same paths
        path = path[len("/api/v1"):]
    path = path.rstrip("/") or "/"
    for route in ROUTES:
        if route.method == method or (method == "HEAD" and route.method == "GET"):
            found = route.pattern.match(path)
            if found:  # path parts arrive percent-encoded: an external_id may hold any character
                return route, tuple(unquote(part) for part in found.groups())
    return None


def _app_id(route: Route, request: Request, groups: tuple[str, ...]) -> str:
    if route.app_from == "path":
        return groups[0]
    if route.app_from == "query":
        app_id = request.arg("app_id")
        if not app_id:
            raise fail(400, MALFORMED_APP_ID)
        return app_id
    body = json_body(request)
    app_id = body.get("app_id") if isinstance(body, dict) else None
    if not isinstance(app_id, str) or not app_id:
        raise fail(400, APP_ID_NOT_FOUND, reference=["/docs/accounts-and-keys#section-keys-ids"])
    return app_id


def authenticate(core: Core, request: Request, app_id: str) -> App:
    header = request.headers.get("Authorization")
    if header is None:
        raise fail(400, MISSING_AUTH)
    scheme, _, key = header.strip().partition(" ")
    with core.world.lock:
        app = core.world.apps.get(app_id)
    if (app is None or scheme.lower() not in AUTH_SCHEMES
            or not hmac.compare_digest(key.strip().encode(), app.api_key.encode())):
        raise fail(403, ACCESS_DENIED)
    return app


def handle(core: Core, request: Request, fallback_url: str) -> Response:
    found = match(request.method, request.path)
    if found is None:
        return json_response(404, {"errors": [f"No route for {request.method} {request.path}"]})
    route, groups = found
    try:
        if request.headers.get("Authorization") is None:
            raise fail(400, MISSING_AUTH)
        app = authenticate(core, request, _app_id(route, request, groups))
        retry_after = core.limiter.acquire(app.app_id, route.endpoint)
        if retry_after is not None:
            raise ApiError(json_response(429, {"errors": [RATE_LIMITED]}, {"Retry-After": str(retry_after)}))
        args = groups[1:] if route.app_from == "path" else groups
        if route.needs_url:
            return route.handler(core, request, app, *args, fallback_url)
        return route.handler(core, request, app, *args)
    except ApiError as error:
        return error.response
