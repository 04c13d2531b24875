"""Schedule arithmetic: cron ticks in a time zone. Pure: the clock is an argument.

Cron matching and DST handling come from cronsim (maintained, used by
Healthchecks.io). cronsim has no @-aliases, so they are spelled out here with
their conventional meaning.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # for annotations only: cronsim is imported when a schedule is computed
    from cronsim import CronSim

    from osctl.config.model import Export
    from osctl.state.model import ExportRecord

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


def timezone_error(name: str) -> str | None:
    """Why `name` is not an IANA time zone, or None when it is."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):  # OSError: 'Europe' is a directory
        return f"unknown time zone {name!r}" + _closest_zone(name)
    return None


def _closest_zone(name: str) -> str:
    import difflib

    zones = _zone_names()
    by_lower = {z.lower(): z for z in zones}
    close = [by_lower[name.lower()]] if name.lower() in by_lower else difflib.get_close_matches(name, zones, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


@cache
def _zone_names() -> tuple[str, ...]:
    from zoneinfo import available_timezones  # scans the zone database: once per process

    return tuple(sorted(available_timezones()))


# -- ticks and due exports ---------------------------------------------------------------
#
# Ticks are computed in the export's zone (cronsim follows Debian cron across DST: a
# time skipped in spring runs at the first valid minute after it, a time repeated in
# autumn runs once) and returned in UTC: aware datetimes sharing one ZoneInfo compare
# by wall time and ignore `fold`, so only UTC values are compared or stored.


def _cron(expr: str, tz: str, start: datetime, *, reverse: bool = False) -> CronSim:
    from cronsim import CronSim

    return CronSim(normalise(expr), start.astimezone(ZoneInfo(tz)), reverse=reverse)


def latest_tick(expr: str, tz: str, now: datetime) -> datetime | None:
    """The newest tick at or before `now` (UTC), or None when the schedule never fired."""
    # cronsim's reverse iteration yields ticks strictly before its start; starting one
    # second after now (whole seconds) makes a tick exactly at `now` count.
    start = now.replace(microsecond=0) + timedelta(seconds=1)
    try:
        tick = next(_cron(expr, tz, start, reverse=True))
    except StopIteration:
        return None
    return tick.astimezone(UTC)


def next_tick(expr: str, tz: str, now: datetime) -> datetime | None:
    """The first tick strictly after `now` (UTC), or None when there is none."""
    try:
        tick = next(_cron(expr, tz, now))
    except StopIteration:
        return None
    return tick.astimezone(UTC)


def due(export: Export, record: ExportRecord | None, now: datetime) -> datetime | None:
    """The tick an export is due for at `now` (UTC), or None when it is not due.

    Due when the schedule has a tick after the one the last success satisfied. Missed
    ticks are coalesced: however many passed, one run satisfies the newest (a snapshot
    taken now covers them all). An export never run is due at its latest tick; one
    without a schedule is never due (it runs on demand only).
    """
    if not export.schedule:
        return None
    latest = latest_tick(export.schedule, export.timezone, now)
    if latest is None:
        return None
    satisfied = parse_time(record.satisfied_tick) if record is not None and record.satisfied_tick else None
    if satisfied is not None and latest <= satisfied:
        return None
    return latest


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second: how state and plans write times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """A time written by format_time (or any ISO 8601 with offset; naive means UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
