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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


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
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.path.startswith("/_files/") and proxy._take_pushback():
                    payload = b'{"errors":["API rate limit exceeded"]}'
                    self.send_response(429)
                    self.send_header("Retry-After", "30")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "content-type", "accept", "user-agent")}
                headers["Host"] = f"127.0.0.1:{proxy.port}"
                answer = proxy._client.request(self.command, proxy.upstream + self.path, content=body,
                                               headers=headers)
                data = answer.content
                damage = None
                if self.path.startswith("/_files/") and answer.status_code == 200:
                    damage = proxy._take_damage()
                if damage == "corrupt":
                    middle = len(data) // 2
                    data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() in ("content-type", "retry-after", "content-disposition"):
                        self.send_header(key, value)
                chunked = proxy.chunked and self.path.startswith("/_files/") and answer.status_code == 200
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if damage == "truncate":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if chunked:
                    for start in range(0, len(data), 1 << 16):
                        piece = data[start:start + (1 << 16)]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                if self.path.startswith("/_files/") and proxy.throttle:
                    piece, pause = proxy.throttle
                    for start in range(0, len(data), piece):
                        self.wfile.write(data[start:start + piece])
                        self.wfile.flush()
                        proxy.sent += len(data[start:start + piece])
                        time.sleep(pause)
                    return
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
