"""What every request handler needs: the state, the clock and the shared answers.

Handlers raise `ApiError(response)` to answer early; the error bodies below are
the documented envelopes (docs/onesignal-api.md#authentication-and-errors, #rate-limit-answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from osctl.emulator.clock import EmulatorClock
from osctl.emulator.exports import Exports
from osctl.emulator.ratelimit import RateLimiter
from osctl.emulator.server import BadRequestBody, Request, Response, json_response
from osctl.emulator.world import World

ACCESS_DENIED = ("Access denied.  Please include an 'Authorization: ...' header with a valid API key "
                 "(https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys).")
MISSING_AUTH = "Please include a case-sensitive header of Authorization"
APP_ID_NOT_FOUND = "app_id not found. You may be missing a Content-Type: application/json header."
MALFORMED_APP_ID = "Request is malformed: Failed to parse app_id from request"
RATE_LIMITED = "API rate limit exceeded"
INT32_MAX = 2**31 - 1  # the SDKs' type for paging parameters (Go: int32)
_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only


class ApiError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def fail(status: int, *messages: str | dict[str, Any], success: bool | None = None, **extra: Any) -> ApiError:
    """An error answer; `messages` are texts, or objects where the API answers those (users)."""
    payload: dict[str, Any] = {}
    if success is not None:
        payload["success"] = success
    payload["errors"] = list(messages)
    payload.update(extra)
    return ApiError(json_response(status, payload))


def json_body(request: Request, *, required: bool = False) -> Any:
    """The JSON body; a body that is not declared as JSON is not understood (DOC:delete-segments)."""
    if not request.body.strip():
        if required:
            raise fail(400, "Request body is required")
        return None
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise fail(400, APP_ID_NOT_FOUND, reference=["/docs/accounts-and-keys#section-keys-ids"])
    try:
        return request.json()
    except BadRequestBody:
        raise fail(400, "Request body is not valid JSON") from None


def parse_int(raw: str, low: int, high: int) -> int | None:
    """An integer in [low, high] written in ASCII digits, or None.

    Never int() on unchecked text: it accepts other scripts' digits and "1_000",
    and refuses over 4300 digits with a ValueError of its own.
    """
    if not _INTEGER.fullmatch(raw):
        return None
    if len(raw.lstrip("+-").lstrip("0")) > 19:
        return None
    value = int(raw)
    return value if low <= value <= high else None


def int_arg(request: Request, name: str, default: int, *, low: int, high: int | None = None) -> int:
    """An integer query parameter; values above `high` are clamped to it, as paging APIs do."""
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):
        raise fail(400, f"{name} must be an integer")
    value = parse_int(raw, -INT32_MAX - 1, INT32_MAX)
    if value is None:
        raise fail(400, f"{name} must be at most {INT32_MAX}" if not raw.startswith("-")
                   else f"{name} must be at least {low}")
    if value < low:
        raise fail(400, f"{name} must be at least {low}")
    return min(value, high) if high is not None else value


@dataclass
class Core:
    world: World
    clock: EmulatorClock
    exports: Exports
    limiter: RateLimiter

    def base_url(self, request: Request, fallback: str) -> str:
        host = request.headers.get("Host")
        return f"http://{host}" if host else fallback
