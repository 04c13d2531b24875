"""Schedule arithmetic: cron ticks in a time zone. Pure: the clock is an argument.

Cron matching and DST handling come from cronsim (maintained, used by
Healthchecks.io). cronsim has no @-aliases, so they are spelled out here with
their conventional meaning.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def normalise(expression: str) -> str:
    text = " ".join(str(expression).split())
    return ALIASES.get(text.lower(), text)


def cron_error(expression: str) -> str | None:
    """Why `expression` is not a valid 5-field cron or alias, or None when it is."""
    from cronsim import CronSim, CronSimError

    text = normalise(expression)
    if text.startswith("@"):
        return f"unknown schedule alias {expression!r}"
    if len(text.split()) != 5:
        return f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), got {len(text.split())}"
    try:
        CronSim(text, datetime(2026, 1, 1))
    except CronSimError as exc:
        return f"invalid cron expression: {exc}"
    return None


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def timezone_error(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}"
    return None
