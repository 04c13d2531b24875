"""The control API under /_emulator/: no authentication, loopback clients only.

  GET    /_emulator/                      apps (ids, accounts, sizes; never keys), clock, settings
  POST   /_emulator/reset                 back to the initial apps and data; {"now": T} also moves the clock
  POST   /_emulator/apps                  {"app_id", "api_key", "account"?, "messages"?, "audience"?,
                                           "subscriptions"?: [ {...}, ... ]}  -> 201
  POST   /_emulator/apps/{app_id}/messages {"count": N} or {"messages": [{"name"?, "kind"?, "channel"?,
                                           "queued_at"?, "completed_at"?, "segment"?, "id"?}]} -> 201 {"ids"}
  GET    /_emulator/apps/{app_id}/users   {"users": [user, ...]}: every user of the app, as a view shows it
  PUT    /_emulator/apps/{app_id}/segments/{segment_id}/journey {"active": true|false}: the segment is
                                          (no longer) used by an active Journey; updating it answers 400
  GET/PUT/DELETE /_emulator/faults        PUT {"seed": N, "faults": [rule, ...]} (see faults.py)
  GET/PUT /_emulator/rate_limits          PUT {"limits": {endpoint: {"per_second", "burst"} | null}}
  GET/POST /_emulator/clock               POST {"advance": seconds} or {"now": unix seconds | ISO time}
  PUT    /_emulator/settings              {"export_rate"?: records/s, "latency_ms"?: ms,
                                           "user_write_delay"?: s (user writes become visible this late)}
  GET    /_emulator/requests?since=SEQ    the request log (Authorization values as sha256 digests)
  DELETE /_emulator/requests
  GET    /_emulator/exports               export jobs: kind, rows, ready/expiry times, downloads
T is unix seconds or an ISO-8601 time. Errors answer 400 {"error": "..."}.
"""

from __future__ import annotations

import ipaddress
import math
from typing import TYPE_CHECKING, Any, overload

from osctl.emulator.clock import parse_time
from osctl.emulator.core import parse_int
from osctl.emulator.server import BadRequestBody, Request, Response, json_response

if TYPE_CHECKING:
    from osctl.emulator.emulator import Emulator

PREFIX = "/_emulator"
MAX_COUNT = 1_000_000_000  # messages, audience, seeds: beyond this a number is a typo, not a test
MAX_LATENCY_MS = 600_000


class ControlError(ValueError):
    pass


def is_control_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@overload
def _integer(body: dict, key: str, default: int, *, low: int = 0, high: int = MAX_COUNT) -> int: ...
@overload
def _integer(body: dict, key: str, default: None, *, low: int = 0, high: int = MAX_COUNT) -> int | None: ...
def _integer(body: dict, key: str, default: int | None, *, low: int = 0, high: int = MAX_COUNT) -> int | None:
    value = body.get(key)
    if value is None:  # absent or null
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ControlError(f"{key} must be a whole number from {low} to {high}")
    return value


def _number(body: dict, key: str, *, low: float = 0, high: float = math.inf) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{key} must be a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not (math.isfinite(number) and low <= number <= high):
        raise ControlError(f"{key} must be a finite number from {low:g} to {high:g}")
    return number


def _objects(value: Any, key: str) -> list[dict] | None:
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
        raise ControlError(f"{key} must be a list of objects")
    return value


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except BadRequestBody as exc:
        raise ControlError(f"body is not valid JSON: {exc}") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _is_loopback(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def handle(emulator: Emulator, request: Request) -> Response:
    if not _is_loopback(request.client_ip):
        return json_response(403, {"error": "the control API only answers loopback clients"})
    path = request.path[len(PREFIX):].rstrip("/") or "/"
    try:
        answer = _dispatch(emulator, request, request.method, path)
    except (ControlError, ValueError, TypeError, ArithmeticError) as exc:
        return json_response(400, {"error": str(exc)})
    if answer is None:
        return json_response(404, {"error": f"no control endpoint {request.method} {request.path}"})
    return answer


def _dispatch(emu: Emulator, request: Request, method: str, path: str) -> Response | None:
    if (method, path) == ("GET", "/"):
        return json_response(200, emu.describe())
    if (method, path) == ("POST", "/reset"):
        body = _body(request)
        emu.reset(now=parse_time(body["now"]) if "now" in body else None)
        return json_response(200, emu.describe())
    if (method, path) == ("POST", "/apps"):
        body = _body(request)
        for key in ("app_id", "api_key"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise ControlError(f"{key} is required")
        account = body.get("account", "default")
        if not isinstance(account, str) or not account:
            raise ControlError("account must be a non-empty string")
        emu.add_app(body["app_id"], body["api_key"], account=account,
                    messages=_integer(body, "messages", None), audience=_integer(body, "audience", None),
                    subscriptions=_objects(body.get("subscriptions"), "subscriptions"))
        return json_response(201, {"app_id": body["app_id"]})
    if method == "POST" and path.startswith("/apps/") and path.endswith("/messages"):
        app_id = path[len("/apps/"):-len("/messages")]
        body = _body(request)
        for spec in _objects(body.get("messages"), "messages") or []:
            if any(not isinstance(spec[k], str) for k in ("name", "channel", "segment", "id") if k in spec):
                raise ControlError("a message's name, channel, segment and id are strings")
        ids = emu.add_messages(app_id, count=_integer(body, "count", None, low=1, high=10_000),
                               messages=_objects(body.get("messages"), "messages"))
        return json_response(201, {"ids": ids})
    if method == "GET" and path.startswith("/apps/") and path.endswith("/users"):
        app_id = path[len("/apps/"):-len("/users")]
        if not app_id or "/" in app_id:
            return None
        return json_response(200, {"users": emu.users(app_id)})
    if method == "PUT" and path.startswith("/apps/") and path.endswith("/journey"):
        parts = path.split("/")  # "", "apps", app_id, "segments", segment_id, "journey"
        if len(parts) != 6 or parts[3] != "segments":
            return None
        active = _body(request).get("active", True)
        if not isinstance(active, bool):
            raise ControlError("active must be true or false")
        emu.set_in_active_journey(parts[2], parts[4], active)
        return json_response(200, {"segment_id": parts[4], "in_active_journey": active})
    if path == "/faults":
        if method == "PUT":
            body = _body(request)
            emu.set_faults(_objects(body.get("faults"), "faults") or [], seed=_integer(body, "seed", 0))
        elif method == "DELETE":
            emu.clear_faults()
        elif method != "GET":
            return None
        return json_response(200, emu.faults.describe())
    if path == "/rate_limits":
        if method == "PUT":
            limits = _body(request).get("limits")
            if not isinstance(limits, dict) or not all(v is None or isinstance(v, dict) for v in limits.values()):
                raise ControlError('give {"limits": {ENDPOINT: {"per_second", "burst"} or null}}')
            for endpoint, limit in limits.items():
                if limit is None:
                    emu.set_rate_limit(endpoint, None)
                else:
                    emu.set_rate_limit(endpoint, _number(limit, "per_second", high=1e9),
                                       _integer(limit, "burst", 1, low=1))
        elif method != "GET":
            return None
        return json_response(200, {"limits": emu.limiter.describe()})
    if path == "/clock":
        if method == "POST":
            body = _body(request)
            if "advance" in body:
                emu.advance(_number(body, "advance"))
            elif "now" in body:
                emu.set_time(parse_time(body["now"]))
            else:
                raise ControlError('give {"advance": seconds} or {"now": time}')
        elif method != "GET":
            return None
        return json_response(200, {"now": emu.now()})
    if (method, path) == ("PUT", "/settings"):
        body = _body(request)
        if "export_rate" in body:
            emu.set_export_rate(_number(body, "export_rate", high=1e12))
        if "latency_ms" in body:
            emu.latency_ms = _integer(body, "latency_ms", 0, high=MAX_LATENCY_MS)
        if "user_write_delay" in body:
            emu.set_user_write_delay(_number(body, "user_write_delay", low=0.0, high=86_400.0 * 365))
        return json_response(200, emu.describe())
    if path == "/requests":
        if method == "GET":
            since = parse_int(request.arg("since") or "0", 0, 2**63 - 1)
            if since is None:
                raise ControlError("since must be a whole number: a request log sequence")
            return json_response(200, {"requests": emu.requests(since=since)})
        if method == "DELETE":
            emu.clear_requests()
            return json_response(200, {"requests": []})
    if (method, path) == ("GET", "/exports"):
        return json_response(200, {"exports": emu.exports_status()})
    return None
