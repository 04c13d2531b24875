"""A bug during apply: the operation fails with one line, the others go on, and the
traceback is there with -v (the hint without), as at the CLI boundary."""

from tests.segments.conftest import US, VIP


def _explode(*args, **kwargs):
    raise RuntimeError("simulated bug")


def test_a_bug_in_one_operation_is_one_line_with_the_v_hint(ws, monkeypatch):
    ws.write({"US users": US, "VIPs": VIP})
    monkeypatch.setattr("osctl.onesignal.client.OneSignalClient.create_segment", _explode)
    quiet = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert quiet.exit_code == 1
    assert "segment.prod.US users: create failed: internal error: RuntimeError: simulated bug" in quiet.stderr
    assert "2 internal errors above: rerun with -v for the traceback." in quiet.stderr
    assert "Traceback" not in quiet.output
    verbose = ws.osctl("apply", "--auto-approve", "--no-exports", "-v")
    assert verbose.exit_code == 1
    assert verbose.stderr.count("Traceback (most recent call last)") == 2
    assert "rerun with -v" not in verbose.stderr
