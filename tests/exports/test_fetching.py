"""Waiting for an export file and fetching it (osctl.exports.fetching), shared by export runs and
the owners lookup: looks until the file is ready, a damaged download fetched again, giving up at
the deadline with the link shown masked, a stop between looks. A real HTTP server on 127.0.0.1
answers as scripted; time is a fake clock advanced by the injected sleep."""

from __future__ import annotations

import gzip
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from osctl.config.model import ExportKind
from osctl.errors import DownloadFailed, DownloadGaveUp, ExportStopped, NotReadyInTime
from osctl.exports import download as dl
from osctl.exports.fetching import DOWNLOAD_ATTEMPTS, fetch_when_ready
from osctl.exports.polling import PollPolicy
from tests.httpserver import LocalHTTPServer, answer

FILE = gzip.compress(b"outcome,aggregation,value\nclick,count,3\nopen,count,7\n", mtime=0)
TOKEN = "s3cr3t-t0ken"
POLICY = PollPolicy()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)

    def monotonic(self) -> float:
        return self.now


class FileServer:
    """Answers GETs of the file with the scripted answers in turn (then the last one again):
    a status, or "file", or "truncated" (the first half of the file, the whole Content-Length)."""

    def __init__(self, *answers: int | str):
        self.answers = list(answers)
        self.gets = 0
        self._lock = threading.Lock()
        self._server = LocalHTTPServer(self._serve)
        self.port = self._server.port
        self.url = f"{self._server.url}/_files/{TOKEN}/export.csv.gz"

    def _serve(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            what = self.answers[min(self.gets, len(self.answers) - 1)]
            self.gets += 1
        if isinstance(what, int):
            answer(request, what, b"not ready")
        elif what == "file":
            answer(request, 200, FILE, {"Content-Type": "application/gzip"})
        else:  # truncated: hang up halfway through the announced body
            request.send_response(200)
            request.send_header("Content-Length", str(len(FILE)))
            request.end_headers()
            request.wfile.write(FILE[: len(FILE) // 2])
            request.wfile.flush()
            request.close_connection = True

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def answers() -> list[httpx.Response]:
    """Every answer the download client received, to check that each was closed."""
    return []


@pytest.fixture
def http(answers: list[httpx.Response]) -> Iterator[httpx.Client]:
    with dl.download_client(timeout=10.0) as client:
        client.event_hooks = {"response": [answers.append]}  # httpx calls it with each answer
        yield client


class Receiver:
    """What export runs do with a ready answer: stream it through the verifier; every answer is kept
    to check it was closed."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    def __call__(self, response: httpx.Response) -> dl.Received:
        self.responses.append(response)
        return dl.receive(dl.response_chunks(response, str(response.url)), io.BytesIO(), kind=ExportKind.OUTCOMES)


def fetch(http: httpx.Client, server: FileServer, clock: Clock, receive: Receiver, *, deadline: float = 600.0,
          **hooks: object) -> dl.Received:
    return fetch_when_ready(http, server.url, receive, policy=POLICY, records=10_000, origin=0.0,
                            deadline=deadline, sleep=clock.sleep, monotonic=clock.monotonic, rng=lambda: 0.0,
                            **hooks)


def test_a_file_not_ready_is_looked_at_again_until_it_is(http, answers):
    server, clock, receive = FileServer(404, 403, "file"), Clock(), Receiver()
    ready: list[int] = []
    try:
        received = fetch(http, server, clock, receive, on_ready=ready.append)
    finally:
        server.close()
    assert received.rows == 2 and received.bytes == len(FILE)
    assert server.gets == 3 and ready == [3]
    # the first look at the estimated generation time (10,000 rows at 2,000 a second), then backoff
    assert clock.sleeps == [5.0, POLICY.delay(1, 5.0, lambda: 0.0), POLICY.delay(2, 7.0, lambda: 0.0)]
    assert all(r.is_closed for r in answers)


def test_a_truncated_download_is_fetched_again(http, answers):
    server, clock, receive = FileServer("truncated", "file"), Clock(), Receiver()
    retried: list[str] = []
    try:
        received = fetch(http, server, clock, receive, on_retry=lambda exc: retried.append(str(exc)))
    finally:
        server.close()
    assert received.rows == 2
    assert server.gets == 2 and len(retried) == 1 and "truncated" in retried[0]
    assert TOKEN not in retried[0]
    assert len(receive.responses) == 2 and all(r.is_closed for r in answers)


def test_a_download_that_keeps_failing_is_given_up_after_the_last_attempt(http, answers):
    server, clock, receive = FileServer("truncated"), Clock(), Receiver()
    try:
        with pytest.raises(DownloadGaveUp) as caught:
            fetch(http, server, clock, receive)
    finally:
        server.close()
    assert server.gets == DOWNLOAD_ATTEMPTS == caught.value.attempts
    assert str(caught.value).startswith(f"download failed {DOWNLOAD_ATTEMPTS} time(s): ")
    assert "truncated" in str(caught.value.failure) and TOKEN not in str(caught.value)
    assert all(r.is_closed for r in answers)


def test_an_expired_link_is_not_looked_at_again(http, answers):
    server, clock, receive = FileServer(410), Clock(), Receiver()
    try:
        with pytest.raises(DownloadFailed, match="link expired") as caught:
            fetch(http, server, clock, receive)
    finally:
        server.close()
    assert server.gets == 1 and not caught.value.retryable and TOKEN not in str(caught.value)
    assert all(r.is_closed for r in answers)


def test_at_the_deadline_the_error_names_the_looks_and_the_masked_link(http, answers):
    server, clock, receive = FileServer(404), Clock(), Receiver()
    try:
        with pytest.raises(NotReadyInTime) as caught:
            fetch(http, server, clock, receive, deadline=30.0)
    finally:
        server.close()
    error = caught.value
    assert clock.now == 30.0  # the last look happens at the deadline, not after it
    assert error.looks == server.gets and error.waited == 30.0 and error.last == "answered 404"
    assert error.masked_url == f"http://127.0.0.1:{server.port}/…"
    assert f"{error.looks} look(s) at {error.masked_url}, last: answered 404" in str(error)
    assert TOKEN not in str(error) and receive.responses == []
    assert len(answers) == server.gets and all(r.is_closed for r in answers)


def test_a_stop_between_looks_ends_the_wait(http, answers):
    server, clock, receive = FileServer(404), Clock(), Receiver()
    waits: list[float] = []

    def stop_on_the_second_wait() -> None:
        waits.append(clock.now)
        if len(waits) == 2:
            raise ExportStopped("stopped by SIGTERM while OneSignal made the file")

    try:
        with pytest.raises(ExportStopped, match="SIGTERM"):
            fetch(http, server, clock, receive, after_sleep=stop_on_the_second_wait)
    finally:
        server.close()
    assert server.gets == 1 and len(clock.sleeps) == 2


def test_the_answer_is_closed_when_a_hook_fails_before_the_download(http, answers):
    server, clock, receive = FileServer("file"), Clock(), Receiver()

    def ready(looks: int) -> None:
        raise ExportStopped("stopped by SIGINT")

    try:
        with pytest.raises(ExportStopped):
            fetch(http, server, clock, receive, on_ready=ready)
    finally:
        server.close()
    assert receive.responses == [] and len(answers) == 1 and answers[0].is_closed
