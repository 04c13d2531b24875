"""Outcomes: GET /apps/{app_id}/outcomes, and the outcomes block of a message view (docs/onesignal-api.md#outcomes).

Values come from the messages' recipients: os__click counts clicks and
os__confirmed_delivery confirmed deliveries (both direct only); any other
outcome (os__session_duration, purchase, ...) is credited to a hashed share of
clicking (direct) and receiving (influenced) recipients, plus a share of
recently active subscriptions that no message reached (unattributed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from osctl.emulator.core import INT32_MAX, Core, fail, parse_int
from osctl.emulator.messages import Message, fraction, mix
from osctl.emulator.server import Request, Response, json_response
from osctl.emulator.world import App

TIME_RANGES = {"1h": 3600, "1d": 86_400, "1mo": 30 * 86_400}
ATTRIBUTIONS = ("direct", "influenced", "unattributed", "total")
DIRECT_ONLY = {"os__click", "os__confirmed_delivery"}
COUNT_ONLY = {"os__click", "os__confirmed_delivery"}
NEEDS_AGGREGATION = "Add .sum or .count to every requested outcome id"


@dataclass
class OutcomeQuery:
    names: list[tuple[str, str]]
    time_range: int
    platforms: set[int] | None
    attribution: str

    @classmethod
    def parse(cls, request: Request, default_range: str = "1h") -> OutcomeQuery:
        raw: list[str] = []
        for value in request.query.get("outcome_names", []):
            raw.extend(v for v in value.split(",") if v)
        raw.extend(v for v in request.query.get("outcome_names[]", []) if v)
        if not raw:
            raise fail(400, "outcome_names is required")
        names = []
        for item in raw:
            name, _, aggregation = item.rpartition(".")
            if not name or aggregation not in ("count", "sum"):
                raise fail(400, NEEDS_AGGREGATION)
            if name in COUNT_ONLY and aggregation != "count":
                raise fail(400, f"{name} only supports .count")
            names.append((name, aggregation))
        time_range = request.arg("outcome_time_range") or default_range
        if time_range not in TIME_RANGES:
            raise fail(400, "outcome_time_range must be 1h, 1d or 1mo")
        platforms = None
        if platform_list := request.arg("outcome_platforms"):
            platforms = set()
            for part in filter(None, (p.strip() for p in platform_list.split(","))):
                platform = parse_int(part, 0, INT32_MAX)
                if platform is None:
                    raise fail(400, "outcome_platforms must be a comma-separated list of device types")
                platforms.add(platform)
        attribution = request.arg("outcome_attribution") or "total"
        if attribution not in ATTRIBUTIONS:
            raise fail(400, f"outcome_attribution must be one of {', '.join(ATTRIBUTIONS)}")
        return cls(names, TIME_RANGES[time_range], platforms, attribution)


def _name_salt(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


def _amount(h: int, name: str) -> int:
    return 30 + h % 600 if name == "os__session_duration" else 1 + h % 100


def compute_outcomes(app: App, messages: list[Message], query: OutcomeQuery, now: float,
                     *, use_range: bool = True) -> list[dict]:
    since = now - query.time_range
    if use_range:
        messages = [m for m in messages if since <= m.queued_at <= now]
    platforms = query.platforms
    results = []
    for name, aggregation in query.names:
        salt = _name_salt(name)
        totals = {"direct": 0, "influenced": 0, "unattributed": 0}
        reached: set[int] = set()
        for message in messages:
            for sub, fate in message.recipients(app.audience):
                if platforms is not None and sub.device_type not in platforms:
                    continue
                reached.add(sub.index)
                h = mix(salt ^ message.salt ^ sub.index)
                if name == "os__click":
                    event, bucket = fate.clicked is not None, "direct"
                elif name == "os__confirmed_delivery":
                    event, bucket = fate.delivered is not None, "direct"
                elif fate.clicked is not None:
                    event, bucket = fraction(h) < 0.5, "direct"
                else:
                    event, bucket = fate.delivered is not None and fraction(h) < 0.1, "influenced"
                if event:
                    totals[bucket] += 1 if aggregation == "count" else _amount(h, name)
        if use_range and name not in DIRECT_ONLY:
            for sub in app.audience:
                if (sub.index not in reached and since <= sub.last_session <= now
                        and (platforms is None or sub.device_type in platforms)):
                    h = mix(salt ^ sub.index)
                    if fraction(h) < 0.05:
                        totals["unattributed"] += 1 if aggregation == "count" else _amount(h, name)
        value = sum(totals.values()) if query.attribution == "total" else totals[query.attribution]
        results.append({"id": name, "value": value, "aggregation": aggregation})
    return results


def outcomes(core: Core, request: Request, app: App) -> Response:
    query = OutcomeQuery.parse(request)
    now = core.clock.now()
    with core.world.lock:
        messages = list(app.messages)
    return json_response(200, {"outcomes": compute_outcomes(app, messages, query, now)})
