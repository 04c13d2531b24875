"""Outcomes (docs/onesignal-api.md#outcomes): values derived from the same recipients as the message counts."""

from __future__ import annotations

import pytest


@pytest.fixture
def messages(emulator, api):
    emulator.set_rate_limit("messages_list", None)
    return api.get("/notifications", params={"app_id": emulator.app_id}).json()["notifications"]


def outcomes(api, emulator, **params):
    response = api.get(f"/apps/{emulator.app_id}/outcomes", params=params)
    assert response.status_code == 200, response.text
    return response.json()["outcomes"]


def test_clicks_and_deliveries_match_the_message_counts(emulator, api, messages):
    result = outcomes(api, emulator, outcome_names="os__click.count,os__confirmed_delivery.count",
                      outcome_time_range="1mo")
    assert result == [
        {"id": "os__click", "value": sum(m["converted"] for m in messages), "aggregation": "count"},
        {"id": "os__confirmed_delivery", "value": sum(m["received"] for m in messages), "aggregation": "count"},
    ]


def test_time_range_and_platforms(emulator, api, messages):
    assert outcomes(api, emulator, outcome_names="os__click.count")[0]["value"] == 0  # default 1h: none that recent
    day = [m for m in messages if m["queued_at"] >= emulator.now() - 86400]
    assert outcomes(api, emulator, outcome_names="os__click.count", outcome_time_range="1d")[0]["value"] == \
        sum(m["converted"] for m in day)
    ios = sum(m["platform_delivery_stats"].get("ios", {}).get("converted", 0) for m in messages)
    assert outcomes(api, emulator, outcome_names="os__click.count", outcome_time_range="1mo",
                    outcome_platforms="0")[0]["value"] == ios


def test_attribution(emulator, api, messages):
    def value(name, attribution):
        return outcomes(api, emulator, outcome_names=name, outcome_time_range="1mo",
                        outcome_attribution=attribution)[0]["value"]

    clicks = sum(m["converted"] for m in messages)
    assert value("os__click.count", "direct") == clicks == value("os__click.count", "total")
    assert value("os__click.count", "influenced") == 0  # clicks are direct only
    parts = [value("purchase.count", a) for a in ("direct", "influenced", "unattributed")]
    assert all(p > 0 for p in parts) and sum(parts) == value("purchase.count", "total")
    assert value("purchase.sum", "total") > value("purchase.count", "total")


def test_names_with_commas_use_the_repeated_form(emulator, api):
    result = outcomes(api, emulator, **{"outcome_names[]": ["a,b.count", "os__click.count"]},
                      outcome_time_range="1mo")
    assert [r["id"] for r in result] == ["a,b", "os__click"]


@pytest.mark.parametrize("params, message", [
    ({"outcome_names": "os__click"}, "Add .sum or .count to every requested outcome id"),
    ({"outcome_names": "purchase.avg"}, "Add .sum or .count to every requested outcome id"),
    ({}, "outcome_names is required"),
    ({"outcome_names": "os__click.sum"}, "os__click only supports .count"),
    ({"outcome_names": "a.count", "outcome_time_range": "2h"}, "outcome_time_range must be 1h, 1d or 1mo"),
])
def test_bad_requests(emulator, api, params, message):
    response = api.get(f"/apps/{emulator.app_id}/outcomes", params=params)
    assert response.status_code == 400 and response.json() == {"errors": [message]}


def test_bad_attribution_and_platforms(emulator, api):
    path = f"/apps/{emulator.app_id}/outcomes"
    assert api.get(path, params={"outcome_names": "a.count", "outcome_attribution": "some"}).status_code == 400
    assert api.get(path, params={"outcome_names": "a.count", "outcome_platforms": "ios"}).status_code == 400
