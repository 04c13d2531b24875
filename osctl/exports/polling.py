"""When to look at an export's file URL again. Pure: randomness and times are arguments.

OneSignal makes export files at about 2,000 records per second and answers 403 or 404
until the file exists (docs/onesignal-api.md#not-ready-downloads). osctl waits the estimated generation time
before its first look, then backs off exponentially with jitter, capped at 60 s. Each
wait is also kept below a tenth of the time already waited (plus 2 s), so a file that
turns ready between two looks is noticed within 10% of its generation time + 2 s, and a
good estimate needs only a handful of looks whatever the size:

    estimate 600 s: look at 600, 602, 606, 614, 630, 662, 722, 782 ... (cap 60 s)
    estimate 5 s:   look at 5, 7, 9.5, 12, 15 ...

A 429 answer's Retry-After is a floor for the next wait. Waits never run past the
export's deadline: the last look happens at the deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

RECORDS_PER_SECOND = 2000.0  # OneSignal's documented generation rate (docs/onesignal-api.md#exports)


@dataclass(frozen=True)
class PollPolicy:
    records_per_second: float = RECORDS_PER_SECOND
    cap_seconds: float = 60.0
    base_seconds: float = 2.0  # the first wait after the estimate; doubles each time
    proportion: float = 0.1  # a wait is at most this share of the time waited so far ...
    slack_seconds: float = 2.0  # ... plus this
    jitter: float = 0.2  # a wait is shortened by up to this share, at random
    unknown_first_seconds: float = 5.0  # first look when the size is unknown
    min_seconds: float = 0.5

    def estimate(self, records: int | None) -> float | None:
        """Seconds OneSignal needs for `records` rows, or None when the size is unknown."""
        if records is None or records < 0:
            return None
        return records / self.records_per_second

    def first_delay(self, records: int | None) -> float:
        """Seconds from the request to the first look at the file URL."""
        estimate = self.estimate(records)
        if estimate is None:
            return self.unknown_first_seconds
        return max(estimate, self.min_seconds)

    def delay(self, looks: int, elapsed: float, rng: Callable[[], float],
              retry_after: float | None = None) -> float:
        """Seconds until the next look, after `looks` looks (>= 1) and `elapsed` seconds
        since the request. `rng` returns a float in [0, 1)."""
        backoff = self.base_seconds * 2 ** max(looks - 1, 0)
        bound = self.proportion * max(elapsed, 0.0) + self.slack_seconds
        wait = min(self.cap_seconds, backoff, bound)
        wait *= 1.0 - self.jitter * rng()
        wait = max(wait, self.min_seconds)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait

    def busy_delay(self, attempt: int, rng: Callable[[], float], retry_after: float | None = None) -> float:
        """Seconds to wait before asking again when the account already runs an export."""
        wait = min(self.cap_seconds, 5.0 * 2 ** max(attempt - 1, 0))
        wait *= 1.0 - self.jitter * rng()
        return max(wait, retry_after or 0.0, self.min_seconds)


def clip(wait: float, now: float, deadline: float) -> float:
    """`wait`, shortened so that it ends at the deadline at the latest (never negative)."""
    return max(0.0, min(wait, deadline - now))
