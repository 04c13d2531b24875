"""A tiny HTTP server on 127.0.0.1 answering with the *other* documented forms of the API.

The emulator answers each disputed point one way (docs/onesignal-api.md#where-the-sources-disagree);
the client must also accept the forms it does not use (400 "already taken", total_count as
the page size, csv_file_url for message history, ...). This server plays those answers over real HTTP.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# (method, path, query) -> (status, body, headers); body may be bytes or JSON-able
Answer = tuple[int, object, dict]
Route = Callable[[str, str, dict], Answer]


class ScriptedServer:
    def __init__(self, routes: list[tuple[str, str, Route]]):
        self.routes = [(method, re.compile(pattern), route) for method, pattern, route in routes]
        self.seen: list[tuple[str, str]] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                parts = urlsplit(self.path)
                outer.seen.append((self.command, parts.path))
                outer.headers.append(dict(self.headers.items()))
                for method, pattern, route in outer.routes:
                    if method == self.command and pattern.fullmatch(parts.path):
                        status, body, headers = route(self.command, parts.path, parse_qs(parts.query))
                        break
                else:
                    status, body, headers = 404, {"errors": ["no route"]}, {}
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_DELETE = do_PATCH = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


def fixed(status: int, body: object, headers: dict | None = None) -> Route:
    return lambda method, path, query: (status, body, headers or {})
