"""SIGKILL at the worst moments, in a real `osctl exports run` subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from osctl.state.local import LocalBackend
from tests.exports.conftest import KEY_ENV
from tests.exports.fileproxy import FileProxy

REPO = Path(__file__).resolve().parents[2]
CONFIG = """\
    - name: nightly
      app: prod
      kind: subscriptions
      schedule: "0 3 * * *"
      destination: out/{export}-{date}.csv.gz
    """


def start_osctl(harness, api_url: str, env: dict | None = None) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OSCTL_", "ONESIGNAL_"))}, **(env or {})}
    env.update({KEY_ENV: harness.emu.api_key, "ONESIGNAL_API_URL": api_url, "PYTHONPATH": str(REPO)})
    return subprocess.Popen([sys.executable, "-m", "osctl", "-c", str(harness.dir), "exports", "run", "nightly"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"osctl ended early ({proc.returncode}): {out.decode()}{err.decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for osctl")
        time.sleep(0.01)


def in_flight(harness) -> list:
    state = LocalBackend(harness.dir / ".osctl" / "state.json").read()
    record = state.exports.get("nightly") if state else None
    return record.in_flight if record else []


def kill(proc: subprocess.Popen) -> None:
    proc.kill()  # SIGKILL: no cleanup of any kind runs
    proc.wait(timeout=30)


def test_killed_while_polling_resumes_without_a_second_export_request(harness):
    harness.write_config(CONFIG)
    harness.emu.set_export_rate(0.5)  # 2000 s of emulator time: osctl keeps polling
    proc = start_osctl(harness, harness.emu.url)
    wait_for(lambda: in_flight(harness), proc)
    kill(proc)
    assert len(harness.export_requests()) == 1
    harness.emu.advance(2000)
    result = harness.run()
    assert result.failed == [], result.failed
    assert len(harness.export_requests()) == 1  # the request log shows no second export request
    record = harness.record("nightly")
    assert record.in_flight == [] and record.files[0].rows == 1000 and record.satisfied_tick


def test_killed_mid_download_leaves_no_partial_file(harness):
    now = harness.emu.now()
    (message_id,) = harness.emu.add_messages(harness.emu.app_id, messages=[
        {"queued_at": now - 7200, "completed_at": now - 7000, "kind": "api"}])
    # a per-message kind: its size is known, so osctl looks at the file at once
    harness.write_config(f"""\
        - name: nightly
          app: prod
          kind: audience_activity
          destination: out/{{message_id}}.csv.gz
          audience_activity: {{messages: {{ids: [{message_id}]}}}}
        """)
    out = harness.dir / "out"
    with FileProxy(harness.emu.url) as proxy:
        proxy.throttle = (1024, 0.05)  # 20 KB/s: a few seconds for the file
        proc = start_osctl(harness, proxy.url)
        # the temp file exists once the body has started to arrive (throttled: it takes seconds)
        wait_for(lambda: out.is_dir() and any(p.name.endswith(".osctl-part") for p in out.iterdir()), proc)
        kill(proc)
        assert [p for p in out.iterdir() if not p.name.endswith(".osctl-part")] == []  # nothing at the destination
        record = harness.record("nightly")
        assert record.files == [] and len(record.in_flight) == 1
        proxy.throttle = None
        harness.api_url = proxy.url
        result = harness.run(forced=["nightly"])
    assert result.failed == [] and len(result.succeeded) == 1, result.failed
    assert len(harness.export_requests()) == 1  # resumed the recorded URL
    assert [p.name for p in out.iterdir()] == [Path(harness.record("nightly").files[0].path).name]
