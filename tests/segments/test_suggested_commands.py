"""Every osctl command a message suggests can be pasted into a shell as printed."""

import shlex

from tests.segments.conftest import US


def _suggested(text: str, after: str) -> list[str]:
    """The shell words of the command printed after `after` on its line."""
    line = next(ln for ln in text.splitlines() if after in ln)
    return shlex.split(line.split(after, 1)[1].split(", or ")[0])


def test_import_hint_for_a_name_with_spaces_is_quoted(ws):
    seg_id = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": "Loyal Users", "filters": US}).json()["id"]
    ws.write({"Loyal Users": US})
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 1
    assert f"start managing it with: osctl import 'segment.prod.Loyal Users' {seg_id}, or rename yours" \
        in plan.stderr
    words = _suggested(plan.stderr, "start managing it with: ")
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
