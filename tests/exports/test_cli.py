"""`osctl exports status` and `osctl exports run` as a user runs them."""

from __future__ import annotations

import json

from tests.exports.conftest import KEY_ENV
from tests.helpers import run_osctl

NIGHTLY = """\
    - name: nightly
      app: prod
      kind: subscriptions
      schedule: "0 3 * * *"
      timezone: America/New_York
      timeout: 10m
      destination: out/{export}-{date}.csv.gz
      subscriptions:
        segment: {name: Active Users, existing: true}
    - name: adhoc
      app: prod
      kind: subscriptions
      destination: out/{export}-{tick}.csv.gz
      subscriptions:
        segment: {name: Active Users, existing: true}
    """


def osctl(harness, *args, now: str | None = None):
    """osctl at the emulator's time (the harness pins it), or at `now`."""
    env = {KEY_ENV: harness.emu.api_key, "ONESIGNAL_API_URL": harness.emu.url,
           "OSCTL_NOW": now or harness.now().isoformat()}
    return run_osctl("-c", str(harness.dir), *args, env=env)


def test_status_json_shows_schedule_files_and_masked_in_flight(harness):
    harness.write_config(NIGHTLY)
    assert harness.run().failed == []  # nightly was due (never run); adhoc is on demand
    harness.emu.set_export_rate(0.05)
    assert harness.run(forced=["nightly"]).failed  # a forced rerun times out: left in flight
    now = harness.now().isoformat()
    result = osctl(harness, "exports", "status", "--format", "json", now=now)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {r["name"]: r for r in data["exports"]}
    nightly, adhoc = rows["nightly"], rows["adhoc"]
    assert nightly["schedule"] == "0 3 * * *" and nightly["timezone"] == "America/New_York"
    record = harness.record("nightly")
    assert nightly["last_success"] == record.last_success
    assert nightly["due"] is False and nightly["satisfied_tick"] == record.satisfied_tick
    assert nightly["next_due"] > record.satisfied_tick and nightly["next_due"].endswith(("T08:00:00Z", "T07:00:00Z"))
    assert nightly["last_file"]["path"] == record.files[-1].path
    assert nightly["last_file"]["rows"] == record.files[-1].rows
    assert "not ready" in nightly["last_error"]
    (flight,) = nightly["in_flight"]
    assert flight["url"] == harness.emu.url + "/…"
    assert record.in_flight[0].url not in result.stdout  # the bearer link never appears
    assert adhoc["schedule"] is None and adhoc["last_success"] is None and adhoc["next_due"] is None
    text = osctl(harness, "exports", "status", now=now)
    assert text.exit_code == 0 and "in flight:" in text.stdout and record.in_flight[0].url not in text.stdout


def test_run_only_what_is_due_unless_forced(harness):
    # A fixed clock: 12:00 UTC is 07:00 in New York, so nightly's newest tick is today's 03:00
    # there and both nightly runs are named after the same date (at 05:00-08:00 UTC the tick's
    # New York date is the day before the UTC date, which is why the time must be pinned).
    now = "2026-11-22T12:00:00Z"
    harness.write_config(NIGHTLY)
    first = osctl(harness, "exports", "run", "nightly", "adhoc", now=now)
    assert first.exit_code == 0, first.output
    assert "Exports: 2 succeeded, 0 failed." in first.stdout
    again = osctl(harness, "exports", "run", "nightly", "adhoc", now=now)
    assert again.exit_code == 0, again.output
    assert "export.nightly is not due (next tick" in again.stdout
    assert "Exports: 1 succeeded" in again.stdout  # adhoc runs on demand every time
    forced = osctl(harness, "exports", "run", "nightly", "--force", now=now)
    assert forced.exit_code == 0 and "Exports: 1 succeeded" in forced.stdout
    assert harness.files() == [
        "out/adhoc-20261122T120000Z-1.csv.gz",  # the same tick twice: the second got -1
        "out/adhoc-20261122T120000Z.csv.gz",
        "out/nightly-2026-11-22-1.csv.gz",  # the forced rerun, same date: -1
        "out/nightly-2026-11-22.csv.gz",
    ]


def test_run_unknown_export_is_a_clear_error(harness):
    harness.write_config(NIGHTLY)
    result = osctl(harness, "exports", "run", "nope")
    assert result.exit_code == 1
    assert "no export named 'nope'" in result.stderr and "adhoc, nightly" in result.stderr
    assert "Traceback" not in result.output


def test_run_reports_a_failure_with_exit_1(harness):
    harness.write_config(NIGHTLY.replace("Active Users", "No Such Segment"))
    result = osctl(harness, "exports", "run", "adhoc")
    assert result.exit_code == 1
    assert "export.adhoc failed" in result.stderr and "No Such Segment" in result.stderr
    assert "Traceback" not in result.output


def test_progress_bar_on_a_terminal_only(harness):
    import io

    from osctl.cli.exports_view import TextObserver

    harness.write_config(NIGHTLY)
    terminal, ci = io.StringIO(), io.StringIO()
    assert harness.apply(harness.plan(forced=["adhoc"]), observer=TextObserver(stream=terminal,
                                                                               interactive=True)).succeeded
    assert harness.apply(harness.plan(forced=["adhoc"]), observer=TextObserver(stream=ci,
                                                                               interactive=False)).succeeded
    assert "\r  export.adhoc [" in terminal.getvalue() and " rows" in terminal.getvalue()
    assert "\r" not in ci.getvalue() and "export.adhoc: requested" in ci.getvalue()
    assert "/_files/" not in terminal.getvalue() + ci.getvalue()  # links are masked in every line


def test_run_takes_the_state_lock(harness):
    from osctl.state import open_backend

    harness.write_config(NIGHTLY)
    with open_backend(harness.config).lock("apply", 0):
        result = osctl(harness, "exports", "run", "adhoc")
    assert result.exit_code == 1
    assert "state is locked" in result.stderr and "apply" in result.stderr
    assert harness.export_requests() == []


def test_run_one_export_while_another_apps_per_message_export_is_due(harness):
    # the other app's key is not even set: `exports run` touches only the apps it runs
    harness.write_config(NIGHTLY.rstrip(" ") + """\
    - name: elsewhere
      app: web
      kind: audience_activity
      schedule: "@hourly"
      audience_activity: {messages: {sent_within: 1d}}
    """)
    path = harness.dir / "osctl.yaml"
    path.write_text(path.read_text().replace(
        "apps:\n", "apps:\n  web: {app_id: 0d3a4f7c-8a51-4b9e-9c2a-6a1b2c3d4e5f, api_key_env: OSCTL_TEST_UNSET_KEY}\n"))
    result = osctl(harness, "exports", "run", "adhoc")
    assert result.exit_code == 0, result.output
    assert "Exports: 1 succeeded, 0 failed." in result.stdout


def _explode(*args, **kwargs):
    raise RuntimeError("simulated bug")


def test_a_bug_in_one_export_is_one_line_with_the_v_hint_and_the_traceback_with_v(harness, monkeypatch):
    harness.write_config(NIGHTLY)
    monkeypatch.setattr("osctl.exports.runner.Runner._run", _explode)
    quiet = osctl(harness, "exports", "run", "adhoc")
    assert quiet.exit_code == 1
    assert "export.adhoc failed: internal error: RuntimeError: simulated bug" in quiet.stderr
    assert "1 internal error above: rerun with -v for the traceback." in quiet.stderr
    assert "Traceback" not in quiet.output
    verbose = osctl(harness, "exports", "run", "adhoc", "-v")
    assert verbose.exit_code == 1
    assert "Traceback (most recent call last)" in verbose.stderr and "rerun with -v" not in verbose.stderr
