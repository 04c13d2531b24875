"""Exports in `osctl plan` and `osctl apply`: listed when due, run after the segment changes."""

from __future__ import annotations

import json

from tests.exports.conftest import KEY_ENV
from tests.helpers import run_osctl

CONFIG = """\
    - name: vip-nightly
      app: prod
      kind: subscriptions
      schedule: "0 3 * * *"
      destination: out/{export}/{date}.csv.gz
      subscriptions:
        segment: VIP Export
    """
SEGMENTS = """\
    segments:
      - name: VIP Export
        app: prod
        filters:
          - {field: session_count, relation: ">", value: 1}
    """


def osctl(harness, *args):
    env = {KEY_ENV: harness.emu.api_key, "ONESIGNAL_API_URL": harness.emu.url}
    return run_osctl("-c", str(harness.dir), *args, env=env)


def test_plan_lists_due_exports_and_apply_runs_them_after_the_segment_exists(harness):
    harness.write_config(CONFIG, extra=SEGMENTS)
    plan = osctl(harness, "plan", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "> export vip-nightly will run (due since " in plan.stdout
    assert "after segment.prod.VIP Export is created" in plan.stdout
    no_exports = osctl(harness, "plan", "--no-exports", "--format", "json")
    assert json.loads(no_exports.stdout)["exports"] == []
    applied = osctl(harness, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Exports: 1 succeeded, 0 failed." in applied.stdout
    record = harness.record("vip-nightly")
    (file,) = record.files
    assert file.path.startswith("out/vip-nightly/") and record.satisfied_tick
    (request,) = harness.export_requests()
    assert request["body"]["segment_name"] == "VIP Export"
    created = [r for r in harness.emu.requests() if r["method"] == "POST" and r["path"].endswith("/segments")]
    assert created and created[0]["seq"] < request["seq"]  # the segment existed first
    # served: nothing left to do
    again = osctl(harness, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "will run" not in again.stdout


def test_only_due_exports_make_detailed_exitcode_2(harness):
    harness.write_config(CONFIG.replace("segment: VIP Export", "segment: {name: Active Users, existing: true}"))
    plan = osctl(harness, "plan", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "1 export due." in plan.stdout
    assert osctl(harness, "apply", "--auto-approve").exit_code == 0
    assert osctl(harness, "plan", "--detailed-exitcode").exit_code == 0
