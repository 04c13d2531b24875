"""Saved plans apply exactly what was reviewed, or refuse when they are stale."""

import json
import shutil

from tests.segments.conftest import CA, US, VIP


def _save(ws, name="plan.json"):
    path = ws.dir / name
    result = ws.osctl("plan", "--no-exports", "--out", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_fresh_saved_plan_applies_and_show_renders_it(ws):
    ws.write({"A": US})
    path = _save(ws)
    assert ws.key not in path.read_text()
    shown = ws.osctl("show", str(path))
    assert "segment.prod.A will be created" in shown.stdout
    as_json = json.loads(ws.osctl("show", str(path), "--format", "json").stdout)
    assert as_json["summary"]["create"] == 1
    applied = ws.osctl("apply", str(path))
    assert applied.exit_code == 0, applied.output
    assert set(ws.live()) == {"A"}


def test_plan_made_without_state_cannot_be_applied_twice(ws):
    ws.write({"A": US})
    path = _save(ws)
    copy = ws.dir / "copy.json"
    shutil.copy(path, copy)
    assert ws.osctl("apply", str(path)).exit_code == 0
    second = ws.osctl("apply", str(copy))
    assert second.exit_code == 1
    assert "saved plan is stale" in second.stderr and "before any state existed" in second.stderr
    assert list(ws.live()) == ["A"], "no duplicate segment"


def test_stale_when_state_serial_moved(ws):
    ws.write({"A": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"A": US, "B": VIP})
    path = _save(ws)
    assert ws.osctl("apply", "--auto-approve", "--no-exports", "--target", "segment.prod.B").exit_code == 0
    result = ws.osctl("apply", str(path))
    assert result.exit_code == 1 and "state moved on" in result.stderr


def test_stale_when_state_has_another_lineage(ws):
    ws.write({"A": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"A": US, "B": VIP})
    path = _save(ws)
    state = ws.dir / ".osctl" / "state.json"
    document = json.loads(state.read_text())
    document["lineage"] = "00000000-0000-4000-8000-000000000000"
    state.write_text(json.dumps(document))
    result = ws.osctl("apply", str(path))
    assert result.exit_code == 1 and "another lineage" in result.stderr


def test_stale_when_a_segment_to_replace_is_no_longer_live(ws):
    ws.write({"A": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"A": CA})
    path = _save(ws)
    seg_id = ws.live()["A"]
    ws.api("DELETE", f"/apps/{ws.app_id}/segments/{seg_id}")
    result = ws.osctl("apply", str(path))
    assert result.exit_code == 1
    assert f"segment {seg_id}" in result.stderr and "no longer live" in result.stderr


def test_stale_when_config_changed(ws):
    ws.write({"A": US})
    path = _save(ws)
    ws.write({"A": CA})
    result = ws.osctl("apply", str(path))
    assert result.exit_code == 1 and "configuration changed" in result.stderr


def test_not_a_plan_file(ws):
    ws.write({"A": US})
    bogus = ws.dir / "bogus.json"
    bogus.write_text("{not json")
    result = ws.osctl("apply", str(bogus))
    assert result.exit_code == 1 and "not a saved plan" in result.stderr
    assert "Traceback" not in result.output
