"""Reliability of apply for test users (issue 15) against a misbehaving API, as
tests/segments/test_reliability.py does for segments (SIGKILL at random moments:
tests/users/test_reliability.py).

It drives osctl through its real entry point against the emulator over HTTP and judge what
a user would see: the users of the app, the users osctl does not manage (viewed through the
API, byte for byte), the state file, and the plan that follows. OneSignal has no list of
users; the emulator's control API lists them, so a duplicate or a stray user shows.
It prints its figures (applies, faults fired, wall time); run with
`-s` to read them. User views are paced by osctl's client at about one a second per app, as
OneSignal asks: the users here are few so that this floor stays near a minute.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter

import httpx
import pytest

from tests.users.conftest import UsersWorkspace

# Faults hit the user and subscription endpoints, and the subscriptions export osctl reads to
# learn who holds an address (the control API bypasses faults anyway).
USERS_PATH = r"^(/api/v1)?/apps/[^/]+/(users|subscriptions)"
FAULTED_PATH = r"^(/api/v1)?/(apps/[^/]+/(users|subscriptions)|players/csv_export)"
WRITES = ("POST", "PATCH", "DELETE")
COHORTS = ["spring", "summer", "autumn", "winter"]
WRITE_DELAY = 1.0  # seconds OneSignal takes to apply a write it answered 202

# As for segments: the first rule that fires wins, so each probability is conditional on the
# earlier ones not firing; the comments give the overall shares (503s with non-JSON bodies,
# 429s with Retry-After, dropped connections, and answers lost after a write was done).
FLAKY = [
    {"kind": "503_html", "probability": 0.10, "path": FAULTED_PATH},                     # 10%
    {"kind": "503_empty", "probability": 0.10 / 0.90, "path": FAULTED_PATH},             # 10%
    {"kind": "429", "probability": 0.10 / 0.80, "path": FAULTED_PATH, "retry_after": 1},  # 10%
    {"kind": "drop", "probability": 0.05 / 0.70, "path": FAULTED_PATH},                  # 5%
    *({"kind": "lost_answer", "probability": 0.10 / 0.65, "path": USERS_PATH, "method": method}  # 10% of writes
      for method in WRITES),
]


# --------------------------------------------------------------------------------------
# Declarations, foreign users, and the invariants
# --------------------------------------------------------------------------------------

def _declared_user(i: int, rng: random.Random) -> dict:
    """A test user with tags, sometimes an alias, language and time zone, and Email/SMS inside the rails."""
    user: dict = {"external_id": f"qa-u{i:02d}", "tags": {"qa": "1", "cohort": rng.choice(COHORTS)}}
    if rng.random() < 0.5:
        user["aliases"] = {"crm_id": f"qa-crm-{i}"}
    if rng.random() < 0.5:
        user["language"] = rng.choice(["en", "de", "fr"])
    if rng.random() < 0.3:
        user["timezone_id"] = rng.choice(["Europe/Berlin", "America/New_York"])
    subscriptions = []
    if rng.random() < 0.8:
        subscriptions.append({"type": "Email", "token": f"u{i}@example.com"})
    if rng.random() < 0.6:
        subscriptions.append({"type": "SMS", "token": f"+1555555010{i:02d}"})
    if subscriptions:
        user["subscriptions"] = subscriptions
    return user


def _make_foreign_users(uw: UsersWorkspace) -> dict[str, bytes]:
    """Users osctl must never touch, made through the API: outside the prefix, inside it but not
    declared, one holding addresses inside the rails that nobody declares, and one without an
    external id. onesignal_id -> its view, as bytes."""
    bodies = [
        {"identity": {"external_id": "customer-1", "crm_id": "c-1"}, "properties": {"tags": {"plan": "gold"}},
         "subscriptions": [{"type": "Email", "token": "customer@shop.test"}]},
        {"identity": {"external_id": "qa-stranger"}, "properties": {"tags": {"qa": "1"}, "language": "es"},
         "subscriptions": [{"type": "AndroidPush", "token": "fcm-stranger"}]},
        {"identity": {"external_id": "someone"}, "properties": {"tags": {"vip": "yes"}},
         "subscriptions": [{"type": "Email", "token": "spare@example.com"},
                           {"type": "SMS", "token": "+155555501099"}]},
        {"identity": {}, "properties": {"tags": {"anonymous": "1"}},
         "subscriptions": [{"type": "iOSPush", "token": "apns-anonymous"}]},
    ]
    made = []
    for body in bodies:
        answer = uw.api("POST", f"/apps/{uw.app_id}/users", json=body)
        assert answer.status_code in (200, 201), answer.text
        made.append(answer.json()["identity"]["onesignal_id"])
    return {onesignal_id: _view(uw, onesignal_id) for onesignal_id in made}


def _view(uw: UsersWorkspace, onesignal_id: str) -> bytes:
    """A user as the API shows it, by onesignal_id (views are limited to about one a second)."""
    while True:
        answer = uw.api("GET", f"/apps/{uw.app_id}/users/by/onesignal_id/{onesignal_id}")
        if answer.status_code != 429:
            break
        time.sleep(float(answer.headers.get("Retry-After", "1")))
    assert answer.status_code == 200, answer.text
    return answer.content


def _all_users(uw: UsersWorkspace) -> list[dict]:
    answer = httpx.get(f"{uw.emulator.url}/_emulator/apps/{uw.app_id}/users", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["users"]


def _tokens(user: dict) -> set[tuple[str, str]]:
    return {(s["type"], s["token"]) for s in user.get("subscriptions", ())}


def _check_invariants(uw: UsersWorkspace, declared: list[dict], foreign: dict[str, bytes]) -> None:
    """Live users == declared users + the foreign ones, untouched; state parses and matches live."""
    users = _all_users(uw)
    ids = Counter(u["identity"]["onesignal_id"] for u in users)
    external = Counter(u["identity"].get("external_id") for u in users if u["identity"].get("external_id"))
    assert [e for e, n in external.items() if n > 1] == [], "a duplicate user"
    held = Counter(token for u in users for token in _tokens(u))
    assert [t for t, n in held.items() if n > 1] == [], "an address held by two users"
    # every foreign user is still there, byte for byte as the API showed it before
    assert set(foreign) <= set(ids), "a user osctl does not manage is gone"
    for onesignal_id, before in foreign.items():
        assert _view(uw, onesignal_id) == before, f"a user osctl does not manage was changed: {before!r}"
    # the others are exactly the declared users, as declared
    ours = {u["identity"]["external_id"]: u for u in users if u["identity"]["onesignal_id"] not in foreign}
    assert sorted(ours) == sorted(d["external_id"] for d in declared), "live test users differ from the declared"
    for d in declared:
        live = ours[d["external_id"]]
        assert live["properties"]["tags"] == d["tags"], d["external_id"]
        for key in ("language", "timezone_id"):
            if key in d:
                assert live["properties"].get(key) == d[key], (d["external_id"], key)
        aliases = {k: v for k, v in live["identity"].items() if k not in ("external_id", "onesignal_id")}
        assert aliases == d.get("aliases", {}), d["external_id"]
        assert _tokens(live) == _tokens(d), d["external_id"]
    # state parses, and holds exactly the declared users with what is live
    document = uw.state()
    assert document["format"] == 1 and isinstance(document["serial"], int)
    records = document.get("users", {})
    assert sorted(records) == sorted(f"user.prod.{d['external_id']}" for d in declared)
    for d in declared:
        record, live = records[f"user.prod.{d['external_id']}"], ours[d["external_id"]]
        assert record["status"] == "created" and record["onesignal_id"] == live["identity"]["onesignal_id"]
        assert record["tags"] == d["tags"] and record.get("aliases", {}) == d.get("aliases", {})
        live_ids = {(s["type"], s["token"]): s["id"] for s in live["subscriptions"]}
        assert {(s["type"], s["token"]) for s in record.get("subscriptions", ())} == _tokens(d)
        for s in record.get("subscriptions", ()):
            assert s.get("id") in (None, "", live_ids[(s["type"], s["token"])]), (d["external_id"], s)


def _plan_says_no_changes(uw: UsersWorkspace) -> tuple[bool, str]:
    """Whether the plan (viewing every user) has nothing to do; else what it would do."""
    plan = uw.osctl("plan", "--no-exports", "--detailed-exitcode", "--format", "json")
    assert plan.exit_code in (0, 2), plan.output
    document = json.loads(plan.stdout)
    pending = [f"{c['address']} {c['action']} ({c['reason']}): {'; '.join(c['lines'])}"
               for c in document["changes"] + document["user_changes"]]
    assert (plan.exit_code == 0) == (not pending), plan.output
    return not pending, "\n".join(pending)


# --------------------------------------------------------------------------------------
# 1. A flaky API: 503s, 429s, dropped connections, lost answers of user writes
# --------------------------------------------------------------------------------------

def _converge(uw: UsersWorkspace, emulator, seed: int, most: int = 4) -> tuple[list[float], list[dict]]:
    """Apply under faults until the plan that follows (without faults) says no changes:
    the wall time of each apply, and the requests they made."""
    timings: list[float] = []
    log: list[dict] = []
    for attempt in range(1, most + 1):
        emulator.set_faults(FLAKY, seed=seed + attempt)
        emulator.clear_requests()
        started = time.monotonic()
        applied = uw.osctl("apply", "--auto-approve", "--no-exports")
        timings.append(round(time.monotonic() - started, 1))
        log += emulator.requests()
        emulator.clear_faults()
        assert applied.exit_code in (0, 1), applied.output
        assert "Traceback" not in applied.output
        failures = [line.strip() for line in applied.stdout.splitlines() if line.strip().startswith("FAILED")]
        if failures:
            print(f"\n[reliability/flaky users] apply {attempt} (seed {seed + attempt}) failed:", *failures, sep="\n  ")
        converged, shown = _plan_says_no_changes(uw)
        if converged:
            return timings, log
        print(f"\n[reliability/flaky users] after apply {attempt} the plan still has:\n{shown}")
    raise AssertionError(f"still changes after {most} applies:\n{shown}")


def _changed(declared: list[dict], rng: random.Random) -> list[dict]:
    """Other tags for some users, a subscription and an alias removed, a user deleted, one added."""
    result = [json.loads(json.dumps(d)) for d in declared]
    for user in rng.sample(result, 4):
        user["tags"] = {"qa": "1", "cohort": rng.choice([c for c in COHORTS if c != user["tags"]["cohort"]]),
                        **({"level": str(rng.randrange(5))} if rng.random() < 0.5 else {})}
    with_two = next(u for u in result if len(u.get("subscriptions", ())) == 2)
    with_two["subscriptions"] = with_two["subscriptions"][:1]
    with_alias = next(u for u in result if u.get("aliases"))
    del with_alias["aliases"]
    without_alias = next(u for u in result if not u.get("aliases"))
    without_alias["aliases"] = {"zendesk": f"z-{without_alias['external_id']}"}
    result.remove(rng.choice(result))
    return result + [_declared_user(len(declared) + 10, rng)]


@pytest.mark.slow
def test_apply_of_test_users_converges_against_a_flaky_api_and_touches_no_one_else(uw, emulator):
    rng = random.Random(15)
    foreign = _make_foreign_users(uw)
    declared = [_declared_user(i, rng) for i in range(8)]
    uw.declare(declared)
    started = time.monotonic()
    # first OneSignal only accepts the writes (202) and applies them a second later: creates
    # are verified by viewing, and a create asked again after a lost answer finds the first
    emulator.set_user_write_delay(WRITE_DELAY)
    first, log = _converge(uw, emulator, seed=100)
    time.sleep(WRITE_DELAY)  # whatever was accepted is applied
    _check_invariants(uw, declared, foreign)
    emulator.set_user_write_delay(0)

    declared = _changed(declared, rng)
    uw.declare(declared)
    second, more = _converge(uw, emulator, seed=200)
    _check_invariants(uw, declared, foreign)
    log += more

    requests = [e for e in log if re.search(FAULTED_PATH, e["path"])]
    fired = Counter(e["fault"] for e in requests if e["fault"])
    writes = [e for e in requests if e["method"] in WRITES and re.search(USERS_PATH, e["path"])]
    lost = Counter(e["method"] for e in writes if e["fault"] == "lost_answer")
    print(f"\n[reliability/flaky users] applies needed: {len(first)} then {len(second)} after the change "
          f"(wall s each: {first} {second}; whole test {time.monotonic() - started:.0f} s)")
    accepted = sum(1 for e in writes if e["status"] == 202 and e["method"] == "POST" and e["path"].endswith("/users"))
    print(f"[reliability/flaky users] {len(requests)} requests: {dict(fired)}; "
          f"lost answers of {len(writes)} user writes: {fired['lost_answer']} ({dict(lost)}); "
          f"creates answered 202: {accepted}")
    # the faults really fired, in every kind, or this test proves nothing
    assert all(fired[kind] for kind in ("503_html", "503_empty", "429", "drop", "lost_answer")), dict(fired)
    assert lost["POST"], "a lost answer of a create or an added subscription"


# --------------------------------------------------------------------------------------
# 2. SIGKILL at random moments, each followed by a new apply
# --------------------------------------------------------------------------------------
