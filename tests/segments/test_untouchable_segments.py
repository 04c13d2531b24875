"""Read-only and dashboard-only (unsupported_in_api) segments: import refuses them with the
reason, and a plan blocked by one suggests only what can work."""

from tests.segments.conftest import US


def _id(ws, name: str) -> str:
    return ws.all_live()[name]


def test_import_refuses_the_read_only_subscribed_users_segment(ws):
    ws.write({"Subscribed Users": US})
    seg_id = _id(ws, "Subscribed Users")
    result = ws.osctl("import", "segment.prod.Subscribed Users", seg_id)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: segment {seg_id} ('Subscribed Users') is read-only in OneSignal; "
        "osctl cannot manage it: rename yours. To export it, name it in an export as "
        "segment: {name: Subscribed Users, existing: true}\n")
    assert not (ws.dir / ".osctl" / "state.json").exists() or ws.state()["segments"] == {}
    assert "osctl import" not in ws.osctl("plan", "--no-exports").stderr


def test_import_refuses_a_segment_with_dashboard_only_filters(ws):
    ws.write({"Clicked Last Campaign": US})
    seg_id = _id(ws, "Clicked Last Campaign")
    result = ws.osctl("import", "segment.prod.Clicked Last Campaign", seg_id)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: segment {seg_id} ('Clicked Last Campaign') uses filters the API does not support "
        "(unsupported_in_api: message or custom events, made in the dashboard); osctl cannot manage it: "
        "rename yours\n")


def test_plan_blocked_by_a_read_only_segment_does_not_suggest_import(ws):
    ws.write({"Subscribed Users": US})
    seg_id = _id(ws, "Subscribed Users")
    for refresh in ("full", "list"):
        plan = ws.osctl("plan", "--no-exports", "--refresh", refresh)
        assert plan.exit_code == 1
        assert plan.stderr == (
            f"Error: cannot plan: segment.prod.Subscribed Users: a segment named 'Subscribed Users' already "
            f"exists in OneSignal (id {seg_id}) and is read-only in OneSignal; osctl cannot manage it: "
            "rename yours\n")


def test_plan_blocked_by_a_dashboard_only_segment_does_not_suggest_import(ws):
    ws.write({"Clicked Last Campaign": US})
    seg_id = _id(ws, "Clicked Last Campaign")
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 1
    assert plan.stderr == (
        f"Error: cannot plan: segment.prod.Clicked Last Campaign: a segment named 'Clicked Last Campaign' "
        f"already exists in OneSignal (id {seg_id}) and uses filters the API does not support "
        "(unsupported_in_api: message or custom events, made in the dashboard); osctl cannot manage it: "
        "rename yours\n")
