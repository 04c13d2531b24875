"""Every osctl command a message suggests can be pasted into a shell as printed."""

import shlex

from tests.segments.conftest import US


def _suggested(text: str, after: str, until: str = ", or ") -> list[str]:
    """The shell words of the command printed after `after` on its line."""
    line = next(ln for ln in text.splitlines() if after in ln)
    return shlex.split(line.split(after, 1)[1].split(until)[0])


def test_import_hint_for_a_name_with_spaces_is_quoted(ws):
    seg_id = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "Loyal Users", "filters": US}).json()["id"]
    ws.write({"Loyal Users": US})
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 1
    assert (f"(reviewed in the next plan), or run: osctl import 'segment.prod.Loyal Users' {seg_id} "
            "(then plan again)") in plan.stderr
    words = _suggested(plan.stderr, "(reviewed in the next plan), or run: ", until=" (then plan again)")
    assert words == ["osctl", "import", "segment.prod.Loyal Users", seg_id]
    assert ws.osctl(*words[1:]).exit_code == 0


def test_state_rm_hint_of_an_already_managed_segment_is_quoted(ws):
    ws.write({"Loyal Users": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    again = ws.osctl("import", "segment.prod.Loyal Users", ws.live()["Loyal Users"])
    assert again.exit_code == 1
    assert "is already managed" in again.stderr
    assert "first run: osctl state rm 'segment.prod.Loyal Users'" in again.stderr


def test_saved_plan_hint_quotes_a_path_with_spaces(ws):
    ws.write({"A": US})
    out = ws.dir / "my plans" / "next plan.json"
    out.parent.mkdir()
    plan = ws.osctl("plan", "--no-exports", "--out", str(out))
    assert plan.exit_code == 0, plan.output
    assert f"Apply exactly this plan with: osctl apply '{out}'" in plan.stderr


def test_state_rm_hint_for_a_removed_app_is_quoted(ws):
    ws.write({"Loyal Users": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    (ws.dir / "osctl.yaml").write_text(
        f"osctl: 1\napps:\n  other: {{app_id: {ws.app_id}}}\n")
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 1
    assert "drop them from state with: osctl state rm 'segment.prod.Loyal Users'" in plan.stderr


def test_target_that_matches_nothing_is_an_error_with_the_closest_addresses(ws):
    ws.write({"Loyal Users": US, "VIPs": US})
    typo = ws.osctl("plan", "--no-exports", "--target", "segment.prod.loyal users")
    assert typo.exit_code == 1
    assert typo.stdout == ""
    assert typo.stderr == (
        "Error: --target 'segment.prod.loyal users' matches nothing in the configuration or state; "
        "closest: 'segment.prod.Loyal Users' (addresses are segment.APP.NAME, segment.APP, user.APP.EXTERNAL_ID, "
        "user.APP or export.NAME; names are case-sensitive)\n")
    wrong_app = ws.osctl("apply", "--auto-approve", "--no-exports", "--exclude", "segment.production")
    assert wrong_app.exit_code == 1
    assert wrong_app.stderr.startswith("Error: --exclude segment.production matches nothing in the "
                                       "configuration or state; closest: segment.prod, segment.prod.VIPs, "
                                       "'segment.prod.Loyal Users' (addresses are")
    assert ws.live() == {}, "nothing was applied"


def test_target_of_a_segment_only_in_state_or_a_whole_app_is_fine(ws):
    ws.write({"Loyal Users": US, "VIPs": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"VIPs": US})
    gone = ws.osctl("plan", "--no-exports", "--target", "segment.prod.Loyal Users")
    assert gone.exit_code == 0, gone.output
    assert "segment.prod.Loyal Users will be deleted" in gone.stdout
    assert ws.osctl("plan", "--no-exports", "--target", "segment.prod").exit_code == 0
    nothing_close = ws.osctl("plan", "--no-exports", "--target", "export.zzz")
    assert nothing_close.exit_code == 1
    assert nothing_close.stderr == (
        "Error: --target export.zzz matches nothing in the configuration or state "
        "(addresses are segment.APP.NAME, segment.APP, user.APP.EXTERNAL_ID, user.APP or export.NAME; "
        "names are case-sensitive)\n")
