import os
import subprocess
import sys


def test_demo_walks_through_plan_apply_and_a_replace():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONESIGNAL_", "OSCTL_"))}
    result = subprocess.run([sys.executable, "-m", "osctl", "demo"], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in ("Step 1: validate", "Step 3: apply", "Step 6: plan the edit"):
        assert step in out
    assert "Plan: 3 to create" in out
    assert "Apply complete! Segments: 3 created" in out
    assert "Exports: 2 succeeded, 0 failed." in out
    assert "No changes." in out
    assert "forces replacement: new segment id" in out
    assert "Step 8: update in place" in out
    assert 'segment.demo.Active US or VIP will be updated in place' in out
    assert "Plan: 0 to create, 1 to update in place, 0 to replace, 0 to delete" in out
    assert "(unchanged)." in out
    assert "Traceback" not in result.stderr
