"""Waiting for OneSignal: not-ready answers, busy accounts, timeouts, resume, expiry, damaged downloads."""

from __future__ import annotations

import httpx
import pytest

from osctl.exports.polling import PollPolicy
from tests.exports.fileproxy import run_through_proxy

SUBSCRIPTIONS = """\
    - name: nightly
      app: prod
      kind: subscriptions
      schedule: "0 3 * * *"
      timeout: {timeout}
      destination: out/{{export}}-{{date}}.csv.gz
    """


def file_gets(harness) -> list[dict]:
    return [r for r in harness.emu.requests() if r["method"] == "GET" and r["path"].startswith("/_files/")]


def new_message(harness, age_hours: float = 2.0) -> str:
    now = harness.emu.now()
    (message_id,) = harness.emu.add_messages(harness.emu.app_id, messages=[
        {"queued_at": now - age_hours * 3600, "completed_at": now - age_hours * 3600 + 600, "kind": "api"}])
    return message_id


@pytest.mark.parametrize("kind,not_ready", [("subscriptions", 403), ("audience_activity", 404),
                                            ("message_history", 403)])
def test_each_kind_waits_through_its_not_ready_answers(harness, kind, not_ready):
    message_id = new_message(harness)
    block = {
        "subscriptions": "subscriptions: {extra_fields: [country]}",
        "audience_activity": f"audience_activity: {{messages: {{ids: [{message_id}]}}}}",
        "message_history": f"message_history: {{events: clicked, messages: {{ids: [{message_id}]}}}}",
    }[kind]
    harness.write_config(f"""\
        - name: slow
          app: prod
          kind: {kind}
          destination: out/{{export}}-{{message_id}}.csv.gz
          {block}
        """.replace("{message_id}", "{message_id}" if kind != "subscriptions" else "x"))
    harness.emu.set_export_rate(2.0)  # minutes of emulator time for a few hundred rows
    result = harness.run(forced=["slow"])
    assert result.failed == [], result.failed
    statuses = [r["status"] for r in file_gets(harness)]
    assert statuses[-1] == 200
    assert set(statuses[:-1]) == {not_ready} and len(statuses) >= 2
    assert harness.record("slow").files[0].rows >= 0


def test_first_look_at_the_estimate_then_few_looks(harness):
    # an export that takes 600 s of emulator time; the policy knows the emulator's rate
    message_id = new_message(harness)
    harness.write_config(f"""\
        - name: activity
          app: prod
          kind: audience_activity
          destination: out/{{message_id}}.csv.gz
          audience_activity: {{messages: {{ids: [{message_id}]}}}}
        """)
    rows = harness.client().get_message(harness.emu.app_id, message_id).recipients
    rate = rows / 600.0
    harness.emu.set_export_rate(rate)
    result = harness.run(forced=["activity"], policy=PollPolicy(records_per_second=rate))
    assert result.failed == []
    (job,) = harness.emu.exports_status()
    gets = file_gets(harness)
    assert len(gets) <= 15
    assert gets[0]["time"] >= job["requested_at"] + 600 * 0.99  # nothing asked before the estimate
    generation = job["ready_at"] - job["requested_at"]
    assert gets[-1]["time"] - job["ready_at"] <= 0.1 * generation + 2


def test_busy_account_is_waited_for_then_asked_again(harness):
    # another machine's export of the same account runs for 400 s of emulator time
    harness.emu.set_export_rate(2.5)
    other = httpx.post(f"{harness.emu.url}/players/csv_export", params={"app_id": harness.emu.app_id}, json={},
                       headers={"Authorization": f"Key {harness.emu.api_key}"})
    assert other.status_code == 200
    harness.emu.set_export_rate(1_000_000)
    harness.write_config(SUBSCRIPTIONS.format(timeout="30m"))
    result = harness.run()
    assert result.failed == [], result.failed
    posts = [r["status"] for r in harness.export_requests()]
    assert posts[0] == 200 and 409 in posts and posts[-1] == 200
    assert any("busy" in step for step in harness.observer.steps)
    assert harness.record("nightly").files


def test_busy_longer_than_the_timeout_fails_with_a_clear_message(harness):
    harness.emu.set_export_rate(0.1)  # 10,000 s
    httpx.post(f"{harness.emu.url}/players/csv_export", params={"app_id": harness.emu.app_id}, json={},
               headers={"Authorization": f"Key {harness.emu.api_key}"})
    harness.write_config(SUBSCRIPTIONS.format(timeout="5m"))
    result = harness.run()
    ((run, error),) = result.failed
    assert "busy" in error and "5m" in error
    record = harness.record("nightly")
    assert record.last_error == error and record.last_success is None and record.in_flight == []


def test_timeout_keeps_the_request_and_the_next_run_resumes_it(harness):
    harness.write_config(SUBSCRIPTIONS.format(timeout="10m"))
    harness.emu.set_export_rate(0.5)  # 1000 rows: 2000 s
    result = harness.run()
    ((_, error),) = result.failed
    assert "not ready within the 10m timeout" in error
    assert "/_files/" not in error  # the bearer link is masked
    record = harness.record("nightly")
    (flight,) = record.in_flight
    assert flight.url.startswith(harness.emu.url + "/_files/")
    assert record.satisfied_tick is None and record.last_error == error
    # once OneSignal has made the file, the next run resumes polling the recorded URL:
    # no second export request
    harness.emu.advance(2000)
    result = harness.run()
    assert result.failed == [], result.failed
    assert len(harness.export_requests()) == 1
    record = harness.record("nightly")
    assert record.in_flight == [] and len(record.files) == 1 and record.satisfied_tick
    assert any("resuming" in step for step in harness.observer.steps)


def test_expired_url_is_requested_again(harness):
    harness.write_config(SUBSCRIPTIONS.format(timeout="10m"))
    harness.emu.set_export_rate(0.5)
    assert harness.run().failed
    harness.emu.set_export_rate(1_000_000)
    harness.emu.advance(3 * 86400 + 3600)  # past the link's 3 days
    result = harness.run()
    assert result.failed == [], result.failed
    assert [r["status"] for r in harness.export_requests()] == [200, 200]
    assert any("expired" in step for step in harness.observer.steps)
    assert harness.record("nightly").in_flight == []


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_damaged_download_is_fetched_again_and_never_placed(harness, damage):
    harness.write_config(SUBSCRIPTIONS.format(timeout="10m"))
    result, proxy = run_through_proxy(harness, **{damage: 1})
    assert result.failed == [], result.failed
    assert proxy.damaged == 1
    assert [r["status"] for r in file_gets(harness)] == [200, 200]  # fetched twice
    assert any("fetching it again" in step for step in harness.observer.steps)
    (path,) = harness.files()  # one verified file, no leftovers
    assert harness.record("nightly").files[0].rows == 1000


def test_download_that_keeps_failing_leaves_nothing_at_the_destination(harness):
    harness.write_config(SUBSCRIPTIONS.format(timeout="10m"))
    result, _ = run_through_proxy(harness, truncate=5)
    ((_, error),) = result.failed
    assert "download failed 3 time(s)" in error and "truncated" in error
    assert harness.files() == []
    assert harness.record("nightly").files == []


def test_a_request_older_than_the_due_tick_is_not_resumed(harness):
    harness.write_config(SUBSCRIPTIONS.format(timeout="10m"))
    harness.emu.set_export_rate(0.5)
    assert harness.run().failed  # tonight's export left in flight
    harness.emu.set_export_rate(1_000_000)
    harness.emu.advance(86400)  # a day later the next tick is due; yesterday's snapshot would not satisfy it
    (run,) = harness.plan()
    assert run.due_tick > harness.record("nightly").in_flight[0].requested_at
    assert harness.apply([run]).failed == []
    assert len(harness.export_requests()) == 2
    record = harness.record("nightly")
    assert record.satisfied_tick == run.due_tick and record.in_flight == []


def test_accounts_run_in_parallel_and_one_account_one_export_at_a_time(harness, tmp_path):
    other_id, other_key = "2b1a7c3e-0f4d-4c5b-9a8e-1d2c3b4a5f60", "other-key"
    third_id = "3c2b8d4f-1a5e-4d6c-8b9f-2e3d4c5b6a71"
    harness.emu.add_app(other_id, other_key, account="second")
    harness.emu.add_app(third_id, other_key, account="second")
    (harness.dir / "osctl.yaml").write_text(f"""\
osctl: 1
apps:
  prod: {{app_id: {harness.emu.app_id}, api_key_env: OSCTL_TEST_EXPORTS_KEY}}
  other: {{app_id: {other_id}, api_key_env: OSCTL_TEST_OTHER_KEY, account: second}}
  third: {{app_id: {third_id}, api_key_env: OSCTL_TEST_OTHER_KEY, account: second}}
exports:
  - {{name: a, app: prod, kind: subscriptions, destination: "out/a.csv.gz"}}
  - {{name: b, app: other, kind: subscriptions, destination: "out/b.csv.gz"}}
  - {{name: c, app: third, kind: subscriptions, destination: "out/c.csv.gz"}}
""")
    harness.emu.set_export_rate(20.0)  # 50 s of emulator time each
    clients = {"prod": harness.client(),
               "other": harness.client_for(other_key), "third": harness.client_for(other_key)}
    runs = harness.plan(forced=["a", "b", "c"], clients=clients)
    result = harness.apply(runs, clients=clients)
    assert result.failed == [], result.failed
    log = harness.emu.requests()
    posts = {r["query"].split("app_id=")[1][:36]: r for r in log if r["path"] == "/players/csv_export"}
    assert all(p["status"] == 200 for p in posts.values())  # never busy: one per account at a time
    downloads = {}
    for r in log:
        if r["path"].startswith("/_files/") and r["status"] == 200:
            token = r["path"].split("/")[2]
            downloads[token] = r["seq"]
    first_done = min(downloads.values())
    # the two accounts overlap: both first requests come before any download
    assert posts[harness.emu.app_id]["seq"] < first_done
    assert min(posts[other_id]["seq"], posts[third_id]["seq"]) < first_done
    # within account "second", the later request waits until the earlier file is downloaded
    app_of = {job["token"]: job["app_id"] for job in harness.emu.exports_status()}
    earlier, later = sorted((other_id, third_id), key=lambda app: posts[app]["seq"])
    (earlier_download,) = [seq for token, seq in downloads.items() if app_of[token] == earlier]
    assert posts[later]["seq"] > earlier_download


def test_unwritable_destination_is_a_plain_error(harness):
    harness.write_config(SUBSCRIPTIONS.format(timeout="10m"))
    (harness.dir / "out").write_text("a file where the directory should be")
    result = harness.run()
    ((_, error),) = result.failed
    assert error.startswith("cannot write the export file") and "internal error" not in error
    record = harness.record("nightly")
    assert record.files == [] and record.satisfied_tick is None and len(record.in_flight) == 1


def test_a_429_on_the_file_url_is_honoured(harness):
    harness.write_config(SUBSCRIPTIONS.format(timeout="10m"))
    result, _ = run_through_proxy(harness, pushback=1)
    assert result.failed == [], result.failed
    first_look = harness.sleeps[0]
    assert harness.sleeps[1] >= 30  # the wait after the 429 is at least its Retry-After
    assert first_look < 30
