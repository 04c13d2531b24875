"""A real HTTP server on 127.0.0.1 for the tests that need answers the emulator does not give
(scripted API answers, a proxy that damages downloads, a stand-in for GitLab).

It serves HTTP/1.1 on a thread of its own, quietly, and hands each request with its body
already read to `serve(handler, body)`, which answers through the handler (`answer` sends
a whole answer; a handler may also write its body in pieces).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Serve = Callable[[BaseHTTPRequestHandler, bytes], None]


class LocalHTTPServer:
    def __init__(self, serve: Serve):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                serve(self, self.rfile.read(length) if length else b"")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def answer(handler: BaseHTTPRequestHandler, status: int, body: bytes,
           headers: Mapping[str, str] | None = None) -> None:
    """Send a whole answer: `status`, `headers`, a Content-Length and `body`."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
