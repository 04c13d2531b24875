"""Durations (osctl/durations.py) and the validation half of osctl/schedule.py."""

from __future__ import annotations

from datetime import datetime

import pytest
from cronsim import CronSim
from hypothesis import given
from hypothesis import strategies as st

from osctl.durations import format_duration, parse_duration
from osctl.schedule import cron_error, normalise, timezone_error


@pytest.mark.parametrize(("text", "seconds"), [
    ("45s", 45), ("30m", 1800), ("72h", 259200), ("7d", 604800), ("0s", 0), (" 2d ", 172800),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30", "m", "1.5h", "-1d", "30 m", "30min", "1w", "", "٣d", "30M", "7d7d"])
def test_parse_duration_rejects_with_the_valid_forms(text):
    with pytest.raises(ValueError, match=r"valid: <n>s, <n>m, <n>h or <n>d"):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (59, "59s"), (60, "1m"), (5400, "90m"), (3600, "1h"), (86400, "1d"), (90000, "25h"),
])
def test_format_duration_picks_the_largest_whole_unit(seconds, text):
    assert format_duration(seconds) == text


@given(st.integers(0, 10**9))
def test_format_and_parse_round_trip(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(("written", "normal"), [
    ("@daily", "0 0 * * *"), ("@DAILY", "0 0 * * *"), ("@hourly", "0 * * * *"), ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"), ("@midnight", "0 0 * * *"), (" 0  3 *\t* * ", "0 3 * * *"),
])
def test_normalise(written, normal):
    assert normalise(written) == normal


@pytest.mark.parametrize("expression", [
    "0 3 * * *", "*/15 * * * *", "0 9-17 * * MON-FRI", "30 4 * * 1", "0 0 L * *", "0 0 1,15 * *",
    "@daily", "@monthly", "0 3 * * 7",
])
def test_valid_cron_expressions(expression):
    assert cron_error(expression) is None


@pytest.mark.parametrize(("expression", "words"), [
    ("60 3 * * *", "the minute field '60' is not valid"),
    ("0 24 * * *", "the hour field '24' is not valid"),
    ("0 0 32 * *", "the day-of-month field '32' is not valid"),
    ("0 0 * 13 *", "the month field '13' is not valid"),
    ("0 0 * * 8", "the day-of-week field '8' is not valid"),
    ("0 0 30 2 *", "day-of-month 30 never occurs in month '2'"),
    ("0 3 * *", "5 fields"),
    ("0 0 3 * * *", "seconds and years are not supported"),
    ("@reboot", "unknown schedule alias '@reboot'"),
    ("", "got 0"),
    ("٣ * * * *", "ASCII"),
])
def test_invalid_cron_expressions_name_what_is_wrong(expression, words):
    assert words in cron_error(expression)


@given(st.text(max_size=40))
def test_cron_error_never_raises_and_agrees_with_cronsim(text):
    problem = cron_error(text)
    assert problem is None or isinstance(problem, str) and problem
    if problem is None:  # what validation accepts, the scheduler can run
        CronSim(normalise(text), datetime(2026, 1, 1))


@given(st.lists(st.sampled_from(["*", "0", "5", "*/5", "1-5", "1,2", "L", "MON", "JAN", "99", "-", "/"]),
                min_size=5, max_size=5))
def test_cron_error_on_cron_like_fields(fields):
    text = " ".join(fields)
    if cron_error(text) is None:
        CronSim(text, datetime(2026, 1, 1))


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_known_time_zones(name):
    assert timezone_error(name) is None


@pytest.mark.parametrize(("name", "suggestion"), [
    ("Europe/Berln", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"), ("US/Pacfic", "US/Pacific"),
])
def test_unknown_time_zones_suggest_the_closest(name, suggestion):
    assert timezone_error(name) == f"unknown time zone {name!r}; did you mean '{suggestion}'?"


@pytest.mark.parametrize("name", ["Europe", "..", "", "/etc/passwd", "a\x00b", "Mars/Olympus_Mons"])
def test_names_that_are_no_zone_are_errors_not_exceptions(name):
    assert timezone_error(name).startswith("unknown time zone")


@given(st.text(max_size=30))
def test_timezone_error_never_raises(name):
    problem = timezone_error(name)
    assert problem is None or problem.startswith("unknown time zone")
