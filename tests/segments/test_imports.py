"""imports: blocks against the emulator: adoption through plan review, never a write request for it."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.segments.conftest import US, Workspace
from tests.segments.test_generate import last_seq, seed_segments, writes

CA = [{"field": "country", "relation": "=", "value": "CA"}]


def actions(ws: Workspace) -> list[tuple[str, str]]:
    result = ws.osctl("plan", "--no-exports", "--format", "json")
    assert result.exit_code == 0, result.output
    return [(c["action"], c["name"]) for c in json.loads(result.stdout)["changes"]]


def test_generate_then_plan_shows_only_imports_and_apply_writes_nothing_to_onesignal(ws):
    made = seed_segments(ws)
    ws.write({})
    assert ws.osctl("generate", "--out", str(ws.dir / "adopted.yaml")).exit_code == 0
    validate = ws.osctl("validate")
    assert validate.exit_code == 0, validate.output
    adopted = set(made) | {"Active Users", "Engaged Users", "Inactive Users"}
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.rstrip().endswith(
        "Plan: 63 to import, 0 to create, 0 to replace, 0 to delete; 0 exports due.")
    assert sorted(actions(ws)) == sorted(("import", name) for name in adopted)
    mark = last_seq(ws)
    applied = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert applied.exit_code == 0, applied.output
    assert writes(ws, mark) == []  # adoption is state only
    live = ws.all_live()
    assert {r["name"]: r["id"] for r in ws.state()["segments"].values()} == {n: live[n] for n in adopted}
    again = ws.osctl("plan", "--no-exports", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.stdout  # the blocks stay, as no-ops
    second = ws.osctl("generate")
    assert second.exit_code == 0 and second.stdout == ""
    assert "Nothing to generate" in second.stderr


def _declare_with_import(ws: Workspace, name: str, filters: list[dict], segment_id: str, extra: str = "") -> None:
    ws.write({name: filters}, extra=f"imports:\n  - {{segment: {json.dumps(name)}, id: {segment_id}}}\n" + extra)


def test_an_import_whose_declaration_differs_is_imported_then_updated_in_place(ws):
    segment_id = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "North", "filters": US}).json()["id"]
    _declare_with_import(ws, "North", CA, segment_id)
    text = (ws.dir / "osctl.yaml").read_text().replace("  prod: {app_id: ", "  prod: {segment_updates: in_place, app_id: ")
    (ws.dir / "osctl.yaml").write_text(text)
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 0, plan.output
    assert "# segment.prod.North will be imported, then updated in place" in plan.stdout
    assert 'filters[0].value: "US" → "CA"' in plan.stdout
    assert "Plan: 1 to import, 0 to create, 1 to update in place, 0 to replace" in plan.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert ws.all_live()["North"] == segment_id  # the id is kept
    assert ws.live_filters(segment_id) == CA
    assert ws.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_an_import_whose_declaration_differs_is_replaced_under_replace(ws):
    segment_id = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "North", "filters": US}).json()["id"]
    _declare_with_import(ws, "North", CA, segment_id)
    plan = ws.osctl("plan", "--no-exports")
    assert "# segment.prod.North will be imported, then replaced" in plan.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    new_id = ws.all_live()["North"]
    assert new_id != segment_id and ws.live_filters(new_id) == CA
    assert ws.state()["segments"]["segment.prod.North"]["id"] == new_id


def test_import_block_errors_name_the_file_and_line_and_touch_nothing(ws):
    live = ws.all_live()
    mine = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "Mine", "filters": US}).json()["id"]
    cases = {
        "an id that does not exist": ("Ghost", US, "00000000-0000-4000-8000-00000000abcd",
                                      "app 'prod' has no segment with that id"),
        "a read-only segment": ("Subscribed Users", US, live["Subscribed Users"], "is read-only in OneSignal"),
        "an unsupported segment": ("Clicked Last Campaign", US, live["Clicked Last Campaign"],
                                   "unsupported_in_api"),
        "another name": ("Not Mine", US, mine, "it is named 'Mine' in OneSignal, not 'Not Mine'"),
    }
    for label, (name, filters, segment_id, words) in cases.items():
        _declare_with_import(ws, name, filters, segment_id)
        mark = last_seq(ws)
        plan = ws.osctl("plan", "--no-exports")
        assert plan.exit_code == 1, label
        assert f"{ws.dir / 'osctl.yaml'}:8: segment.prod.{name}: the imports: block cannot adopt segment " \
               f"{segment_id}: " in plan.stderr, (label, plan.stderr)
        assert words in plan.stderr, (label, plan.stderr)
        assert writes(ws, mark) == [] and not (ws.dir / ".osctl" / "state.json").exists()


def test_a_segment_managed_under_another_address_cannot_be_imported_again(ws):
    ws.write({"Mine": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    mine = ws.all_live()["Mine"]
    ws.write({"Mine": US, "Mine again": US},
             extra=f"imports:\n  - {{segment: Mine again, id: {mine}}}\n")
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 1
    assert f"the imports: block cannot adopt segment {mine}: it is already managed as segment.prod.Mine" \
        in plan.stderr


def test_the_in_the_way_error_prints_the_import_block_to_paste(ws):
    segment_id = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "Loyal: VIP", "filters": US}).json()["id"]
    ws.write({"Loyal: VIP": US})
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 1
    block = f'{{segment: "Loyal: VIP", app: prod, id: {segment_id}}}'
    assert f"add to it: imports: [{block}]" in plan.stderr
    # pasted as it is printed, the block is valid config and the plan imports the segment
    ws.write({"Loyal: VIP": US}, extra=f"imports: [{block}]\n")
    assert actions(ws) == [("import", "Loyal: VIP")]


_NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
                 max_size=30).map(lambda s: " ".join(s.split())).filter(bool)
_FILTERS = st.sampled_from([
    [{"field": "tag", "key": "plan", "relation": "=", "value": "gold"}],
    [{"field": "session_count", "relation": ">", "value": "5"}, {"operator": "OR"},
     {"field": "language", "relation": "in_array", "value": "de,fr"}],
    [{"field": "location", "radius": "2500", "lat": "52.5", "long": "13.4"}],
    [{"field": "last_session", "relation": "<", "hours_ago": "1.5"}],
    [{"field": "app_version", "relation": "=", "value": "2.10"}],
])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.dictionaries(_NAMES, _FILTERS, min_size=1, max_size=4))
def test_any_live_segment_generates_into_imports_only(ws, segments):
    ws.emulator.reset()
    ws.seeded = frozenset(ws.all_live().values())
    for name, filters in segments.items():
        made = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": name, "filters": filters})
        if made.status_code != 201:  # a name the emulator refuses (as OneSignal would) is not a live segment
            continue
    ws.write({})
    target = ws.dir / "adopted.yaml"
    target.unlink(missing_ok=True)
    assert ws.osctl("generate", "--out", str(target)).exit_code == 0
    assert yaml.safe_load(target.read_text())["imports"]
    assert {action for action, _ in actions(ws)} == {"import"}


def test_a_saved_import_plan_is_stale_once_the_segment_is_deleted_in_the_dashboard(ws):
    segment_id = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "North", "filters": US}).json()["id"]
    _declare_with_import(ws, "North", US, segment_id)
    saved = ws.dir / "plan.json"
    assert ws.osctl("plan", "--no-exports", "--out", str(saved)).exit_code == 0
    assert ws.api("DELETE", f"/apps/{ws.app_id}/segments/{segment_id}").status_code == 200  # a competing edit
    result = ws.osctl("apply", str(saved))
    assert result.exit_code == 1
    assert "saved plan is stale" in result.stderr
    assert f"segment.prod.North: segment {segment_id}, which the plan would import, is no longer live" \
        in result.stderr
    assert not (ws.dir / ".osctl" / "state.json").exists()  # nothing was recorded


def test_import_help_points_to_import_blocks():
    from tests.helpers import run_osctl

    result = run_osctl("import", "--help")
    assert result.exit_code == 0
    words = " ".join(result.stdout.split())  # click rewraps the help text
    assert "For adoption through review, prefer an imports: block in the configuration" in words
