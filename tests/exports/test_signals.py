"""SIGINT and SIGTERM during a real `osctl exports run`: the export waiting for its file is
abandoned with its request kept in state, the next one is not started, the lock is
released, and the next run resumes without a second export request."""

from __future__ import annotations

import signal
import time

import pytest

from osctl.state.local import LocalBackend
from tests.exports.conftest import KEY_ENV
from tests.osctl_process import start_osctl

CONFIG = """\
    - name: first
      app: prod
      kind: subscriptions
      destination: out/{export}-{date}.csv.gz
    - name: second
      app: prod
      kind: subscriptions
      destination: out/{export}-{date}.csv.gz
    """


def _in_flight(harness) -> list:
    state = LocalBackend(harness.dir / ".osctl" / "state.json").read()
    record = state.exports.get("first") if state else None
    return record.in_flight if record else []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_waiting_for_the_file_keeps_the_request_and_releases_the_lock(harness, signum):
    name = signal.Signals(signum).name
    harness.write_config(CONFIG)
    harness.emu.set_export_rate(0.5)  # 2000 s of emulator time: osctl waits for the file
    process = start_osctl("-c", str(harness.dir), "exports", "run", "first", "second",
                          env={KEY_ENV: harness.emu.api_key, "ONESIGNAL_API_URL": harness.emu.url})
    try:
        while not _in_flight(harness):
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()

    assert process.returncode == 128 + signum, out + err
    assert f"Received {name}: starting nothing new" in err
    assert (f"export.first: stopped by {name} while OneSignal made the file; the request is kept in state "
            f"and the next run resumes it\n") in out
    assert f"export.second: not started: stopped by {name}\n" in out
    assert out.endswith("Exports: 0 succeeded, 0 failed, 2 stopped.\n"), out
    assert "Traceback" not in err and "internal error" not in err
    assert not (harness.dir / ".osctl" / "state.json.lock").exists()
    record = harness.record("first")
    assert len(record.in_flight) == 1 and record.last_error is None and record.files == []
    assert len(harness.export_requests()) == 1

    harness.emu.advance(2000)
    result = harness.run(forced=("first", "second"))
    assert result.failed == [], result.failed
    assert len(harness.export_requests()) == 2, "first resumed, not requested again"
    assert harness.record("first").in_flight == [] and harness.record("first").files[0].rows == 1000
