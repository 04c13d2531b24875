"""`osctl emulator` as a user starts it: a subprocess printing where it listens."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest

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


def _abort(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a killed client or a dropped network does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_clients_that_go_away_mid_request_leave_no_traceback(verbose):
    app, key = "5eb5a37e-b458-11e3-ac11-000c2940e62c", "k"
    # an export of several MB, so the server is still sending it when the client goes
    process, lines = start("--app", f"{app}={key}", "--audience", "40000", "--export-rate", "100000000",
                           "--latency-ms", "100", *(["-v"] if verbose else []))
    try:
        url = lines[0].split()[-1]
        host, port = urlsplit(url).hostname, urlsplit(url).port
        auth = {"Authorization": f"Key {key}"}
        fields = ["external_user_id", "onesignal_id", "location", "country", "ip", "web_auth", "web_p256"]
        file_url = httpx.post(f"{url}/players/csv_export", params={"app_id": app}, headers=auth,
                              json={"extra_fields": fields}, timeout=30).json()["csv_file_url"]
        httpx.post(f"{url}/_emulator/clock", json={"advance": 3600})
        assert httpx.head(file_url, timeout=30).status_code == 200
        file_path = urlsplit(file_url).path
        size = int(httpx.head(file_url).headers["Content-Length"])
        assert size > 4_000_000

        def connect() -> socket.socket:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the download cannot finish on its own
            sock.connect((host, port))
            return sock

        for close in (_abort, socket.socket.close):  # mid-download: a reset, then a plain close
            sock = connect()
            sock.sendall(f"GET {file_path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            received = len(sock.recv(65536))
            assert 0 < received < size
            time.sleep(0.2)
            close(sock)
        # mid-request: during the 100 ms the answer takes, and halfway through a body
        sock = connect()
        sock.sendall(f"GET /apps/{app}/segments HTTP/1.1\r\nHost: {host}\r\nAuthorization: Key {key}\r\n\r\n".encode())
        time.sleep(0.02)
        _abort(sock)
        for close in (_abort, socket.socket.close):
            sock = connect()
            sock.sendall(f"POST /apps/{app}/segments HTTP/1.1\r\nHost: {host}\r\nAuthorization: Key {key}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"name\": \"half".encode())
            time.sleep(0.05)
            close(sock)
        time.sleep(0.5)
        # the server is fine, and a half-sent create created nothing
        names = [s["name"] for s in httpx.get(f"{url}/apps/{app}/segments", headers=auth).json()["segments"]]
        assert not any(name.startswith("half") for name in names)
    finally:
        stop(process)
    _, err = process.communicate()
    assert "Traceback" not in err, err
    if not verbose:
        assert err == ""
    else:  # one short line per client that went away, naming what it was doing
        gone = err.splitlines()
        assert len(gone) == 5 and all(line.startswith("osctl emulator: client 127.0.0.1:") and " went away" in line
                                      and len(line) < 160 for line in gone), err
        assert sum("during GET an export file" in line for line in gone) == 2, err
        assert sum(f"during GET /apps/{app}/segments" in line for line in gone) == 1, err
        assert sum(f"during POST /apps/{app}/segments" in line for line in gone) == 2, err
        assert file_path not in err
