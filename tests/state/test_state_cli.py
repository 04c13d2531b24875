"""`osctl state ...` and `osctl force-unlock`, run through the real entry point."""

from __future__ import annotations

import json

import pytest

from osctl.state.local import LocalBackend
from tests.helpers import run_osctl
from tests.state.processes import holding_lock
from tests.state.samples import APP_ID, SECRET_URL, sample_state

CONFIG = f"""osctl: 1
apps:
  prod:
    app_id: {APP_ID}
segments:
  - name: Active US
    filters:
      - {{field: country, relation: "=", value: US}}
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "osctl.yaml").write_text(CONFIG)
    return tmp_path


@pytest.fixture
def backend(project):
    return LocalBackend(project / ".osctl" / "state.json")


@pytest.fixture
def seeded(backend):
    state = sample_state(serial=3)
    backend.write(state)
    return state


def osctl(project, *args, **kwargs):
    return run_osctl(*args, "-c", str(project), **kwargs)


def test_list_prints_every_address(project, seeded):
    result = osctl(project, "state", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "segment.prod.Active US", "segment.prod.Being created", "segment.prod.Überall – ✓",
        "export.daily_subscriptions"]


def test_list_without_state_says_so(project):
    result = osctl(project, "state", "list")
    assert result.exit_code == 0 and result.stdout == "" and "No state yet" in result.stderr


def test_show_a_segment(project, seeded):
    result = osctl(project, "state", "show", "segment.prod.Active US")
    assert result.exit_code == 0, result.output
    assert f"app:         prod ({APP_ID})" in result.stdout
    assert "id:          id-Active US" in result.stdout
    assert '{"field": "country", "relation": "=", "value": "US"},' in result.stdout


def test_show_an_export_masks_its_download_url(project, seeded):
    result = osctl(project, "state", "show", "export.daily_subscriptions")
    assert result.exit_code == 0, result.output
    assert "url:          https://exports.example.com/…" in result.stdout
    assert "s3cr3t" not in result.output and "/csv/9f3c" not in result.output
    assert "exports/2026-11-21.csv.gz" in result.stdout and "rows:       56" in result.stdout


def test_show_something_not_in_state(project, seeded):
    result = osctl(project, "state", "show", "segment.prod.Nope")
    assert result.exit_code == 1
    assert "not in state: segment.prod.Nope" in result.stderr and "Traceback" not in result.output


def test_rm_forgets_records_and_says_what_that_means(project, seeded, backend):
    result = osctl(project, "state", "rm", "segment.prod.Active US", "segment.prod.Being created")
    assert result.exit_code == 0, result.output
    assert ("osctl no longer manages segment.prod.Active US; it stays in OneSignal. It is still declared"
            in result.stdout)
    assert "osctl no longer manages segment.prod.Being created; it stays in OneSignal.\n" in result.stdout
    after = backend.read()
    assert after.serial == 4 and after.lineage == seeded.lineage
    assert sorted(after.segments) == ["segment.prod.Überall – ✓"]


def test_rm_of_an_unknown_address_changes_nothing(project, seeded, backend):
    result = osctl(project, "state", "rm", "segment.prod.Active US", "export.nope")
    assert result.exit_code == 1 and "not in state: export.nope" in result.stderr
    assert backend.read() == seeded


def test_rm_while_another_osctl_holds_the_lock(project, seeded, backend):
    with holding_lock({"kind": "local", "path": str(backend.path)}, operation="apply") as holder:
        result = osctl(project, "state", "rm", "segment.prod.Active US")
        assert result.exit_code == 1
        assert f"pid {holder.process.pid}" in result.stderr and '"apply"' in result.stderr
        assert f"osctl force-unlock {holder.lock_id}" in result.stderr and "Traceback" not in result.output
        assert backend.read() == seeded

        # the holder is gone for good: force-unlock with the wrong id, then the right one
        holder.process.kill()
        holder.process.wait()
        wrong = osctl(project, "force-unlock", "0000")
        assert wrong.exit_code == 1 and "does not match" in wrong.stderr
        right = osctl(project, "force-unlock", holder.lock_id)
        assert right.exit_code == 0, right.output
        assert f"Removed lock {holder.lock_id}" in right.stdout
    assert osctl(project, "state", "rm", "segment.prod.Active US").exit_code == 0


def test_rm_waits_for_the_lock_with_lock_timeout(project, seeded, backend):
    with holding_lock({"kind": "local", "path": str(backend.path)}, seconds=0.5) as holder:
        result = osctl(project, "state", "rm", "segment.prod.Active US", "--lock-timeout", "20s")
        holder.wait_released()
    assert result.exit_code == 0, result.output
    assert "segment.prod.Active US" not in backend.read().segments


def test_a_bad_lock_timeout_is_explained(project, seeded):
    result = osctl(project, "state", "rm", "segment.prod.Active US", "--lock-timeout", "soon")
    assert result.exit_code == 1 and "--lock-timeout: 'soon' is not a duration" in result.stderr


def test_pull_prints_the_document_with_urls_masked(project, seeded):
    result = osctl(project, "state", "pull")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["serial"] == 3 and document["lineage"] == seeded.lineage
    assert "s3cr3t" not in result.stdout
    revealed = osctl(project, "state", "pull", "--reveal-urls")
    assert json.loads(revealed.stdout) == seeded.to_dict() and SECRET_URL in revealed.stdout


def test_push_of_an_edited_pull(project, seeded, backend, tmp_path):
    document = json.loads(osctl(project, "state", "pull", "--reveal-urls").stdout)
    del document["segments"]["segment.prod.Active US"]
    pushed_file = tmp_path / "edited.json"
    pushed_file.write_text(json.dumps(document))
    unchanged_file = tmp_path / "unchanged.json"
    unchanged_file.write_text(osctl(project, "state", "pull", "--reveal-urls").stdout)
    unchanged = osctl(project, "state", "push", str(unchanged_file))
    assert unchanged.exit_code == 0 and "nothing written" in unchanged.stderr
    assert backend.read().serial == 3

    same_serial = osctl(project, "state", "push", str(pushed_file))
    assert same_serial.exit_code == 1 and "set its serial to 4" in same_serial.stderr
    assert backend.read() == seeded

    document["serial"] = 4
    pushed_file.write_text(json.dumps(document))
    result = osctl(project, "state", "push", str(pushed_file))
    assert result.exit_code == 0, result.output
    after = backend.read()
    assert after.serial == 4 and "segment.prod.Active US" not in after.segments
    assert after.exports == seeded.exports


def test_push_of_another_lineage_needs_force(project, seeded, backend, tmp_path):
    stranger = sample_state(serial=50)
    pushed_file = tmp_path / "other.json"
    pushed_file.write_text(json.dumps(stranger.to_dict()))
    refused = osctl(project, "state", "push", str(pushed_file))
    assert refused.exit_code == 1 and "belongs to another state" in refused.stderr
    assert backend.read() == seeded
    forced = osctl(project, "state", "push", "--force", str(pushed_file))
    assert forced.exit_code == 0, forced.output
    after = backend.read()
    assert (after.lineage, after.serial) == (stranger.lineage, 4)


def test_push_of_a_masked_pull_drops_what_cannot_be_resumed(project, seeded, backend, tmp_path):
    document = json.loads(osctl(project, "state", "pull").stdout)
    document["serial"] = 4
    pushed_file = tmp_path / "masked.json"
    pushed_file.write_text(json.dumps(document))
    result = osctl(project, "state", "push", str(pushed_file))
    assert result.exit_code == 0, result.output
    assert "export.daily_subscriptions: dropped an in-flight export" in result.stderr
    assert backend.read().exports["daily_subscriptions"].in_flight == []


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"format": 9, "lineage": "x", "serial": 1}', "newer osctl (format 9); upgrade osctl"),
    ('{"format": 1, "serial": 1}', "lineage is missing"),
])
def test_push_of_a_bad_file_is_refused_cleanly(project, seeded, backend, tmp_path, content, message):
    pushed_file = tmp_path / "bad.json"
    pushed_file.write_text(content)
    result = osctl(project, "state", "push", str(pushed_file))
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output
    assert backend.read() == seeded


def test_push_of_a_missing_file(project, seeded):
    result = osctl(project, "state", "push", "no-such-file.json")
    assert result.exit_code == 1 and "cannot read no-such-file.json" in result.stderr


def test_force_unlock_without_a_lock(project):
    result = osctl(project, "force-unlock", "abc")
    assert result.exit_code == 1 and "no lock is held" in result.stderr


def test_a_postgres_config_that_cannot_be_opened_is_a_clear_error(project):
    (project / "osctl.yaml").write_text(CONFIG + "state:\n  backend: postgres\n")
    result = osctl(project, "state", "list")
    assert result.exit_code == 1 and "postgres" in result.stderr and "Traceback" not in result.output
