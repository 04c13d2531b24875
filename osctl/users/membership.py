"""Which declared segments a test user would fall into, worked out offline. Pure.

A test user declares only some of what OneSignal knows about a person: tags, language and
perhaps country. Filters on those are decided here; filters on anything else (sessions,
location, app version, purchases) depend on the user's devices, so the answer is "can't
tell". Three-valued logic: AND is "no" if any filter is "no", "yes" if all are "yes";
OR is "yes" if any group is "yes", "no" if all are "no"; otherwise "can't tell".
Semantics follow docs/emulator.md: `!=` is the negation of `=` (a missing tag matches).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from osctl.filters import or_groups


class Verdict(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "can't tell"


@dataclass(frozen=True)
class Profile:
    """What a test user's declaration says about the person."""

    tags: Mapping[str, str] = field(default_factory=dict)
    language: str | None = None
    country: str | None = None


def falls_into(filters: list[dict], profile: Profile) -> Verdict:
    """Whether a user with `profile` matches these canonical filters."""
    verdicts = [_all(group, profile) for group in or_groups(filters)]
    if Verdict.YES in verdicts:
        return Verdict.YES
    return Verdict.NO if all(v == Verdict.NO for v in verdicts) else Verdict.UNKNOWN


def _all(group: list[dict], profile: Profile) -> Verdict:
    verdicts = [_one(entry, profile) for entry in group]
    if Verdict.NO in verdicts:
        return Verdict.NO
    return Verdict.YES if all(v == Verdict.YES for v in verdicts) else Verdict.UNKNOWN


def _yes(condition: bool) -> Verdict:
    return Verdict.YES if condition else Verdict.NO


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _one(entry: dict, profile: Profile) -> Verdict:
    field_name, relation = entry.get("field"), entry.get("relation")
    if field_name == "tag":
        return _tag(profile.tags.get(entry.get("key", "")), relation, entry.get("value"))
    if field_name in ("language", "country"):
        mine = profile.language if field_name == "language" else profile.country
        return _choice(mine, relation, entry.get("value"))
    return Verdict.UNKNOWN


def _tag(mine: str | None, relation: str | None, value: str | None) -> Verdict:
    if relation == "exists":
        return _yes(mine is not None)
    if relation == "not_exists":
        return _yes(mine is None)
    if relation == "=":
        return _yes(mine == value)
    if relation == "!=":
        return _yes(mine != value)
    if relation in (">", "<"):
        left, right = _number(mine), _number(value)
        if left is None or right is None:
            return Verdict.NO
        return _yes(left > right if relation == ">" else left < right)
    return Verdict.UNKNOWN  # time_elapsed_*: depends on when the tag was set


def _choice(mine: str | None, relation: str | None, value: str | None) -> Verdict:
    if relation == "exists":
        return Verdict.UNKNOWN if mine is None else Verdict.YES
    if mine is None:
        return Verdict.UNKNOWN  # set by the user's devices, not declared
    if relation == "not_exists":
        return Verdict.NO
    options = [v.strip() for v in (value or "").split(",")] if relation in ("in_array", "not_in_array") else [value]
    inside = mine in options
    return _yes(inside if relation in ("=", "in_array") else not inside)
