"""Session builds its requests itself and hands them to the transport (cheaper than
httpx.Client.request); what goes on the wire must be byte for byte what httpx.Client.request
sends for the same call, cookies included. A raw server records both and compares them."""

from __future__ import annotations

import re
import socketserver
import threading

import pytest

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


def _both_ways(session, recorder: Recorder, call: Call) -> tuple[bytes, bytes]:
    """(what Session.send put on the wire, what httpx.Client.request puts there)"""
    response = session.send(call)
    assert response.status_code == 200 and response.json() == {}
    ours = recorder.seen[-1]
    headers = {"Content-Type": "application/json"} if call.method != "GET" else None
    reference = session._http.request(call.method, call.path, params=call.params, json=call.json, headers=headers)
    assert reference.status_code == 200
    return ours, recorder.seen[-1]


@pytest.mark.parametrize("suffix", ["", "/", "/api/v1", "/api/v1/"], ids=["bare", "slash", "prefix", "prefix-slash"])
def test_requests_on_the_wire_are_what_httpx_client_sends(recorder, suffix):
    with OneSignalClient(recorder.url + suffix, API_KEY) as client:
        for call in CALLS:
            ours, reference = _both_ways(client._session, recorder, call)
            assert ours == reference, call.description
            assert ours.split(b" ", 2)[1].startswith(suffix.rstrip("/").encode() + b"/")


def test_cookies_a_server_sets_are_sent_back_as_httpx_client_would():
    server = Recorder(set_cookie="__cf_bm=abc123; Path=/; HttpOnly")
    try:
        with OneSignalClient(server.url, API_KEY) as client:
            session = client._session
            session.send(CALLS[0])  # the first answer sets the cookie
            assert b"cookie" not in server.seen[-1].lower()
            assert dict(session._http.cookies) == {"__cf_bm": "abc123"}
            for call in CALLS[:3] + CALLS[6:7]:
                ours, reference = _both_ways(session, server, call)
                assert ours == reference and b"\r\nCookie: __cf_bm=abc123\r\n" in ours, call.description
    finally:
        server.close()


def test_a_closed_client_refuses_to_send_like_httpx(recorder):
    client = OneSignalClient(recorder.url, API_KEY)
    client.close()
    with pytest.raises(RuntimeError, match="client has been closed"):
        client._session.send(CALLS[0])
