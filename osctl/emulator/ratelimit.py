"""Per-app, per-endpoint rate limits: token buckets answering 429 + Retry-After.

Buckets run on the real monotonic clock, not the emulator clock: a client that
honours Retry-After really waits, and advancing the emulator clock (to make an
export ready) must not silently refill them.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

# The published limit for the view endpoints (docs/onesignal-api.md#pacing-of-view-endpoints): about one
# request per second per app, with a small burst. Nothing else is limited by
# default: OneSignal publishes no numbers for segments, exports or outcomes.
DEFAULT_LIMITS: dict[str, tuple[float, int]] = {
    "messages_list": (1.0, 3),
    "message_view": (1.0, 3),
    "user_view": (1.0, 3),
}

ENDPOINTS = (
    "segments_list", "segment_create", "segment_view", "segment_update", "segment_delete",
    "messages_list", "message_view", "subscriptions_export", "export_events", "message_history",
    "outcomes", "user_view", "user_write",
)


@dataclass
class Limit:
    per_second: float
    burst: int


class _Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, burst: int) -> None:
        self.tokens = float(burst)
        self.stamp = time.monotonic()


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.limits: dict[str, Limit] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.limits = {name: Limit(rate, burst) for name, (rate, burst) in DEFAULT_LIMITS.items()}
            self._buckets.clear()

    def configure(self, endpoint: str, limit: Limit | None) -> None:
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r} (known: {', '.join(ENDPOINTS)})")
        if limit is not None and (limit.per_second <= 0 or limit.burst < 1):
            raise ValueError("per_second must be positive and burst at least 1")
        with self._lock:
            if limit is None:
                self.limits.pop(endpoint, None)
            else:
                self.limits[endpoint] = limit
            self._buckets = {k: v for k, v in self._buckets.items() if k[1] != endpoint}

    def describe(self) -> dict[str, dict]:
        with self._lock:
            return {name: {"per_second": lim.per_second, "burst": lim.burst} for name, lim in self.limits.items()}

    def acquire(self, app_id: str, endpoint: str) -> int | None:
        """None if the request may proceed, else the seconds to put in Retry-After."""
        with self._lock:
            limit = self.limits.get(endpoint)
            if limit is None:
                return None
            bucket = self._buckets.get((app_id, endpoint))
            if bucket is None:
                bucket = self._buckets[(app_id, endpoint)] = _Bucket(limit.burst)
            now = time.monotonic()
            bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.stamp) * limit.per_second)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / limit.per_second))
