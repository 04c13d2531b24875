"""A forwarding HTTP proxy on 127.0.0.1 in front of the emulator that can damage or slow
export file downloads (the emulator's own fault injection has no kind for a body cut
short or sent slowly).

Everything is forwarded unchanged, with the proxy's own Host header, so the export URLs
the emulator hands out point back at the proxy. For GET /_files/... answers with 200:
  truncate   send only the first half of the body (with the full Content-Length), then hang up
  corrupt    flip one byte in the middle of the body
  throttle   send the body in small pieces with a pause between them
  pushback   answer 429 with Retry-After: 30 instead of forwarding
Each of truncate/corrupt/pushback is used up once per count.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

import httpx

from tests.httpserver import LocalHTTPServer, answer


class FileProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.truncate = 0
        self.corrupt = 0
        self.throttle: tuple[int, float] | None = None  # (bytes per piece, seconds between pieces)
        self.damaged = 0
        self.pushback = 0
        self.chunked = False  # send file bodies without Content-Length (size unknown up front)
        self.sent = 0  # file body bytes sent so far
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=30)
        self._server = LocalHTTPServer(self._serve)
        self.port = self._server.port

    def _serve(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        if request.path.startswith("/_files/") and self._take_pushback():
            answer(request, 429, b'{"errors":["API rate limit exceeded"]}',
                   {"Retry-After": "30", "Content-Type": "application/json"})
            return
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "content-type", "accept", "user-agent")}
        headers["Host"] = f"127.0.0.1:{self.port}"
        upstream = self._client.request(request.command, self.upstream + request.path, content=body or None,
                                        headers=headers)
        data = upstream.content
        file = request.path.startswith("/_files/") and upstream.status_code == 200
        damage = self._take_damage() if file else None
        if damage == "corrupt":
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
        request.send_response(upstream.status_code)
        for key, value in upstream.headers.items():
            if key.lower() in ("content-type", "retry-after", "content-disposition"):
                request.send_header(key, value)
        chunked = self.chunked and file
        if chunked:
            request.send_header("Transfer-Encoding", "chunked")
        else:
            request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        if request.command == "HEAD":
            return
        if damage == "truncate":
            request.wfile.write(data[: len(data) // 2])
            request.wfile.flush()
            request.close_connection = True
            return
        if chunked:
            for start in range(0, len(data), 1 << 16):
                piece = data[start:start + (1 << 16)]
                request.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            request.wfile.write(b"0\r\n\r\n")
            return
        if request.path.startswith("/_files/") and self.throttle:
            size, pause = self.throttle
            for start in range(0, len(data), size):
                request.wfile.write(data[start:start + size])
                request.wfile.flush()
                self.sent += len(data[start:start + size])
                time.sleep(pause)
            return
        request.wfile.write(data)

    @property
    def url(self) -> str:
        return self._server.url

    def _take_pushback(self) -> bool:
        with self._lock:
            if self.pushback > 0:
                self.pushback -= 1
                return True
        return False

    def _take_damage(self) -> str | None:
        with self._lock:
            if self.truncate > 0:
                self.truncate -= 1
                self.damaged += 1
                return "truncate"
            if self.corrupt > 0:
                self.corrupt -= 1
                self.damaged += 1
                return "corrupt"
        return None

    def close(self) -> None:
        self._server.close()
        self._client.close()

    def __enter__(self) -> FileProxy:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def run_through_proxy(harness, forced=(), **damage) -> tuple[object, FileProxy]:
    """`harness.run(forced)` with the export files fetched through a FileProxy set as `damage`
    says (truncate=, corrupt=, pushback=, chunked=, ...). Returns the run's result and the
    (closed) proxy, whose counters tell what it did."""
    with FileProxy(harness.emu.url) as proxy:
        for name, value in damage.items():
            setattr(proxy, name, value)
        harness.api_url = proxy.url
        return harness.run(forced), proxy
