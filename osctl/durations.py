"""Durations written as <n>s, <n>m, <n>h or <n>d."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PATTERN = re.compile(r"^([0-9]+)([smhd])$")


def parse_duration(text: str) -> int:
    """Seconds in `text`; ValueError naming the valid forms otherwise."""
    match = _PATTERN.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration (valid: <n>s, <n>m, <n>h or <n>d, e.g. 30m or 7d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_duration(seconds: int) -> str:
    """The largest whole unit: 5400 -> 90m, 86400 -> 1d; parse_duration reads it back."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
