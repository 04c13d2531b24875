"""Segment identity against the emulator over HTTP: osctl never takes, changes or deletes a
segment it did not create or import, and it sees (and undoes) a rename made outside it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from osctl.filters import filters_digest
from tests.segments.conftest import CA, US

SPRING = "Spring campaign"
ADDRESS = f"segment.prod.{SPRING}"


def _create_foreign(ws, name: str, filters: list[dict]) -> str:
    made = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": name, "filters": filters})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _assert_in_the_way(result, foreign_id: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"{ADDRESS}: unmanaged segment in the way" in result.stderr
    assert f"run: osctl import 'segment.prod.Spring campaign' {foreign_id} (then plan again)" in result.stderr
    assert "Traceback" not in result.output


def _assert_untouched(ws, foreign_id: str, filters: list[dict]) -> None:
    assert ws.live()[SPRING] == foreign_id
    assert ws.live_filters(foreign_id) == filters


def test_saved_plan_refused_by_a_dashboard_segment_never_adopts_or_deletes_it(ws):
    # the first data-loss path of the issue: plan, someone takes the name, apply the saved plan
    ws.write({SPRING: US})
    saved = ws.dir / "p.json"
    assert ws.osctl("plan", "--no-exports", "--out", str(saved)).exit_code == 0
    foreign = _create_foreign(ws, SPRING, CA)

    applied = ws.osctl("apply", str(saved))
    assert applied.exit_code == 1
    assert "FAILED  segment.prod.Spring campaign" in applied.stdout
    assert "the create was refused because the name is taken" in applied.stdout
    assert ADDRESS not in ws.state()["segments"], "a refused create leaves no intent behind"

    _assert_in_the_way(ws.osctl("plan", "--no-exports"), foreign)
    _assert_in_the_way(ws.osctl("apply", "--auto-approve", "--no-exports"), foreign)
    _assert_untouched(ws, foreign, CA)


def test_a_managed_segment_deleted_outside_whose_name_is_taken_again_is_left_alone(ws):
    # the second path: deleted in the dashboard, and another segment created with that name
    ws.write({SPRING: US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ours = ws.live()[SPRING]
    saved = ws.dir / "p.json"
    assert ws.api("DELETE", f"/apps/{ws.app_id}/segments/{ours}").status_code == 200
    planned = ws.osctl("plan", "--no-exports", "--out", str(saved))
    assert "deleted outside osctl" in planned.stdout
    foreign = _create_foreign(ws, SPRING, CA)

    # planned now, the name is seen taken before anything is sent
    plan = ws.osctl("plan", "--no-exports")
    _assert_in_the_way(plan, foreign)
    assert f"the segment osctl managed under that name (id {ours}) was deleted outside osctl" in plan.stderr

    # the plan saved before the name was taken: its create is refused, and nothing follows from it
    applied = ws.osctl("apply", str(saved))
    assert applied.exit_code == 1 and "the name is taken" in applied.stdout
    assert ADDRESS not in ws.state()["segments"]
    _assert_in_the_way(ws.osctl("apply", "--auto-approve", "--no-exports"), foreign)
    _assert_untouched(ws, foreign, CA)


def _pending_state(ws, recorded_at: str) -> None:
    """State as a killed apply leaves it: the create's intent recorded, its answer never seen."""
    path = ws.dir / ".osctl" / "state.json"
    path.parent.mkdir(exist_ok=True)
    document = {"format": 1, "lineage": str(uuid.uuid4()), "serial": 3, "osctl_version": "0.1.0", "exports": {},
                "segments": {ADDRESS: {
                    "app": "prod", "app_id": ws.app_id, "name": SPRING, "id": None, "filters": US,
                    "digest": filters_digest(US), "description": None, "created_at": recorded_at,
                    "status": "pending_create"}}}
    path.write_text(json.dumps(document))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_an_unfinished_create_never_adopts_a_segment_with_other_filters(ws):
    ws.write({SPRING: US})
    _pending_state(ws, _iso(datetime.now(UTC) - timedelta(minutes=5)))
    foreign = _create_foreign(ws, SPRING, CA)
    plan = ws.osctl("plan", "--no-exports")
    _assert_in_the_way(plan, foreign)
    assert "an earlier create by osctl did not finish" in plan.stderr
    assert ADDRESS not in ws.state()["segments"], "the intent is dropped"
    _assert_in_the_way(ws.osctl("apply", "--auto-approve", "--no-exports"), foreign)
    ws.write({})  # no longer declared: still nothing to delete
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    _assert_untouched(ws, foreign, CA)


def test_an_unfinished_create_never_adopts_a_segment_made_before_it(ws):
    foreign = _create_foreign(ws, SPRING, US)  # exactly the intended filters, but older
    ws.write({SPRING: US})
    _pending_state(ws, _iso(datetime.now(UTC) + timedelta(minutes=5)))
    _assert_in_the_way(ws.osctl("apply", "--auto-approve", "--no-exports"), foreign)
    assert ADDRESS not in ws.state()["segments"]
    _assert_untouched(ws, foreign, US)


def test_an_unfinished_create_adopts_the_segment_it_made(ws):
    ws.write({SPRING: US})
    _pending_state(ws, _iso(datetime.now(UTC) - timedelta(seconds=30)))
    made = _create_foreign(ws, SPRING, US)  # what the lost create did
    applied = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert applied.exit_code == 0, applied.output
    assert f"adopted id={made}" in applied.stdout
    assert ws.state()["segments"][ADDRESS]["id"] == made


def _rename_outside(ws, segment_id: str, name: str, filters: list[dict]) -> None:
    renamed = ws.api("PATCH", f"/apps/{ws.app_id}/segments/{segment_id}", json={"name": name, "filters": filters})
    assert renamed.status_code == 200, renamed.text


def test_a_rename_outside_osctl_is_drift_and_apply_restores_the_name(ws):
    ws.write({SPRING: US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    _rename_outside(ws, ws.live()[SPRING], "Spring campaign (old)", US)
    for refresh in ("full", "list"):
        plan = ws.osctl("plan", "--no-exports", "--detailed-exitcode", "--refresh", refresh)
        assert plan.exit_code == 2, plan.output
        assert "because the segment was renamed outside osctl (drift)" in plan.stdout
        assert 'name: "Spring campaign (old)" → "Spring campaign"' in plan.stdout
    applied = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert applied.exit_code == 0, applied.output
    assert set(ws.live()) == {SPRING}
    assert ws.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_deleting_a_segment_renamed_outside_shows_its_live_name(ws):
    ws.write({SPRING: US, "Other": CA})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    seg_id = ws.live()[SPRING]
    _rename_outside(ws, seg_id, "Spring (archived)", US)
    ws.write({"Other": CA})
    plan = ws.osctl("plan", "--no-exports")
    assert '- segment "Spring campaign" (named "Spring (archived)" in OneSignal) (app prod) {' in plan.stdout
    markdown = ws.osctl("plan", "--no-exports", "--format", "markdown")
    assert 'segment.prod.Spring campaign (named "Spring (archived)" in OneSignal)' in markdown.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert set(ws.live()) == {"Other"}


def test_renamed_from_renames_in_place_keeping_the_id(ws):
    ws.write({SPRING: US}, updates="in_place")
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    seg_id = ws.live()[SPRING]
    ws.write({"Spring buyers": {"filters": US, "renamed_from": SPRING}}, updates="in_place")
    plan = ws.osctl("plan", "--no-exports")
    assert "segment.prod.Spring buyers will be updated in place" in plan.stdout
    assert "because renamed in the configuration (renamed_from)" in plan.stdout
    assert f"the same segment as {ADDRESS} in state (renamed_from)" in plan.stdout
    assert "will be deleted" not in plan.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert ws.live() == {"Spring buyers": seg_id}
    assert list(ws.state()["segments"]) == ["segment.prod.Spring buyers"]
    assert ws.state()["segments"]["segment.prod.Spring buyers"]["id"] == seg_id
    again = ws.osctl("plan", "--no-exports", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.stdout  # renamed_from stays harmlessly


def test_renamed_from_under_replace_is_one_replace(ws):
    ws.write({SPRING: US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    old_id = ws.live()[SPRING]
    ws.write({"Spring buyers": {"filters": US, "renamed_from": [SPRING]}})
    plan = ws.osctl("plan", "--no-exports")
    assert "Plan: 0 to create, 1 to replace, 0 to delete" in plan.stdout
    assert 'name: "Spring campaign" → "Spring buyers"' in plan.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    live = ws.live()
    assert set(live) == {"Spring buyers"} and live["Spring buyers"] != old_id
    assert list(ws.state()["segments"]) == ["segment.prod.Spring buyers"]


def test_state_mv_moves_the_address_and_the_next_plan_renames(ws):
    ws.write({SPRING: US}, updates="in_place")
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    seg_id = ws.live()[SPRING]
    ws.write({"Spring buyers": US}, updates="in_place")
    moved = ws.osctl("state", "mv", ADDRESS, "segment.prod.Spring buyers")
    assert moved.exit_code == 0, moved.output
    assert moved.stdout.startswith(f"Moved {ADDRESS} to segment.prod.Spring buyers (state only")
    assert ws.live() == {SPRING: seg_id}, "state mv does not touch OneSignal"
    plan = ws.osctl("plan", "--no-exports")
    assert 'name: "Spring campaign" → "Spring buyers"' in plan.stdout and "will be updated in place" in plan.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert ws.live() == {"Spring buyers": seg_id}
    missing = ws.osctl("state", "mv", ADDRESS, "segment.prod.X")
    assert missing.exit_code == 1 and f"not in state: {ADDRESS}" in missing.stderr
