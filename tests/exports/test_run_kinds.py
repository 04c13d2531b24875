"""Each export kind end to end against the emulator: request, poll, download, verify, store, record."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io

from osctl.exports.columns import SUBSCRIPTION_COLUMNS


def rows_of(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode(), newline="")))


def test_subscriptions_export_end_to_end(harness):
    harness.write_config("""\
        - name: nightly
          app: prod
          kind: subscriptions
          schedule: "0 3 * * *"
          destination: out/{app}/{export}/{date}.csv.gz
          subscriptions:
            extra_fields: [country, external_user_id]
        """)
    (run,) = harness.plan()
    assert run.name == "nightly" and run.reason.startswith("due since ")
    result = harness.apply([run])
    assert result.failed == [] and len(result.succeeded) == 1
    (path,) = harness.files()
    assert path.startswith("out/prod/nightly/") and path.endswith(".csv.gz")
    data = rows_of(harness.dir / path)
    assert data[0][: len(SUBSCRIPTION_COLUMNS)] != [] and {"country", "external_user_id"} <= set(data[0])
    assert len(data) - 1 == 1000  # the emulator's audience
    record = harness.record("nightly")
    (file,) = record.files
    assert file.path == path and file.rows == 1000
    assert file.sha256 == hashlib.sha256((harness.dir / path).read_bytes()).hexdigest()
    assert file.bytes == (harness.dir / path).stat().st_size
    assert record.satisfied_tick == run.due_tick and record.last_success and record.in_flight == []
    # served: not due again until the next tick
    assert harness.plan() == ()


def add_messages(harness, *ages_hours: float, done_after: float = 0.5) -> list[str]:
    """Messages queued `age` hours ago whose delivery completed `done_after` hours later."""
    now = harness.emu.now()
    specs = [{"queued_at": now - age * 3600, "completed_at": now - age * 3600 + done_after * 3600,
              "kind": "api"} for age in ages_hours]
    return harness.emu.add_messages(harness.emu.app_id, messages=specs)


def test_subscriptions_of_a_segment_sends_segment_and_last_active_since(harness):
    harness.write_config("""\
        - name: active
          app: prod
          kind: subscriptions
          destination: out/{export}-{tick}.csv.gz
          subscriptions:
            segment: {name: Active Users, existing: true}
            last_active_within: 30d
        """)
    result = harness.run(forced=["active"])
    assert result.failed == []
    (request,) = harness.export_requests()
    assert request["body"]["segment_name"] == "Active Users"
    since = int(request["body"]["last_active_since"])
    assert abs(since - (harness.emu.now() - 30 * 86400)) < 120
    (path,) = harness.files()
    assert harness.record("active").files[0].rows == len(rows_of(harness.dir / path)) - 1


def test_audience_activity_writes_one_file_per_message_and_bookmarks_them(harness):
    harness.write_config("""\
        - name: activity
          app: prod
          kind: audience_activity
          schedule: "@hourly"
          destination: out/{date}/{message_id}.csv.gz
          audience_activity:
            messages: {sent_within: 2h, kind: api, settle: 30m}
        """)
    first, second = add_messages(harness, 1.5, 1.2)
    (run,) = harness.plan()
    assert set(run.messages) == {first, second}
    result = harness.apply([run])
    assert result.failed == []
    files = harness.files()
    assert [f.split("/")[-1] for f in files] == sorted([f"{first}.csv.gz", f"{second}.csv.gz"])
    record = harness.record("activity")
    assert set(record.messages_done) == {first, second}
    assert {f.message_id for f in record.files} == {first, second}
    for file in record.files:
        assert file.rows == len(rows_of(harness.dir / file.path)) - 1 > 0
    # a new message an hour later: the next run covers only it
    harness.emu.advance(3600)
    (third,) = add_messages(harness, 1.0)
    (run,) = harness.plan()
    assert run.messages == (third,)
    assert harness.apply([run]).failed == []
    assert len(harness.files()) == 3
    # forced again at once: every message is bookmarked, so nothing is requested
    before = len(harness.export_requests())
    (run,) = harness.plan(forced=["activity"])
    assert run.messages == ()
    assert harness.apply([run]).succeeded
    assert len(harness.export_requests()) == before


def test_message_history_skips_messages_past_seven_days_and_has_the_clicked_header(harness):
    fresh, old = add_messages(harness, 24, 8 * 24)
    harness.write_config(f"""\
        - name: clicks
          app: prod
          kind: message_history
          destination: out/{{message_id}}.csv.gz
          message_history:
            events: clicked
            messages: {{ids: [{fresh}, {old}]}}
        """)
    (run,) = harness.plan(forced=["clicks"])
    assert run.messages == (fresh,)
    assert any("7 days" in w and old in w for w in run.warnings)
    result = harness.apply([run])
    assert result.failed == []
    (path,) = harness.files()
    data = rows_of(harness.dir / path)
    assert data[0] == ["player_id", "onesignal_id", "external_id", "target_channel", "timestamp"]
    (request,) = harness.export_requests()
    assert request["body"] == {"app_id": harness.emu.app_id, "events": "clicked"}


def test_outcomes_are_written_as_a_gzip_csv(harness):
    harness.write_config("""\
        - name: monthly-outcomes
          app: prod
          kind: outcomes
          schedule: "@monthly"
          destination: out/outcomes-{date}.csv.gz
          outcomes:
            names: [os__click.count, purchase.sum]
            time_range: 1mo
            attribution: total
        """)
    result = harness.run()
    assert result.failed == []
    (path,) = harness.files()
    data = rows_of(harness.dir / path)
    assert data[0] == ["outcome", "aggregation", "value"]
    assert [row[:2] for row in data[1:]] == [["os__click", "count"], ["purchase", "sum"]]
    assert all(row[2].replace(".", "").isdigit() for row in data[1:])
    (file,) = harness.record("monthly-outcomes").files
    assert file.rows == 2
