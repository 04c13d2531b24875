"""Segment membership computed by really evaluating filters, checked against hand-computed sets.

Five hand-made subscriptions (E is unsubscribed, so it never counts as a
subscriber). Times are relative to the emulator clock at the start of the test.
"""

from __future__ import annotations

import pytest

from osctl.emulator.audience import from_dict
from osctl.emulator.filtering import compile_filters, distance_m, validate
from tests.emulator.conftest import create_segment, read_csv_gz

APP = "0b5a1b7e-1111-4222-8333-944445555666"
HOUR, DAY = 3600, 86400
NYC = (40.7128, -74.0060)
NEWARK = (40.7357, -74.1724)  # about 14.3 km from NYC
BERLIN = (52.52, 13.405)


def people(now: float) -> list[dict]:
    return [
        dict(id="sub-A", country="US", language="en", tags={"vip": "true", "level": "12"},
             last_session=now - 2 * HOUR, first_session=now - 90 * DAY, session_count=5,
             lat=NYC[0], long=NYC[1]),
        dict(id="sub-B", country="DE", language="de", tags={"level": "3"},
             last_session=now - 100 * HOUR, first_session=now - 200 * DAY, session_count=50,
             lat=BERLIN[0], long=BERLIN[1]),
        dict(id="sub-C", country="US", language="es", tags={},
             last_session=now - 30 * HOUR, first_session=now - 40 * HOUR, session_count=1),
        dict(id="sub-D", country=None, language="fr", tags={"signup_ts": str(int(now - 10 * DAY))},
             last_session=now - 1 * HOUR, first_session=now - 10 * DAY, session_count=20,
             lat=NEWARK[0], long=NEWARK[1]),
        dict(id="sub-E", country="US", language="en", tags={"vip": "true"}, subscribed=False,
             unsubscribed_at=now - DAY, last_session=now - 3 * HOUR, first_session=now - 9 * DAY,
             session_count=7),
    ]


def f(field, relation=None, **keys):
    entry = {"field": field, **keys}
    if relation is not None:
        entry["relation"] = relation
    return entry


OR, AND = {"operator": "OR"}, {"operator": "AND"}
US = f("country", "=", value="US")

# (filters, subscribed members, members counting the unsubscribed E too)
CASES = {
    "OR of AND-groups": ([US, AND, f("last_session", "<", hours_ago="24"), OR, f("session_count", ">", value="10")],
                         {"A", "B", "D"}, {"A", "B", "D", "E"}),
    "AND binds tighter than OR": ([US, OR, f("session_count", ">", value="10"), f("language", "=", value="de")],
                                  {"A", "B", "C"}, {"A", "B", "C", "E"}),
    "(A and B) or (C and D)": ([US, f("language", "=", value="es"), OR, f("country", "=", value="DE"),
                                f("session_count", "=", value="50")], {"B", "C"}, {"B", "C"}),
    "adjacent filters are ANDed": ([US, f("tag", "exists", key="vip")], {"A"}, {"A", "E"}),
    "tag exists": ([f("tag", "exists", key="vip")], {"A"}, {"A", "E"}),
    "tag not_exists": ([f("tag", "not_exists", key="vip")], {"B", "C", "D"}, {"B", "C", "D"}),
    "tag != matches a missing tag": ([f("tag", "!=", key="level", value="3")], {"A", "C", "D"}, {"A", "C", "D", "E"}),
    "tag > is numeric": ([f("tag", ">", key="level", value="5")], {"A"}, {"A"}),
    "time_elapsed_gt": ([f("tag", "time_elapsed_gt", key="signup_ts", value=str(7 * DAY))], {"D"}, {"D"}),
    "time_elapsed_lt": ([f("tag", "time_elapsed_lt", key="signup_ts", value=str(7 * DAY))], set(), set()),
    "last_session more than 48h ago": ([f("last_session", ">", hours_ago="48")], {"B"}, {"B"}),
    "first_session less than 2 days ago": ([f("first_session", "<", hours_ago="48")], {"C"}, {"C"}),
    "location within 20 km of NYC": ([f("location", radius=20000, lat=NYC[0], long=NYC[1])], {"A", "D"}, {"A", "D"}),
    "location within 5 km of NYC": ([f("location", radius="5000", lat=str(NYC[0]), long=str(NYC[1]))],
                                    {"A"}, {"A"}),
    "country not_exists": ([f("country", "not_exists")], {"D"}, {"D"}),
    "country != US": ([f("country", "!=", value="US")], {"B", "D"}, {"B", "D"}),
    "language in_array": ([f("language", "in_array", value="de,fr")], {"B", "D"}, {"B", "D"}),
}


def test_hand_computed_distance():
    assert 14_000 < distance_m(*NYC, *NEWARK) < 15_000
    assert distance_m(*NYC, *NYC) == 0


@pytest.mark.parametrize("name", list(CASES))
def test_evaluation_matches_hand_computed_members(name):
    filters, _, everyone = CASES[name]
    now = 1_800_000_000.0
    assert validate(filters) == []
    subs = [from_dict(i, d, now) for i, d in enumerate(people(now))]
    match = compile_filters(filters)
    assert {s.id[-1] for s in subs if match(s, now)} == everyone


@pytest.fixture
def hand_made_app(emulator):
    emulator.add_app(APP, "hand-key", account="hand", messages=0, subscriptions=people(emulator.now()))
    return {"Authorization": "Key hand-key"}


@pytest.mark.parametrize("name", ["OR of AND-groups", "AND binds tighter than OR", "tag not_exists",
                                  "time_elapsed_gt", "location within 20 km of NYC"])
def test_subscriber_count_and_segment_export_agree_with_hand_computed_members(emulator, anon, hand_made_app,
                                                                             name):
    filters, subscribed, _ = CASES[name]
    anon.headers.update(hand_made_app)
    segment_id = create_segment(anon, APP, name, filters)
    view = anon.get(f"/apps/{APP}/segments/{segment_id}").json()
    assert view["subscriber_count"] == len(subscribed)
    url = anon.post("/players/csv_export", params={"app_id": APP}, json={"segment_name": name}).json()["csv_file_url"]
    emulator.advance(60)
    rows = read_csv_gz(anon.get(url).content)
    assert {row[0][-1] for row in rows[1:]} == subscribed
    # include_unsubscribed brings E back for segments that select it
    emulator.advance(60)
    url = anon.post("/players/csv_export", params={"app_id": APP},
                    json={"segment_name": name, "include_unsubscribed": True}).json()["csv_file_url"]
    emulator.advance(60)
    assert {row[0][-1] for row in read_csv_gz(anon.get(url).content)[1:]} == CASES[name][2]


def test_time_filters_follow_the_emulator_clock(emulator, anon, hand_made_app):
    anon.headers.update(hand_made_app)
    segment_id = create_segment(anon, APP, "recent", [f("last_session", "<", hours_ago="24")])
    assert anon.get(f"/apps/{APP}/segments/{segment_id}").json()["subscriber_count"] == 2  # A and D
    emulator.advance(23 * HOUR)  # A is now 25 h ago, D 24 h ago: neither is "less than 24 h"
    assert anon.get(f"/apps/{APP}/segments/{segment_id}").json()["subscriber_count"] == 0
