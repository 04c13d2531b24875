"""Which segments a declared test user would fall into, offline."""

from __future__ import annotations

import pytest

from osctl.users.membership import Profile, Verdict, falls_into

ALICE = Profile(tags={"qa": "1", "level": "7"}, language="en")


@pytest.mark.parametrize(("filters", "verdict"), [
    ([{"field": "tag", "key": "qa", "relation": "=", "value": "1"}], Verdict.YES),
    ([{"field": "tag", "key": "qa", "relation": "=", "value": "2"}], Verdict.NO),
    ([{"field": "tag", "key": "beta", "relation": "!=", "value": "1"}], Verdict.YES),  # missing tag matches !=
    ([{"field": "tag", "key": "beta", "relation": "exists"}], Verdict.NO),
    ([{"field": "tag", "key": "level", "relation": ">", "value": "5"}], Verdict.YES),
    ([{"field": "tag", "key": "qa", "relation": "<", "value": "abc"}], Verdict.NO),
    ([{"field": "language", "relation": "in_array", "value": "de, en"}], Verdict.YES),
    ([{"field": "language", "relation": "not_in_array", "value": "de,en"}], Verdict.NO),
    ([{"field": "country", "relation": "=", "value": "US"}], Verdict.UNKNOWN),  # not declared
    ([{"field": "session_count", "relation": ">", "value": "1"}], Verdict.UNKNOWN),
    # AND: a "no" decides; OR: a "yes" decides
    ([{"field": "tag", "key": "qa", "relation": "=", "value": "1"},
      {"field": "session_count", "relation": ">", "value": "1"}], Verdict.UNKNOWN),
    ([{"field": "tag", "key": "qa", "relation": "=", "value": "2"},
      {"field": "session_count", "relation": ">", "value": "1"}], Verdict.NO),
    ([{"field": "session_count", "relation": ">", "value": "1"}, {"operator": "OR"},
      {"field": "tag", "key": "qa", "relation": "exists"}], Verdict.YES),
    ([{"field": "tag", "key": "x", "relation": "exists"}, {"operator": "OR"},
      {"field": "language", "relation": "=", "value": "de"}], Verdict.NO),
])
def test_verdicts(filters, verdict):
    assert falls_into(filters, ALICE) == verdict


def test_a_declared_country_is_decided():
    assert falls_into([{"field": "country", "relation": "=", "value": "US"}], Profile(country="US")) == Verdict.YES
    assert falls_into([{"field": "country", "relation": "!=", "value": "US"}], Profile(country="US")) == Verdict.NO
