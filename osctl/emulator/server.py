"""HTTP plumbing: stdlib ThreadingHTTPServer speaking HTTP/1.1 with keep-alive.

The handler turns each request into a `Request`, asks the application for a
`Response` (or `DROP`, meaning: close the connection without answering) and
writes it. All OneSignal behaviour lives elsewhere; this module knows nothing
about it.

A client that goes away mid-request (killed, timed out, dropped on purpose) is
normal for a test server: the handler drops the connection quietly instead of
letting socketserver print a traceback, and says so in one line on stderr only
when the server is verbose.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message as Headers
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY = 1024 * 1024  # OneSignal's one published request size limit (create custom events): 1 MB
DRAIN_LIMIT = 64 * 1024 * 1024  # a refused body up to this size is read and dropped, keeping the connection
_CONTENT_LENGTH = re.compile(r"[0-9]+")  # ASCII only: int() would also take "١٢" or "1_0"

# what reading from or writing to a connection whose client has gone raises
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class BadRequestBody(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """Strict JSON (RFC 8259): UTF-8 only, no NaN/Infinity; every way to fail is BadRequestBody.

    json.loads alone would guess UTF-16/32 from the bytes and take NaN, and raises
    RecursionError for deep nesting and ValueError for integers of over 4300 digits.
    """
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadRequestBody(type(exc).__name__) from None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes
    client_ip: str
    raw_query: str = ""

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        """The body as JSON; None when there is no body."""
        if not self.body.strip():
            return None
        return parse_json(self.body)


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    file_path: str | None = None  # sent from disk (export downloads)
    file_size: int = 0


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, JSON_TYPE, dict(headers or {}))


DROP = object()  # the application's way to say "close the connection, answer nothing"

Application = Callable[[Request], "Response | object"]
BodyLimit = Callable[[str], int]  # request path -> the largest body accepted there, in bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "osctl-emulator"
    sys_version = ""
    server: _Server  # the one server class that makes these handlers

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes; without this, Nagle plus
        # delayed ACKs add ~40 ms to every keep-alive request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the application keeps its own request log

    def handle(self) -> None:
        self.in_flight: str | None = None  # "METHOD /path" while a request is being served
        try:
            super().handle()
        except CLIENT_GONE as exc:
            self.close_connection = True
            self.server.client_gone(self.client_address, self.in_flight, type(exc).__name__)

    def _serve(self) -> None:
        path = urlsplit(self.path).path
        # an export link is a bearer URL and long: name it, do not print it
        self.in_flight = f"{self.command} {'an export file' if path.startswith('/_files/') else path}"
        self._serve_one()
        self.in_flight = None  # kept when the client goes away mid-request, for handle() to name it

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def _serve_one(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._write(json_response(411, {"errors": ["Content-Length required"]}))
            self.close_connection = True
            return
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        if not _CONTENT_LENGTH.fullmatch(raw_length):
            self._write(json_response(400, {"errors": ["Content-Length must be a whole number of bytes"]}))
            self.close_connection = True
            return
        limit = self.server.body_limit(urlsplit(self.path).path)
        length = int(raw_length) if len(raw_length) <= 19 else DRAIN_LIMIT + 1
        if length > limit:
            self._refuse_body(length, limit)
            return
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:  # the client went away before sending its whole body: nothing to do
            self.close_connection = True
            self.server.client_gone(self.client_address, self.in_flight, "end of stream")
            return
        parts = urlsplit(self.path)
        request = Request(
            method=self.command, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers, body=body, client_ip=self.client_address[0], raw_query=parts.query,
        )
        outcome = self.server.application(request)
        if outcome is DROP:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        assert isinstance(outcome, Response), outcome  # an application answers a Response or DROP
        self._write(outcome)

    def _refuse_body(self, length: int, limit: int) -> None:
        """413 for a body over the limit; read and dropped first, so the client sees the answer."""
        if length <= DRAIN_LIMIT:
            left = length
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
        else:
            self.close_connection = True
        self._write(json_response(413, {"errors": [f"Request body is too large (at most {limit} bytes)"]}))

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        length = response.file_size if response.file_path else len(response.body)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(length))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if response.file_path:
            with open(response.file_path, "rb") as f:
                self.connection.sendfile(f)
        elif response.body:
            self.wfile.write(response.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], application: Application, verbose: bool = False,
                 body_limit: BodyLimit | None = None) -> None:
        self.application = application
        self.verbose = verbose
        self.body_limit = body_limit or (lambda path: MAX_BODY)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def client_gone(self, client_address: tuple, request: str | None, why: str) -> None:
        """A client disconnected: normal, so at most one line, and only when verbose."""
        if self.verbose:
            during = f" during {request}" if request else ""
            print(f"osctl emulator: client {client_address[0]}:{client_address[1]} went away{during} ({why})",
                  file=sys.stderr, flush=True)

    def handle_error(self, request: Any, client_address: tuple) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, CLIENT_GONE):  # e.g. in the handler's setup or finish
            self.client_gone(client_address, None, type(exc).__name__)
            return
        super().handle_error(request, client_address)  # anything else is a bug: keep the traceback


class HttpServer:
    """Serve `application` on (host, port) in a background thread."""

    def __init__(self, application: Application, host: str, port: int, verbose: bool = False,
                 body_limit: BodyLimit | None = None) -> None:
        self._server = _Server((host, port), application, verbose, body_limit)
        # the bound (host, port), port 0 having picked a free one; getsockname() gives the host as str
        self.host, self.port = self._server.socket.getsockname()[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="osctl-emulator", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
