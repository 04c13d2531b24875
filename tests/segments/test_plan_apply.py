"""plan and apply against the emulator over HTTP: the table in docs/design.md#planning-a-segment as a user meets it."""

from tests.segments.conftest import CA, US, VIP


def test_create_then_nothing_then_replace_then_delete(ws):
    ws.write({"US users": US, "VIPs": VIP})
    plan = ws.osctl("plan", "--no-exports", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "Plan: 2 to create, 0 to replace, 0 to delete" in plan.stdout

    applied = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert applied.exit_code == 0, applied.output
    live = ws.live()
    assert set(live) == {"US users", "VIPs"}
    records = ws.state()["segments"]
    assert records["segment.prod.US users"]["id"] == live["US users"]

    again = ws.osctl("plan", "--no-exports", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.stdout

    ws.write({"US users": CA, "VIPs": VIP})
    replace = ws.osctl("plan", "--no-exports")
    assert "-/+" in replace.stdout and "forces replacement: new segment id" in replace.stdout
    assert 'filters[0].value: "US" → "CA"' in replace.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    new_live = ws.live()
    assert new_live["US users"] != live["US users"], "a replace gives the segment a new id"
    assert ws.live_filters(new_live["US users"])[0]["value"] == "CA"

    ws.write({"VIPs": VIP})
    delete = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert delete.exit_code == 0, delete.output
    assert set(ws.live()) == {"VIPs"}
    assert list(ws.state()["segments"]) == ["segment.prod.VIPs"]


def test_filters_edited_outside_osctl_are_replaced(ws):
    ws.write({"US users": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    seg_id = ws.live()["US users"]
    edited = ws.api("PATCH", f"/apps/{ws.app_id}/segments/{seg_id}", json={"name": "US users", "filters": CA})
    assert edited.status_code == 200, edited.text
    plan = ws.osctl("plan", "--no-exports")
    assert "edited outside osctl" in plan.stdout
    assert 'filters[0].value: "CA" → "US"' in plan.stdout
    # --refresh list does not view filters, so it cannot see this drift
    assert "No changes" in ws.osctl("plan", "--no-exports", "--refresh", "list").stdout


def test_deleted_outside_is_created_again_and_undeclared_gone_is_forgotten(ws):
    ws.write({"US users": US, "VIPs": VIP})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    for seg_id in ws.live().values():
        assert ws.api("DELETE", f"/apps/{ws.app_id}/segments/{seg_id}").status_code == 200
    ws.write({"US users": US})
    plan = ws.osctl("plan", "--no-exports")
    assert "deleted outside osctl" in plan.stdout
    assert "segment.prod.VIPs will be forgotten (state only)" in plan.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert set(ws.live()) == {"US users"}
    assert list(ws.state()["segments"]) == ["segment.prod.US users"]


def test_unmanaged_segment_in_the_way_then_import(ws):
    made = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "US users", "filters": US})
    seg_id = made.json()["id"]
    ws.write({"US users": US})
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 1
    assert f"osctl import 'segment.prod.US users' {seg_id}" in plan.stderr
    imported = ws.osctl("import", "segment.prod.US users", seg_id)
    assert imported.exit_code == 0, imported.output
    assert "match the configuration" in imported.stdout
    assert "No changes" in ws.osctl("plan", "--no-exports").stdout


def test_import_of_different_filters_plans_a_replace(ws):
    seg_id = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "US users", "filters": CA}).json()["id"]
    ws.write({"US users": US})
    assert ws.osctl("import", "segment.prod.US users", seg_id).exit_code == 0
    plan = ws.osctl("plan", "--no-exports")
    assert "-/+" in plan.stdout and seg_id in plan.stdout


def test_unmanaged_segments_are_left_alone(ws):
    ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "Theirs", "filters": VIP})
    ws.write({"US users": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert set(ws.live()) == {"Theirs"}


def test_apply_refuses_without_auto_approve_off_a_terminal(ws):
    ws.write({"US users": US})
    result = ws.osctl("apply", "--no-exports")
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert ws.live() == {}


def test_target_and_exclude(ws):
    ws.write({"A": US, "B": VIP})
    assert ws.osctl("apply", "--auto-approve", "--no-exports", "--target", "segment.prod.A").exit_code == 0
    assert set(ws.live()) == {"A"}
    plan = ws.osctl("plan", "--no-exports", "--exclude", "segment.prod.B", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def test_prevent_destroy_cannot_be_overridden(ws):
    ws.write({"A": {"filters": US, "prevent_destroy": True}})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"A": {"filters": CA, "prevent_destroy": True}})
    plan = ws.osctl("plan", "--no-exports", "--out", str(ws.dir / "plan.json"))
    assert plan.exit_code == 1 and "prevent_destroy" in plan.stderr
    assert "-/+" in plan.stdout, "the plan is still shown, so the reviewer sees why it fails"
    saved = ws.osctl("apply", str(ws.dir / "plan.json"))
    assert saved.exit_code == 1 and "prevent_destroy" in saved.stderr
    refused = ws.osctl("apply", "--auto-approve", "--no-exports", "--allow-mass-destroy")
    assert refused.exit_code == 1
    assert "prevent_destroy" in refused.stderr
    assert ws.live_filters(ws.live()["A"])[0]["value"] == "US"


def test_mass_destroy_needs_the_flag(ws):
    ws.write({f"S{i}": US for i in range(10)})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({f"S{i}": US for i in range(6)})
    plan = ws.osctl("plan", "--no-exports")
    assert "--allow-mass-destroy" in plan.stdout
    refused = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert refused.exit_code == 1 and "--allow-mass-destroy" in refused.stderr
    assert len(ws.live()) == 10
    allowed = ws.osctl("apply", "--auto-approve", "--no-exports", "--allow-mass-destroy")
    assert allowed.exit_code == 0, allowed.output
    assert len(ws.live()) == 6


def test_partial_failure_reports_what_succeeded_failed_and_why(ws):
    ws.write({"A": US, "B": VIP, "C": CA})
    out = ws.dir / "plan.json"
    assert ws.osctl("plan", "--no-exports", "--out", str(out)).exit_code == 0
    # someone creates an unrelated "B" in the dashboard before the reviewed plan is applied
    ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "B", "filters": CA})
    result = ws.osctl("apply", str(out))
    assert result.exit_code == 1
    assert "Apply incomplete: 2 succeeded, 1 failed" in result.stdout
    assert "FAILED  segment.prod.B" in result.stdout and "taken" in result.stdout
    assert set(ws.state()["segments"]) >= {"segment.prod.A", "segment.prod.C"}
    assert ws.state()["segments"]["segment.prod.A"]["id"] == ws.live()["A"]


def test_verbose_reports_retries_without_the_key(ws):
    ws.write({"A": US})
    ws.emulator.set_faults([{"kind": "503_html", "path": "/segments", "method": "GET", "times": 1}])
    result = ws.osctl("plan", "--no-exports", "-v")
    assert result.exit_code == 0, result.output
    assert "retry:" in result.stderr and "503" in result.stderr


def test_export_whose_segment_is_not_created_yet_waits_when_targeted(ws):
    extra = ("exports:\n  - name: nightly\n    kind: subscriptions\n    schedule: '0 3 * * *'\n"
             "    subscriptions: {segment: A}\n")
    ws.write({"A": US}, extra=extra)
    plan = ws.osctl("plan", "--target", "export.nightly", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "export.nightly waits: its segment segment.prod.A" in plan.stdout
    applied = ws.osctl("apply", "--auto-approve", "--target", "export.nightly")
    assert applied.exit_code == 0, applied.output
    full = ws.osctl("apply", "--auto-approve")
    assert full.exit_code == 0, full.output
    assert "Exports: 1 succeeded, 0 failed." in full.stdout
