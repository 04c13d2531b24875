"""A tiny HTTP server on 127.0.0.1 answering with the *other* documented forms of the API.

The emulator answers each disputed point one way (docs/onesignal-api.md#where-the-sources-disagree);
the client must also accept the forms it does not use (400 "already taken", total_count as
the page size, csv_file_url for message history, ...). This server plays those answers over real HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.httpserver import LocalHTTPServer, answer

# (method, path, query) -> (status, body, headers); body may be bytes or JSON-able
Answer = tuple[int, object, dict]
Route = Callable[[str, str, dict], Answer]


class ScriptedServer:
    def __init__(self, routes: list[tuple[str, str, Route]]):
        self.routes = [(method, re.compile(pattern), route) for method, pattern, route in routes]
        self.seen: list[tuple[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self._server = LocalHTTPServer(self._serve)  # serving from now on; the with block closes it

    def _serve(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(request.path)
        self.seen.append((request.command, parts.path))
        self.headers.append(dict(request.headers.items()))
        for method, pattern, route in self.routes:
            if method == request.command and pattern.fullmatch(parts.path):
                status, content, headers = route(request.command, parts.path, parse_qs(parts.query))
                break
        else:
            status, content, headers = 404, {"errors": ["no route"]}, {}
        answer(request, status, content if isinstance(content, bytes) else json.dumps(content).encode(), headers)

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.close()


def fixed(status: int, body: object, headers: dict | None = None) -> Route:
    return lambda method, path, query: (status, body, headers or {})
