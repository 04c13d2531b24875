"""Done in OneSignal, then the state write fails: apply says what really happened.

The failure is real: the apply runs in a child process whose file size limit
(RLIMIT_FSIZE) admits the lock file but not a state document with a segment in
it, so writing state fails with EFBIG, as on a full disk.
"""

import json

from osctl.state.backend import LockInfo
from tests.osctl_process import run_osctl_process
from tests.segments.conftest import CA, US

# a lock file (about 150 bytes) fits; a state document holding a segment (about 480) does not
FILE_SIZE_LIMIT = 400


def _apply_on_a_full_disk(ws):
    assert len(json.dumps(LockInfo.for_this_process("apply").to_dict())) < FILE_SIZE_LIMIT
    return run_osctl_process("-c", str(ws.dir), "apply", "--auto-approve", "--no-exports",
                             env=ws.emulator.env(), file_size_limit=FILE_SIZE_LIMIT)


def test_a_delete_whose_state_write_fails_says_it_was_deleted(ws):
    ws.write({"A": US, "B": CA})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    a_id = ws.live()["A"]
    ws.write({"B": CA})
    result = _apply_on_a_full_disk(ws)
    state_path = ws.dir / ".osctl" / "state.json"
    said = (f"deleted in OneSignal (id={a_id}), but recording it in state failed: state could not be written: "
            f"cannot write {state_path}: File too large; the next plan will forget it")
    assert result.exit_code == 1, result.output
    assert f"segment.prod.A: {said}\n" in result.stderr
    assert "Apply incomplete: 0 succeeded, 1 failed, 0 not attempted." in result.stdout
    assert f"  FAILED  segment.prod.A: {said}\n" in result.stdout
    assert "delete failed" not in result.output and "internal error" not in result.output
    assert set(ws.live()) == {"B"}
    assert not (ws.dir / ".osctl" / "state.json.lock").exists()

    plan = ws.osctl("plan", "--no-exports")
    assert "segment.prod.A will be forgotten (state only)" in plan.stdout, plan.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert sorted(ws.state()["segments"]) == ["segment.prod.B"]
    assert ws.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_a_replace_whose_state_write_fails_says_the_old_segment_is_gone(ws):
    ws.write({"A": US})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    old_id = ws.live()["A"]
    ws.write({"A": CA})
    result = _apply_on_a_full_disk(ws)
    state_path = ws.dir / ".osctl" / "state.json"
    said = (f"deleted in OneSignal (id={old_id}), but recording it in state failed: state could not be written: "
            f"cannot write {state_path}: File too large; the old segment is already gone from OneSignal "
            f"and the next apply will create it")
    assert result.exit_code == 1, result.output
    assert f"segment.prod.A: {said}\n" in result.stderr
    assert "Apply incomplete: 0 succeeded, 1 failed, 0 not attempted." in result.stdout
    assert f"  FAILED  segment.prod.A: {said}\n" in result.stdout
    assert "skipped" not in result.stdout and "delete failed" not in result.output
    assert "State could not record all of it (see above); run 'osctl plan' to see what remains." in result.stdout
    assert ws.live() == {}

    plan = ws.osctl("plan", "--no-exports")
    assert "segment.prod.A will be created" in plan.stdout, plan.stdout
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert list(ws.live()) == ["A"] and ws.live_filters(ws.live()["A"])[0]["value"] == "CA"
    assert ws.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_creates_whose_intent_cannot_be_recorded_are_not_sent(ws):
    ws.write({"A": US, "B": CA})
    result = _apply_on_a_full_disk(ws)
    assert result.exit_code == 1, result.output
    assert "Apply incomplete: 0 succeeded, 0 failed, 2 not attempted." in result.stdout
    assert (f"  skipped segment.prod.A: not created: recording the intent in state failed: state could not be "
            f"written: cannot write {ws.dir / '.osctl' / 'state.json'}: File too large\n") in result.stdout
    assert "internal error" not in result.output
    assert ws.live() == {}
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    assert set(ws.live()) == {"A", "B"}


NIGHTLY = """\
exports:
  - name: nightly
    app: prod
    kind: subscriptions
    schedule: "0 3 * * *"
    destination: out/{export}/{date}.csv.gz
"""


def test_due_exports_do_not_run_when_state_cannot_be_written(ws):
    ws.write({"A": US, "B": CA}, extra=NIGHTLY)
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"B": CA}, extra=NIGHTLY)
    result = run_osctl_process("-c", str(ws.dir), "apply", "--auto-approve", env=ws.emulator.env(),
                               file_size_limit=FILE_SIZE_LIMIT)
    assert result.exit_code == 1, result.output
    assert "  FAILED  segment.prod.A: deleted in OneSignal" in result.stdout
    assert result.stderr.endswith(f"Error: state could not be written: cannot write {ws.dir / '.osctl' / 'state.json'}: "
                                  f"File too large; due exports were not run\n"), result.stderr
    assert "export.nightly: running" not in result.output
    assert not (ws.dir / "out").exists()
    assert not (ws.dir / ".osctl" / "state.json.lock").exists()
    # the next apply forgets A and runs the export
    again = ws.osctl("apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert "Exports: 1 succeeded, 0 failed." in again.stdout
