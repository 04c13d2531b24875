"""Reliability of apply for test users (issue 15, as issue 4 for segments): SIGKILL at random
moments of an apply that creates, updates and deletes users, then apply again. Judged only by
what a user sees: the live users, the state file, the plan that follows, and the emulator's
request log, which must never name a user outside the prefix (docs/test-users.md#applying).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from urllib.parse import unquote

import httpx
import pytest

from tests.users.conftest import UsersWorkspace

USERS_PATH = r"^(/api/v1)?/apps/[^/]+/(users|subscriptions)"
MUTATING = ("POST", "DELETE", "PATCH")


def _declaration(rng: random.Random, index: int) -> dict:
    """qa-u{index}: tags and an address that differ between draws, sometimes an alias."""
    user = {"external_id": f"qa-u{index}", "tags": {"qa": "1", "cohort": rng.choice(["a", "b", "c"])},
            "subscriptions": [{"type": "Email", "token": f"u{index}-{rng.randrange(3)}@example.com"}]}
    if rng.random() < 0.5:
        user["aliases"] = {"crm_id": f"qa-crm-{index}-{rng.randrange(3)}"}
    return user


def _live_matches(uw: UsersWorkspace, declared: dict[int, dict]) -> None:
    for user in declared.values():
        live = uw.user(user["external_id"])
        assert live is not None, user["external_id"]
        assert live["properties"]["tags"] == user["tags"], user["external_id"]
        assert sorted(s["token"] for s in live["subscriptions"]) == sorted(
            s["token"] for s in user["subscriptions"]), user["external_id"]
        aliases = {k: v for k, v in live["identity"].items() if k not in ("external_id", "onesignal_id")}
        assert aliases == user.get("aliases", {}), user["external_id"]
        record = uw.records()[f"user.prod.{user['external_id']}"]
        assert record["status"] == "created" and record["onesignal_id"] == live["identity"]["onesignal_id"]


def _outside_the_prefix(log: list[dict], foreign_subscriptions: set[str]) -> list[str]:
    """Requests of osctl that named a user outside the prefix, or one of its subscriptions."""
    found = []
    for entry in log:
        path = unquote(entry["path"])
        by = re.search(r"/users/by/([^/]+)/([^/]+)", path)
        if by and (by.group(1) != "external_id" or not by.group(2).startswith("qa-")):
            found.append(f"{entry['method']} {path}")
        subscription = re.search(r"/subscriptions/([^/]+)", path)
        if subscription and subscription.group(1) in foreign_subscriptions:
            found.append(f"{entry['method']} {path}")
        if entry["method"] == "POST" and re.search(r"/users$", path):
            external_id = ((entry.get("body") or {}).get("identity") or {}).get("external_id", "")
            if not external_id.startswith("qa-"):
                found.append(f"POST {path} {external_id!r}")
    return found


def _apply_after_kill(uw: UsersWorkspace):
    """What a user does after a killed apply: apply again, force-unlocking the dead holder's lock."""
    result = uw.osctl("apply", "--auto-approve", "--no-exports")
    if result.exit_code == 1 and "state is locked" in result.stderr:
        lock_id = re.search(r"osctl force-unlock (\S+)", result.stderr).group(1)
        assert uw.osctl("force-unlock", lock_id).exit_code == 0
        result = uw.osctl("apply", "--auto-approve", "--no-exports")
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
def test_sigkill_at_random_moments_then_apply_again_touches_no_one_else(uw):
    rng = random.Random(15)
    customer = uw.make_user("customer-1", tags={"plan": "gold"}, subscriptions=[("Email", "cust@example.com")],
                            crm_id="c-1")
    foreign = {s["id"] for s in customer["subscriptions"]}
    declared = {i: _declaration(rng, i) for i in range(4)}
    uw.declare(list(declared.values()))
    assert uw.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    uw.emulator.clear_requests()
    env = {**os.environ, **uw.emulator.env()}
    command = [sys.executable, "-m", "osctl", "apply", "--auto-approve", "--no-exports", "--refresh", "list",
               "-c", str(uw.dir)]
    landed = []
    next_index = len(declared)
    for _ in range(4):
        for index in rng.sample(sorted(declared), 2):  # two users changed, one deleted, one new
            declared[index] = _declaration(rng, index)
        del declared[rng.choice(sorted(declared))]
        declared[next_index] = _declaration(rng, next_index)
        next_index += 1
        uw.declare(list(declared.values()))
        kill_after = rng.randint(1, 8)  # user writes sent before the kill
        last_seq = uw.emulator.requests()[-1]["seq"] if uw.emulator.requests() else 0
        assert httpx.put(f"{uw.emulator.url}/_emulator/settings", json={"latency_ms": 30}, timeout=10).is_success
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline, writes = time.monotonic() + 60, 0
        while proc.poll() is None and writes < kill_after:
            assert time.monotonic() < deadline, "the apply under test hung"
            time.sleep(0.003)
            new = uw.emulator.requests(since=last_seq)
            if new:
                last_seq = new[-1]["seq"]
                writes += sum(1 for e in new if e["method"] in MUTATING and re.search(USERS_PATH, e["path"]))
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        assert httpx.put(f"{uw.emulator.url}/_emulator/settings", json={"latency_ms": 0}, timeout=10).is_success
        assert b"Traceback" not in err, err.decode()
        json.loads((uw.dir / ".osctl" / "state.json").read_text())  # a kill never leaves a torn state file
        landed.append(f"after {writes} writes" if killed else "after the run had finished")

        recovery = _apply_after_kill(uw)
        _live_matches(uw, declared)
        listed = httpx.get(f"{uw.emulator.url}/_emulator/apps/{uw.app_id}/users", timeout=10).json()["users"]
        external_ids = [u["identity"].get("external_id") for u in listed]
        assert len(external_ids) == len(set(external_ids)), f"a user was made twice: {sorted(external_ids)}"
        after = uw.osctl("plan", "--no-exports", "--detailed-exitcode")
        assert after.exit_code == 0, recovery.output + after.output + json.dumps(uw.records(), indent=1)
        assert set(uw.records()) == {f"user.prod.{u['external_id']}" for u in declared.values()}
    print("kills landed:", landed)
    gone = {f"qa-u{i}" for i in range(next_index)} - {u["external_id"] for u in declared.values()}
    assert all(uw.user(external_id) is None for external_id in sorted(gone))
    assert _outside_the_prefix(uw.emulator.requests(), foreign) == []
    assert uw.user("customer-1") == customer  # its tags, alias and address as they were
