"""`osctl emulator` as a user starts it: a subprocess printing where it listens."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.helpers import run_osctl


def start(*args: str) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen([sys.executable, "-m", "osctl", "emulator", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [process.stdout.readline().strip()]
    return process, lines


def stop(process: subprocess.Popen) -> int:
    process.terminate()
    return process.wait(timeout=10)


def test_demo_app_is_printed_and_served():
    process, lines = start("--audience", "50", "--messages", "1", "--seed", "3")
    try:
        assert lines[0].startswith("listening on http://127.0.0.1:")
        url = lines[0].split()[-1]
        app_id = process.stdout.readline().split()[-1]
        key = process.stdout.readline().split()[-1]
        response = httpx.get(f"{url}/apps/{app_id}/segments", headers={"Authorization": f"Key {key}"})
        assert response.status_code == 200
        info = httpx.get(f"{url}/_emulator/").json()
        assert info["seed"] == 3 and info["apps"][0]["audience"] == 50 and info["apps"][0]["messages"] == 1
    finally:
        assert stop(process) == 0


def test_given_apps_are_served_and_their_keys_never_printed():
    app = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
    process, lines = start("--app", f"{app}=s3cret-key@main", "--export-rate", "50", "-q")
    try:
        url = lines[0].split()[-1]
        info = httpx.get(f"{url}/_emulator/").json()
        assert info["apps"][0]["app_id"] == app and info["apps"][0]["account"] == "main"
        assert info["export_rate"] == 50
        assert httpx.get(f"{url}/apps/{app}/segments",
                         headers={"Authorization": "Key s3cret-key"}).status_code == 200
    finally:
        stop(process)
    out, err = process.communicate()
    assert "s3cret-key" not in lines[0] + out + err


def test_bad_app_option_is_a_usage_error():
    result = run_osctl("emulator", "--app", "not-a-uuid=key")
    assert result.exit_code == 1 and "not a UUID" in result.output
    result = run_osctl("emulator", "--app", "5eb5a37e-b458-11e3-ac11-000c2940e62c")
    assert result.exit_code == 1 and "APP_ID=KEY" in result.output
