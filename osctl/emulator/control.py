"""The control API under /_emulator/: no authentication, loopback clients only.

  GET    /_emulator/                      apps (ids, accounts, sizes; never keys), clock, settings
  POST   /_emulator/reset                 back to the initial apps and data; {"now": T} also moves the clock
  POST   /_emulator/apps                  {"app_id", "api_key", "account"?, "messages"?, "audience"?,
                                           "subscriptions"?: [ {...}, ... ]}  -> 201
  POST   /_emulator/apps/{app_id}/messages {"count": N} or {"messages": [{"name"?, "kind"?, "channel"?,
                                           "queued_at"?, "completed_at"?, "segment"?, "id"?}]} -> 201 {"ids"}
  GET/PUT/DELETE /_emulator/faults        PUT {"seed": N, "faults": [rule, ...]} (see faults.py)
  GET/PUT /_emulator/rate_limits          PUT {"limits": {endpoint: {"per_second", "burst"} | null}}
  GET/POST /_emulator/clock               POST {"advance": seconds} or {"now": unix seconds | ISO time}
  PUT    /_emulator/settings              {"export_rate"?: records/s, "latency_ms"?: ms}
  GET    /_emulator/requests?since=SEQ    the request log (Authorization values as sha256 digests)
  DELETE /_emulator/requests
  GET    /_emulator/exports               export jobs: kind, rows, ready/expiry times, downloads
T is unix seconds or an ISO-8601 time. Errors answer 400 {"error": "..."}.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from osctl.emulator.clock import parse_time
from osctl.emulator.server import BadRequestBody, Request, Response, json_response

if TYPE_CHECKING:
    from osctl.emulator.emulator import Emulator

PREFIX = "/_emulator"


class ControlError(ValueError):
    pass


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
    except (ControlError, ValueError, TypeError) as exc:
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
        emu.add_app(body["app_id"], body["api_key"], account=body.get("account", "default"),
                    messages=body.get("messages"), audience=body.get("audience"),
                    subscriptions=body.get("subscriptions"))
        return json_response(201, {"app_id": body["app_id"]})
    if method == "POST" and path.startswith("/apps/") and path.endswith("/messages"):
        app_id = path[len("/apps/"):-len("/messages")]
        body = _body(request)
        ids = emu.add_messages(app_id, count=body.get("count"), messages=body.get("messages"))
        return json_response(201, {"ids": ids})
    if path == "/faults":
        if method == "PUT":
            body = _body(request)
            emu.set_faults(body.get("faults", []), seed=int(body.get("seed", 0)))
        elif method == "DELETE":
            emu.clear_faults()
        elif method != "GET":
            return None
        return json_response(200, emu.faults.describe())
    if path == "/rate_limits":
        if method == "PUT":
            for endpoint, limit in (_body(request).get("limits") or {}).items():
                if limit is None:
                    emu.set_rate_limit(endpoint, None)
                else:
                    emu.set_rate_limit(endpoint, float(limit["per_second"]), int(limit.get("burst", 1)))
        elif method != "GET":
            return None
        return json_response(200, {"limits": emu.limiter.describe()})
    if path == "/clock":
        if method == "POST":
            body = _body(request)
            if "advance" in body:
                emu.advance(float(body["advance"]))
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
            emu.set_export_rate(float(body["export_rate"]))
        if "latency_ms" in body:
            emu.latency_ms = max(0, int(body["latency_ms"]))
        return json_response(200, emu.describe())
    if path == "/requests":
        if method == "GET":
            since = int(request.arg("since") or 0)
            return json_response(200, {"requests": emu.requests(since=since)})
        if method == "DELETE":
            emu.clear_requests()
            return json_response(200, {"requests": []})
    if (method, path) == ("GET", "/exports"):
        return json_response(200, {"exports": emu.exports_status()})
    return None
