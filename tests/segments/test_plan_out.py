"""`plan --out FILE` where FILE cannot be written: one clear error, exit 1, nothing half-written."""

from tests.osctl_process import run_osctl_process
from tests.segments.conftest import CA, US


def test_missing_directory_is_named_and_not_made(ws):
    ws.write({"A": US})
    out = ws.dir / "plans" / "plan.json"
    result = ws.osctl("plan", "--no-exports", "--out", str(out))
    assert result.exit_code == 1
    assert f"Error: cannot save the plan to {out}: {out.parent} does not exist; nothing was saved" \
        in result.stderr
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert not out.parent.exists()


def test_a_file_in_the_way_of_the_directory_is_an_error(ws):
    ws.write({"A": US})
    (ws.dir / "plans").write_text("not a directory\n")
    out = ws.dir / "plans" / "plan.json"
    result = ws.osctl("plan", "--no-exports", "--out", str(out))
    assert result.exit_code == 1
    assert f"Error: cannot save the plan to {out}: {out.parent} is not a directory; nothing was saved" \
        in result.stderr


def test_full_disk_keeps_the_previous_plan_whole(ws):
    """The disk fills up while the plan is written (RLIMIT_FSIZE in a child process: EFBIG)."""
    ws.write({"A": US})
    out = ws.dir / "plan.json"
    assert ws.osctl("plan", "--no-exports", "--out", str(out)).exit_code == 0
    before = out.read_bytes()
    ws.write({"A": US, "B": CA})
    result = run_osctl_process("-c", str(ws.dir), "plan", "--no-exports", "--out", str(out),
                               env=ws.emulator.env(), file_size_limit=len(before) // 2)
    assert result.exit_code == 1, result.output
    assert f"Error: cannot save the plan to {out}: File too large; nothing was saved" in result.stderr
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert out.read_bytes() == before
    assert sorted(p.name for p in ws.dir.iterdir()) == ["osctl.yaml", "plan.json"]
