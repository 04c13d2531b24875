"""The acceptance run of issue 15: examples/qa-users as a user runs it against the emulator.

plan shows three test users and which segment they fall into; apply creates the segment,
the users and runs the export; the export file holds exactly those users' subscriptions;
a second plan has no changes."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from pathlib import Path

from tests.helpers import run_osctl

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "qa-users"
EXAMPLE_APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
NOW = "2026-11-22T12:00:00+00:00"


def _workspace(tmp_path: Path, emulator) -> Path:
    target = tmp_path / "qa-users"
    shutil.copytree(EXAMPLE, target)
    config = target / "osctl.yaml"
    config.write_text(config.read_text().replace(EXAMPLE_APP_ID, emulator.app_id))
    return target


def _osctl(directory: Path, emulator, *args: str):
    env = {**emulator.env(), "OSCTL_NOW": NOW}
    return run_osctl("-c", str(directory), *args, env=env)


def test_qa_users_example_end_to_end(tmp_path, emulator):
    emulator.reset(now=1795348800.0)  # 2026-11-22T12:00:00Z, the OSCTL_NOW above
    directory = _workspace(tmp_path, emulator)

    plan = _osctl(directory, emulator, "plan", "--no-color")
    assert plan.exit_code == 0, plan.output
    for user in ("qa-alice", "qa-bob", "qa-carol"):
        assert f'+ user "{user}"' in plan.output
    assert "falls into: QA testers" in plan.output

    applied = _osctl(directory, emulator, "apply", "--auto-approve", "--no-color")
    assert applied.exit_code == 0, applied.output

    [written] = sorted((directory / "exports").rglob("*.csv.gz"))
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(written.read_bytes()).decode("utf-8"))))
    exported = {(row["identifier"], row["external_user_id"]) for row in rows}
    assert exported == {("alice+qa@example.com", "qa-alice"), ("+15555550100", "qa-alice"),
                        ("bob+qa@example.com", "qa-bob"), ("+15555550101", "qa-carol")}

    again = _osctl(directory, emulator, "plan", "--no-color", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
