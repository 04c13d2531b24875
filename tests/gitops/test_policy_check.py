"""examples/policy/check_plan.py on real plans made by osctl against the emulator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.gitops.conftest import QUICKSTART, QUICKSTART_APP_ID, REPO
from tests.helpers import run_osctl

CHECK_PLAN = REPO / "examples" / "policy" / "check_plan.py"


def check_plan(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK_PLAN), *args], capture_output=True, text=True,
                          timeout=30, env={"PATH": "/usr/bin:/bin", **(env or {})})


@pytest.fixture
def replacing_plans(tmp_path, emulator):
    """Saved plans of a config whose two unprotected segments change after an apply:
    `full` (refresh full: subscriber counts known) and `unread` (refresh none: unknown)."""
    config = tmp_path / "config"
    shutil.copytree(QUICKSTART, config)
    path = config / "osctl.yaml"
    path.write_text(path.read_text().replace(QUICKSTART_APP_ID, emulator.app_id))
    env = emulator.env()
    applied = run_osctl("apply", "--auto-approve", "--no-exports", "-c", str(config), env=env)
    assert applied.exit_code == 0, applied.output
    text = path.read_text().replace("value: de}", "value: fr}").replace("value: US}", "value: CA}")
    path.write_text(text)
    plans = {}
    for name, refresh in (("full", "full"), ("unread", "none")):
        plans[name] = tmp_path / f"{name}.json"
        made = run_osctl("plan", "--no-exports", "--refresh", refresh, "--out", str(plans[name]),
                         "-c", str(config), env=env)
        assert made.exit_code == 0, made.output
    return plans


def test_limits_on_destroys_and_subscribers(replacing_plans):
    plan_file = replacing_plans["full"]
    plan = json.loads(plan_file.read_text())
    replaced = [c["address"] for c in plan["changes"] if c["action"] == "replace"]
    assert len(replaced) == 2 and plan["violations"] == []
    total = plan["summary"]["subscribers_affected"]
    assert total > 0

    passed = check_plan(str(plan_file))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "policy check passed" in passed.stdout and "2 deleted or replaced" in passed.stdout

    assert check_plan(str(plan_file), "--max-destroys", "2").returncode == 0
    refused = check_plan(str(plan_file), "--max-destroys", "1")
    assert refused.returncode == 1
    assert "2 segments deleted or replaced, more than the 1 allowed" in refused.stdout
    assert all(address in refused.stdout for address in replaced)

    assert check_plan(str(plan_file), "--max-subscribers", str(total)).returncode == 0
    refused = check_plan(str(plan_file), "--max-subscribers", str(total - 1))
    assert refused.returncode == 1
    assert f"{total} subscribers in the segments deleted or replaced" in refused.stdout

    # On GitHub Actions the reasons become error annotations.
    annotated = check_plan(str(plan_file), "--max-destroys", "0", env={"GITHUB_ACTIONS": "true"})
    assert annotated.returncode == 1 and annotated.stdout.startswith("::error::policy: ")


def test_unknown_counts_are_refused_unless_allowed(replacing_plans):
    plan_file = str(replacing_plans["unread"])
    refused = check_plan(plan_file, "--max-subscribers", "1000000000")
    assert refused.returncode == 1 and "subscriber count unknown for segment.demo." in refused.stdout
    assert check_plan(plan_file, "--max-subscribers", "1000000000", "--unknown-counts-ok").returncode == 0
    assert check_plan(plan_file).returncode == 0  # no subscriber limit asked for


def test_violations_are_refused(replacing_plans, tmp_path):
    plan = json.loads(replacing_plans["full"].read_text())
    plan["violations"] = [{"kind": "mass_destroy", "message": "2 of 3 segments of app demo",
                           "overridable": True, "addresses": ["segment.demo.Active US or VIP"]}]
    mass = tmp_path / "mass.json"
    mass.write_text(json.dumps(plan))
    refused = check_plan(str(mass))
    assert refused.returncode == 1 and "mass_destroy: 2 of 3 segments" in refused.stdout
    assert check_plan(str(mass), "--allow-mass-destroy").returncode == 0

    plan["violations"].append({"kind": "prevent_destroy", "message": "prevent_destroy forbids replace",
                               "overridable": False, "addresses": ["segment.demo.Power users"]})
    mass.write_text(json.dumps(plan))
    refused = check_plan(str(mass), "--allow-mass-destroy")
    assert refused.returncode == 1
    assert "prevent_destroy" in refused.stdout and "mass_destroy" not in refused.stdout


def test_unreadable_plans_and_bad_arguments_exit_2(tmp_path, replacing_plans):
    missing = check_plan(str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    (tmp_path / "junk.json").write_text("### osctl plan\n")
    assert "is not JSON" in check_plan(str(tmp_path / "junk.json")).stderr
    (tmp_path / "other.json").write_text('{"resource_changes": []}')
    assert "is not an osctl plan" in check_plan(str(tmp_path / "other.json")).stderr
    newer = json.loads(replacing_plans["full"].read_text()) | {"format_version": "2"}
    (tmp_path / "newer.json").write_text(json.dumps(newer))
    unsupported = check_plan(str(tmp_path / "newer.json"))
    assert unsupported.returncode == 2 and "format_version '2'" in unsupported.stderr
    negative = check_plan(str(replacing_plans["full"]), "--max-destroys", "-1")
    assert negative.returncode == 2 and "negative" in negative.stderr


def test_large_replaces_are_refused_but_updates_in_place_pass(replacing_plans, tmp_path, emulator):
    plan_file = replacing_plans["full"]
    plan = json.loads(plan_file.read_text())
    counts = {c["address"]: c["subscriber_count"] for c in plan["changes"] if c["action"] == "replace"}
    largest = max(counts.values())
    assert largest > 0
    assert check_plan(str(plan_file), "--max-replaced-subscribers", str(largest)).returncode == 0
    refused = check_plan(str(plan_file), "--max-replaced-subscribers", str(largest - 1))
    assert refused.returncode == 1
    [big] = [address for address, count in counts.items() if count == largest]
    assert (f"refused: {big} would be replaced (new segment id) while it holds {largest} subscribers, more "
            f"than the {largest - 1} allowed; update it in place instead (update: in_place)") in refused.stdout

    # the same edits with segment_updates: in_place are updates, which keep the ids: they pass
    config = plan_file.parent / "config"
    path = config / "osctl.yaml"
    path.write_text(path.read_text().replace("    account: main\n", "    account: main\n    segment_updates: in_place\n"))
    in_place = tmp_path / "in_place.json"
    made = run_osctl("plan", "--no-exports", "--out", str(in_place), "-c", str(config),
                     env=emulator.env())
    assert made.exit_code == 0, made.output
    actions = sorted(c["action"] for c in json.loads(in_place.read_text())["changes"])
    assert actions == ["update", "update"]
    passed = check_plan(str(in_place), "--max-replaced-subscribers", "0", "--max-destroys", "0")
    assert passed.returncode == 0, passed.stdout
    assert "policy check passed: 2 change(s), 0 deleted or replaced" in passed.stdout
