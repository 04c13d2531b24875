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


_CRON_FIELDS = (  # (name, what the field takes) in cron order
    ("minute", "0-59"), ("hour", "0-23"), ("day-of-month", "1-31, L"), ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT"),
)


def cron_error(expression: str) -> str | None:
    """Why `expression` is not a valid 5-field cron or alias, or None when it is."""
    from cronsim import CronSim, CronSimError

    text = normalise(expression)
    if text.startswith("@"):
        return f"unknown schedule alias {expression!r} (aliases: {', '.join(ALIASES)})"
    fields = text.split()
    if len(fields) != 5:
        extra = "; seconds and years are not supported" if len(fields) in (6, 7) else ""
        return f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}{extra}"
    if not text.isascii():
        return f"cron fields take ASCII digits, names and * , - / only, got {expression!r}"
    try:
        CronSim(text, datetime(2026, 1, 1))
    except CronSimError as exc:
        reason = str(exc)
        for index, (name, allowed) in enumerate(_CRON_FIELDS):
            if reason == f"Bad {name}":
                if name == "day-of-month" and fields[2].isdigit() and 1 <= int(fields[2]) <= 31:
                    return f"day-of-month {fields[2]} never occurs in month {fields[3]!r}"
                return f"the {name} field {fields[index]!r} is not valid ({name}: {allowed}, *, lists, ranges, /steps)"
        return f"invalid cron expression: {reason}"
    except (ValueError, TypeError, OverflowError, IndexError) as exc:  # cronsim on odd input
        return f"invalid cron expression: {exc}"
    return None


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def timezone_error(name: str) -> str | None:
    """Why `name` is not an IANA time zone, or None when it is."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):  # OSError: 'Europe' is a directory
        return f"unknown time zone {name!r}" + _closest_zone(name)
    return None


def _closest_zone(name: str) -> str:
    import difflib
    from zoneinfo import available_timezones

    zones = available_timezones()
    by_lower = {z.lower(): z for z in zones}
    close = [by_lower[name.lower()]] if name.lower() in by_lower else difflib.get_close_matches(name, zones, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
