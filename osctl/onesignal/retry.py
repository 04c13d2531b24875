"""When to retry a OneSignal call and how long to wait. Pure: clock, sleep and randomness are injected.

RetryPolicy     full-jitter exponential backoff, honouring Retry-After on 429/503
Backoff         a gate shared by a client's threads: after a 429/503 nobody starts early
Pacer           spaces requests per key (view endpoints allow ~1 request/s per app)
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable
from dataclasses import dataclass

# Statuses whose Retry-After we honour and which push back every thread of the client.
PUSHBACK_STATUSES = frozenset({429, 503})


def is_retryable_status(status: int) -> bool:
    """429 and 5xx are worth another try; any other 4xx will fail the same way again."""
    return status == 429 or 500 <= status <= 599


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 60.0
    # A Retry-After longer than this is not waited for: osctl gives up and says so,
    # rather than hanging a CI job on a server's say-so.
    max_retry_after_seconds: float = 300.0

    def backoff(self, attempt: int, rng: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]; attempt counts from 1."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        return rng() * ceiling

    def delay(self, attempt: int, retry_after: float | None, rng: Callable[[], float]) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        backoff = self.backoff(attempt, rng)
        if retry_after is None:
            return backoff
        return max(retry_after, backoff)

    def gives_up_after(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


def parse_retry_after(value: str | None, *, now_epoch: float) -> float | None:
    """Seconds from a Retry-After header: delta-seconds (OneSignal's form) or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - now_epoch
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


class Backoff:
    """A time before which no request of the client starts; pushed forward by 429/503 answers."""

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._until = float("-inf")
        self._lock = threading.Lock()

    def push(self, seconds: float) -> None:
        until = self._clock() + seconds
        with self._lock:
            self._until = max(self._until, until)

    def remaining(self) -> float:
        with self._lock:
            until = self._until
        return max(until - self._clock(), 0.0)

    def wait(self, sleep: Callable[[float], None]) -> float:
        """Sleep until the gate opens; returns the seconds slept.

        Sleeps again only when another thread pushed the gate further meanwhile, so an
        injected sleep that does not advance the clock cannot loop forever."""
        slept = 0.0
        seen = None
        while True:
            with self._lock:
                until = self._until
            if until == seen:
                return slept
            remaining = until - self._clock()
            if remaining <= 0:
                return slept
            sleep(remaining)
            slept += remaining
            seen = until


class Pacer:
    """Hands out start times at least `interval` apart per key (e.g. per app).

    reserve() books the next slot and says how long the caller must wait for it, so
    concurrent callers queue up instead of all starting at once."""

    def __init__(self, interval: float, clock: Callable[[], float]):
        self.interval = interval
        self._clock = clock
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + self.interval
        return slot - now
