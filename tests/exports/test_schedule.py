"""Schedule arithmetic: ticks in a zone across DST, due and coalescing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from osctl.config.model import Export, ExportKind, SubscriptionsOptions
from osctl.schedule import due, format_time, latest_tick, next_tick, parse_time
from osctl.state.model import ExportRecord


def utc(text: str) -> datetime:
    return parse_time(text)


def export(schedule: str | None = "0 3 * * *", timezone: str = "UTC") -> Export:
    return Export(name="nightly", app="prod", kind=ExportKind.SUBSCRIPTIONS, destination="x.csv.gz",
                  options=SubscriptionsOptions(), schedule=schedule, timezone=timezone)


def record(satisfied: str | None) -> ExportRecord:
    return ExportRecord(name="nightly", satisfied_tick=satisfied)


def test_latest_and_next_tick_in_utc():
    now = utc("2026-11-22T03:05:00Z")
    assert latest_tick("0 3 * * *", "UTC", now) == utc("2026-11-22T03:00:00Z")
    assert next_tick("0 3 * * *", "UTC", now) == utc("2026-11-23T03:00:00Z")


def test_a_tick_exactly_now_is_the_latest_and_not_the_next():
    now = utc("2026-11-22T03:00:00Z")
    assert latest_tick("0 3 * * *", "UTC", now) == now
    assert next_tick("0 3 * * *", "UTC", now) == utc("2026-11-23T03:00:00Z")


def test_aliases_are_understood():
    now = utc("2026-11-22T03:05:00Z")
    assert latest_tick("@hourly", "UTC", now) == utc("2026-11-22T03:00:00Z")
    assert latest_tick("@daily", "UTC", now) == utc("2026-11-22T00:00:00Z")
    assert latest_tick("@weekly", "UTC", now) == utc("2026-11-22T00:00:00Z")  # a Sunday
    assert latest_tick("@monthly", "UTC", now) == utc("2026-11-01T00:00:00Z")


def test_ticks_follow_the_export_time_zone():
    # 03:00 in Berlin is 02:00 UTC in winter
    now = utc("2026-11-22T02:30:00Z")
    assert latest_tick("0 3 * * *", "Europe/Berlin", now) == utc("2026-11-22T02:00:00Z")


def test_new_york_spring_forward_runs_a_skipped_time_at_the_first_valid_minute():
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day
    tz = "America/New_York"
    assert next_tick("30 2 * * *", tz, utc("2026-03-07T12:00:00Z")) == utc("2026-03-08T07:00:00Z")  # 03:00 EDT
    assert next_tick("30 2 * * *", tz, utc("2026-03-08T07:00:00Z")) == utc("2026-03-09T06:30:00Z")  # 02:30 EDT
    # a daily 03:00 job keeps its wall-clock time: 08:00 UTC before, 07:00 UTC after
    assert latest_tick("0 3 * * *", tz, utc("2026-03-07T12:00:00Z")) == utc("2026-03-07T08:00:00Z")
    assert latest_tick("0 3 * * *", tz, utc("2026-03-08T12:00:00Z")) == utc("2026-03-08T07:00:00Z")


def test_new_york_fall_back_runs_a_repeated_time_once():
    # 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice, the job runs once
    tz = "America/New_York"
    first = next_tick("30 1 * * *", tz, utc("2026-11-01T00:00:00Z"))
    assert first == utc("2026-11-01T05:30:00Z")  # 01:30 EDT
    assert next_tick("30 1 * * *", tz, first) == utc("2026-11-02T06:30:00Z")  # next day, EST
    # during the second 01:30 (EST) the latest tick is still the first one
    assert latest_tick("30 1 * * *", tz, utc("2026-11-01T06:45:00Z")) == utc("2026-11-01T05:30:00Z")


def test_new_york_fall_back_hourly_ticks_both_one_oclocks():
    tz = "America/New_York"
    ticks = []
    moment = utc("2026-11-01T03:30:00Z")
    for _ in range(4):
        moment = next_tick("0 * * * *", tz, moment)
        ticks.append(format_time(moment))
    assert ticks == ["2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z",
                     "2026-11-01T07:00:00Z"]


def test_due_never_run_is_due_at_its_latest_tick():
    assert due(export(), None, utc("2026-11-22T03:05:00Z")) == utc("2026-11-22T03:00:00Z")
    assert due(export(), record(None), utc("2026-11-22T03:05:00Z")) == utc("2026-11-22T03:00:00Z")


def test_due_not_again_until_the_next_tick():
    satisfied = record("2026-11-22T03:00:00Z")
    assert due(export(), satisfied, utc("2026-11-22T03:05:00Z")) is None
    assert due(export(), satisfied, utc("2026-11-23T02:59:59Z")) is None
    assert due(export(), satisfied, utc("2026-11-23T03:00:00Z")) == utc("2026-11-23T03:00:00Z")


def test_missed_ticks_are_coalesced_into_one_run_for_the_newest():
    satisfied = record("2026-11-18T03:00:00Z")  # four nights missed
    tick = due(export(), satisfied, utc("2026-11-22T10:00:00Z"))
    assert tick == utc("2026-11-22T03:00:00Z")
    # once that run succeeded, nothing is left to replay
    assert due(export(), record(format_time(tick)), utc("2026-11-22T10:00:00Z")) is None


def test_no_schedule_is_never_due():
    assert due(export(schedule=None), None, utc("2026-11-22T03:05:00Z")) is None


def test_due_across_new_york_dst_uses_absolute_time():
    e = export("0 3 * * *", "America/New_York")
    # satisfied the 03:00 EST tick of Nov 1 (08:00 UTC); at 07:30 UTC on Nov 2 (02:30 EST) not due
    satisfied = record("2026-11-01T08:00:00Z")
    assert due(e, satisfied, utc("2026-11-02T07:30:00Z")) is None
    assert due(e, satisfied, utc("2026-11-02T08:00:00Z")) == utc("2026-11-02T08:00:00Z")


ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"])
EXPRS = st.sampled_from(["0 3 * * *", "30 2 * * *", "*/15 * * * *", "0 * * * *", "30 1 * * 0", "0 0 1 * *"])
MOMENTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(expr=EXPRS, tz=ZONES, now=MOMENTS)
def test_latest_and_next_bracket_now_with_no_tick_between(expr, tz, now):
    latest, upcoming = latest_tick(expr, tz, now), next_tick(expr, tz, now)
    assert latest <= now < upcoming
    # the tick after `latest` is `upcoming`: nothing was skipped in between
    assert next_tick(expr, tz, latest) == upcoming
    assert latest_tick(expr, tz, upcoming - timedelta(seconds=1)) == latest


@settings(max_examples=100, deadline=None)
@given(expr=EXPRS, tz=ZONES, now=MOMENTS, gap=st.integers(min_value=0, max_value=40 * 86400))
def test_a_successful_run_satisfies_every_tick_up_to_now(expr, tz, now, gap):
    e = export(expr, tz)
    tick = due(e, None, now)
    assert tick is not None
    later = now + timedelta(seconds=gap)
    again = due(e, record(format_time(tick)), later)
    assert (again is not None) == (next_tick(expr, tz, now) <= later)
