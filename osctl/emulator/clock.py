"""The emulator's clock: wall time plus an offset the control API can move.

Export readiness, URL expiry, message timestamps and time filters all read
this clock, so tests skip hours of waiting by advancing it instead of sleeping.
Rate limits deliberately use the real monotonic clock (see ratelimit.py).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from datetime import UTC, datetime

# years 1 to 9998: what datetime can write, with a year to spare for the clock to run on
EARLIEST, LATEST = -62_135_596_800.0, 253_370_764_800.0


class EmulatorClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("the emulator clock only moves forward, by a finite number of seconds")
        if self.now() + seconds > LATEST:
            raise ValueError("the emulator clock cannot go past the year 9998")
        with self._lock:
            self._offset += seconds
        return self.now()

    def set(self, when: float) -> float:
        if not (math.isfinite(when) and EARLIEST <= when <= LATEST):
            raise ValueError("time must lie between the years 1 and 9998")
        with self._lock:
            self._offset = when - time.time()
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


def parse_time(value: object) -> float:
    """Unix seconds from a number or an ISO-8601 string (a trailing Z means UTC), years 1 to 9999."""
    when = _parse_time(value)
    if not (math.isfinite(when) and EARLIEST <= when <= LATEST):
        raise ValueError("time must lie between the years 1 and 9998")
    return when


def _parse_time(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("expected unix seconds or an ISO-8601 time")
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return math.inf
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise ValueError("expected unix seconds or an ISO-8601 time")


def iso(ts: float) -> str:
    """ISO-8601 UTC with milliseconds, the form OneSignal uses for created_at/updated_at."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts % 1 * 1000):03d}Z"


@functools.lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return datetime.fromtimestamp(days * 86400, UTC).strftime("%Y-%m-%d")


def csv_time(ts: float | None) -> str:
    """'YYYY-MM-DD HH:MM:SS' UTC; cheap, since exports call it twice per row."""
    if ts is None:
        return ""
    days, seconds = divmod(int(ts), 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_day(days)} {hours:02d}:{minutes:02d}:{seconds:02d}"
