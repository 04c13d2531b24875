"""Who holds an address: one subscriptions export of the whole app, waited for like export runs
(busy account, not-ready answers, a deadline), read into TokenOwners; progress while plan reads
users and looks owners up; apply reuses what the plan looked up. Real HTTP against the emulator;
time is the emulator's clock, advanced by the injected sleep."""

from __future__ import annotations

import httpx
import pytest

from osctl.config.loader import load_or_fail
from osctl.errors import OsctlError
from osctl.onesignal import OneSignalClient
from osctl.plan.live import gather
from osctl.state import open_backend
from osctl.users.owners_lookup import OwnersByApp, look_up_token_owners
from tests.exports.fileproxy import FileProxy
from tests.helpers import ProgressRecorder
from tests.users.test_plan_live import ALICE, BOB, Users


class Clock:
    def __init__(self, emulator):
        self.emulator = emulator
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.emulator.advance(seconds)
            self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def qa(tmp_path, emulator) -> Users:
    return Users(tmp_path, emulator)


def file_gets(emulator) -> list[int]:
    return [e["status"] for e in emulator.requests() if e["method"] == "GET" and e["path"].startswith("/_files/")]


def look_up(qa: Users, clock: Clock, **kw):
    with OneSignalClient(qa.emulator.url, qa.emulator.api_key) as client:
        return look_up_token_owners(client, qa.app_id, alias="prod", sleep=clock.sleep,
                                    monotonic=clock.monotonic, **kw)


def test_owners_of_email_and_sms_addresses_come_from_one_export(qa):
    qa.create_live("qa-hal", {}, (("Email", "Hal+QA@example.com"), ("SMS", "+15555550101")))
    qa.create_live("customer-9", {}, (("Email", "nine@example.net"),))
    qa.emulator.clear_requests()
    owners = look_up(qa, Clock(qa.emulator))
    assert owners.owner("Email", "hal+qa@example.com") == "qa-hal"  # email compared without regard to case
    assert owners.owner("SMS", "+15555550101") == "qa-hal"
    assert owners.owner("Email", "nine@example.net") == "customer-9"
    assert owners.owner("Email", "nobody@example.com") is None
    assert qa.exports_requested() == 1


def test_a_busy_account_and_a_file_not_ready_yet_are_waited_for(qa):
    qa.create_live("qa-hal", {}, (("Email", "hal+qa@example.com"),))
    qa.emulator.set_export_rate(2.5)  # another export of the account runs for minutes
    busy = httpx.post(f"{qa.emulator.url}/players/csv_export", params={"app_id": qa.app_id}, json={},
                      headers={"Authorization": f"Key {qa.emulator.api_key}"})
    assert busy.status_code == 200
    qa.emulator.clear_requests()
    owners = look_up(qa, Clock(qa.emulator))
    assert owners.owner("Email", "hal+qa@example.com") == "qa-hal"
    posts = [e["status"] for e in qa.emulator.requests() if e["path"] == "/players/csv_export"]
    assert posts[0] == 409 and posts[-1] == 200
    gets = file_gets(qa.emulator)
    assert gets[-1] == 200 and 403 in gets  # made at 2.5 rows/s too: "not ready" first


def test_a_file_not_ready_by_the_deadline_fails_without_showing_its_link(qa):
    qa.emulator.set_export_rate(0.1)
    with pytest.raises(OsctlError) as failed:
        look_up(qa, Clock(qa.emulator), timeout=300)
    message = str(failed.value)
    assert "cannot check who holds the addresses to add in app 'prod'" in message and "not ready" in message
    assert "/_files/" not in message


def test_a_download_cut_short_is_fetched_again_from_the_start(qa):
    # an app big enough that part of the cut body reaches the temp file (httpx hands it on in 64 KiB pieces)
    big, key = "4d3c9e5a-2b6f-4e7d-9c0a-3f4e5d6c7b82", "big-key"
    qa.emulator.add_app(big, key, audience=4000, messages=0)
    with OneSignalClient(qa.emulator.url, key) as client:
        whole = look_up_token_owners(client, big, sleep=Clock(qa.emulator).sleep)
    with FileProxy(qa.emulator.url) as proxy:
        proxy.truncate = 1
        with OneSignalClient(proxy.url, key) as client:
            again = look_up_token_owners(client, big, sleep=Clock(qa.emulator).sleep)
    assert proxy.damaged == 1
    assert again == whole and len(whole.owners) > 100


def test_a_download_that_keeps_failing_fails_the_lookup_without_showing_its_link(qa):
    qa.create_live("qa-hal", {}, (("Email", "hal+qa@example.com"),))
    with FileProxy(qa.emulator.url) as proxy:
        proxy.truncate = 5
        with OneSignalClient(proxy.url, qa.emulator.api_key) as client, pytest.raises(OsctlError) as failed:
            look_up_token_owners(client, qa.app_id, alias="prod", sleep=Clock(qa.emulator).sleep)
    message = str(failed.value)
    assert message.startswith("cannot check who holds the addresses to add in app 'prod': the subscriptions "
                              "export could not be downloaded: ") and "truncated" in message
    assert "/_files/" not in message and proxy.damaged == 3


def test_plan_progress_names_the_users_read_and_the_owners_check(qa):
    qa.declare(ALICE, BOB)
    qa.record(BOB)
    qa.create_live("qa-bob", {"qa": "1"})
    config = load_or_fail(qa.dir)
    recorder = ProgressRecorder()
    qa.emulator.set_rate_limit("user_view", 100.0, 10)
    with OneSignalClient(qa.emulator.url, qa.emulator.api_key, view_interval=0.01) as client:
        owners = OwnersByApp(config, {"prod": client})
        live = gather(config, open_backend(config).read(), {"prod": client}, "full", progress=recorder,
                      owners=owners)
        assert live["prod"].users.owners is owners.known("prod") is not None
        assert recorder.events[1:] == [("start", "Reading test users of prod", 2), ("advance", 1), ("advance", 1),
                                       ("start", "Checking who holds 1 address in prod (one subscriptions export)",
                                        None)]
        qa.emulator.clear_requests()
        assert owners("prod") is owners.known("prod")  # apply reuses what the plan looked up
        assert qa.exports_requested() == 0
        assert OwnersByApp(config, {"prod": client})("prod") is not None  # a saved plan: looked up at apply
        assert qa.exports_requested() == 1


def test_no_owners_are_looked_up_when_the_plan_adds_no_address(qa):
    qa.declare(ALICE)
    qa.record(ALICE)
    qa.create_live("qa-alice", ALICE["tags"], (("Email", "ALICE+qa@example.com"),))
    config = load_or_fail(qa.dir)
    qa.emulator.clear_requests()
    with OneSignalClient(qa.emulator.url, qa.emulator.api_key, view_interval=0.01) as client:
        live = gather(config, open_backend(config).read(), {"prod": client}, "full")
    assert live["prod"].users.owners is None
    assert qa.exports_requested() == 0


def test_a_lost_answer_is_asked_again_and_the_export_it_started_waited_for(qa):
    qa.create_live("qa-hal", {}, (("Email", "hal+qa@example.com"),))
    qa.emulator.set_export_rate(50.0)  # the lost export keeps the account busy for a while
    qa.emulator.set_faults([{"kind": "lost_answer", "path": "/players/csv_export", "times": 1}])
    qa.emulator.clear_requests()
    owners = look_up(qa, Clock(qa.emulator))
    assert owners.owner("Email", "hal+qa@example.com") == "qa-hal"
    posts = [e["status"] for e in qa.emulator.requests() if e["path"] == "/players/csv_export"]
    assert posts[0] == 200 and 409 in posts and posts[-1] == 200  # lost, then busy with it, then ours
