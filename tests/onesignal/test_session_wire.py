"""What osctl puts on the wire for its calls: the base URL's path kept, osctl's own headers
(key, User-Agent, JSON content type), query and body. A raw server records each request
exactly as its bytes arrived."""

from __future__ import annotations

import json
import re
import socketserver
import threading

import pytest

from osctl import __version__
from osctl.onesignal import OneSignalClient
from osctl.onesignal.session import Call
from tests.onesignal.conftest import API_KEY, APP_ID

SEGMENT = "0b9f8a3c-1111-4222-8333-944455556666"
CALLS = [
    Call("view", "GET", f"/apps/{APP_ID}/segments/{SEGMENT}", params={"include-segment-detail": "true"}),
    Call("page", "GET", f"/apps/{APP_ID}/segments", params={"offset": 300, "limit": 300}),
    Call("no query", "GET", f"/apps/{APP_ID}/segments/{SEGMENT}"),
    Call("empty query", "GET", f"/apps/{APP_ID}/segments", params={}),
    Call("escaped", "GET", "/notifications/a%2Fb%20c", params={"app_id": APP_ID, "kind": 1}),
    Call("repeated names", "GET", f"/apps/{APP_ID}/outcomes",
         params=[("outcome_names[]", "os__click,x.count"), ("outcome_names[]", "é.sum"),
                 ("outcome_time_range", "1h"), ("outcome_platforms", "0,1")]),
    Call("create", "POST", f"/apps/{APP_ID}/segments", idempotent=False,
         json={"name": "Zürich ✓", "filters": [{"field": "country", "relation": "=", "value": "CH"}]}),
    Call("export", "POST", "/players/csv_export", params={"app_id": APP_ID}, json={}, idempotent=False),
    Call("delete", "DELETE", f"/apps/{APP_ID}/segments/{SEGMENT}"),
    Call("post without body", "POST", f"/notifications/{SEGMENT}/export_events", params={"app_id": APP_ID},
         idempotent=False),
]


class Recorder:
    """Answers 200 {} on keep-alive connections and records each request exactly as its bytes
    arrived: request line, headers in order and case, body."""

    def __init__(self, set_cookie: str | None = None):
        self.seen: list[bytes] = []
        outer = self
        extra = f"Set-Cookie: {set_cookie}\r\n".encode() if set_cookie else b""

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                while True:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = self.rfile.readline()
                        if not line:
                            return
                        head += line
                    match = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
                    body = self.rfile.read(int(match.group(1))) if match else b""
                    outer.seen.append(head + body)
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra
                                     + b"Content-Length: 2\r\n\r\n{}")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recorder():
    server = Recorder()
    yield server
    server.close()


def _sent(client: OneSignalClient, recorder: Recorder, call: Call) -> bytes:
    response = client._session.send(call)
    assert response.status_code == 200 and response.json() == {}
    return recorder.seen[-1]


@pytest.mark.parametrize("suffix", ["", "/", "/api/v1", "/api/v1/"], ids=["bare", "slash", "prefix", "prefix-slash"])
def test_requests_keep_the_base_path_and_carry_osctls_headers(recorder, suffix):
    with OneSignalClient(recorder.url + suffix, API_KEY) as client:
        for call in CALLS:
            head, _, body = _sent(client, recorder, call).partition(b"\r\n\r\n")
            request_line, *header_lines = head.decode().split("\r\n")
            headers = dict(line.split(": ", 1) for line in header_lines)
            method, target, _ = request_line.split(" ")
            assert method == call.method
            assert target.startswith(suffix.rstrip("/") + call.path.split("%")[0]), call.description
            assert headers["Authorization"] == f"Key {API_KEY}"
            assert headers["User-Agent"] == f"osctl/{__version__}"
            assert headers["Accept"] == "application/json"
            if call.method != "GET":
                assert headers["Content-Type"] == "application/json", call.description
            if call.json is not None:
                assert json.loads(body) == call.json


def test_the_query_is_encoded_as_onesignal_reads_it(recorder):
    with OneSignalClient(recorder.url, API_KEY) as client:
        target = _sent(client, recorder, CALLS[5]).split(b" ")[1].decode()
    assert target == (f"/apps/{APP_ID}/outcomes?outcome_names%5B%5D=os__click%2Cx.count"
                      "&outcome_names%5B%5D=%C3%A9.sum&outcome_time_range=1h&outcome_platforms=0%2C1")
