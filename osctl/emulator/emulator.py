"""The Emulator: configuration, lifecycle and the per-request pipeline.

Pipeline for API and file requests: pick a fault, add latency, answer (or not),
log. Control requests (/_emulator/) bypass faults, latency and the log.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osctl.emulator import api, control
from osctl.emulator.clock import EmulatorClock, parse_time
from osctl.emulator.core import RATE_LIMITED, Core
from osctl.emulator.exports import Exports
from osctl.emulator.faults import FaultInjector
from osctl.emulator.messages import KIND_API, KIND_AUTOMATED, KIND_DASHBOARD
from osctl.emulator.ratelimit import Limit, RateLimiter
from osctl.emulator.requestlog import RequestLog
from osctl.emulator.server import DROP, MAX_BODY, HttpServer, Request, Response, json_response
from osctl.emulator.world import (
    App,
    World,
    add_message,
    add_seeded_message,
    seeded_random,
    seeded_uuid,
)

KIND_NAMES = {"dashboard": KIND_DASHBOARD, "api": KIND_API, "automated": KIND_AUTOMATED}
UNAVAILABLE = "Service temporarily unavailable"
CONTROL_MAX_BODY = 32 * 1024 * 1024  # hand-written audiences for tests can be large
PROXY_503 = (b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
             b"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n")


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    api_key: str


@dataclass
class _AppSpec:
    app_id: str
    api_key: str
    account: str
    messages: int
    audience: int
    subscriptions: list[dict] | None


class Emulator:
    def __init__(self, seed: int = 0, messages: int = 5, audience: int = 1000, export_rate: float = 2000.0,
                 latency_ms: int = 0, *, start_time: float | str | None = None) -> None:
        if export_rate <= 0:
            raise ValueError("export_rate must be positive")
        self.seed, self.messages, self.audience = seed, messages, audience
        self.export_rate, self.latency_ms = float(export_rate), latency_ms
        self._initial_export_rate, self._initial_latency = self.export_rate, latency_ms
        self.clock = EmulatorClock()
        if start_time is not None:
            self.clock.set(parse_time(start_time))
        self._initial_offset = self.clock.now() - time.time()
        self.faults, self.limiter, self.log = FaultInjector(), RateLimiter(), RequestLog()
        self.demo_app: AppCredentials | None = None
        self._specs: list[_AppSpec] = []
        self._server: HttpServer | None = None
        self._tmp: Path | None = None
        self._anchor = self._initial_anchor = 0.0
        self._lock = threading.RLock()
        self.world: World | None = None
        self.exports: Exports | None = None
        self._core: Core | None = None

    # --- lifecycle ----------------------------------------------------------

    def add_app(self, app_id: str, api_key: str, account: str = "default", messages: int | None = None,
                audience: int | None = None, subscriptions: list[dict] | None = None) -> AppCredentials:
        """Before start(): part of the initial configuration (kept across resets). After: until the next reset."""
        spec = _AppSpec(app_id, api_key, account, self.messages if messages is None else int(messages),
                        self.audience if audience is None else int(audience), subscriptions)
        if spec.messages < 0 or spec.audience < 0:
            raise ValueError("messages and audience must not be negative")
        with self._lock:
            if self.world is None:
                if any(s.app_id == app_id for s in self._specs):
                    raise ValueError(f"app {app_id} already exists")
                self._specs.append(spec)
            else:
                self._add_to_world(spec)
        return AppCredentials(app_id, api_key)

    def start(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> Emulator:
        """Serve in a background thread; `verbose`: one stderr line per client that disconnects mid-request."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("the emulator is already running")
            if not self._specs:
                rng = seeded_random(self.seed, "demo-app")
                app_id = seeded_uuid(rng)
                key = "os_v2_app_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(56))
                self._specs.append(_AppSpec(app_id, key, "default", self.messages, self.audience, None))
                self.demo_app = AppCredentials(app_id, key)
            self._tmp = Path(tempfile.mkdtemp(prefix="osctl-emulator-"))
            self._anchor = self._initial_anchor = float(int(self.clock.now()))
            self._build()
            self._server = HttpServer(self, host, port, verbose=verbose, body_limit=self.body_limit)
            self._server.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None
            if self.exports is not None:
                self.exports.clear()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def __enter__(self) -> Emulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.url

    @property
    def app_id(self) -> str:
        """The first app's id (the demo app when none was added)."""
        return self._specs[0].app_id

    @property
    def api_key(self) -> str:
        return self._specs[0].api_key

    def env(self) -> dict[str, str]:
        """Environment for running osctl against this emulator's first app."""
        return {"ONESIGNAL_API_URL": self.url, "ONESIGNAL_API_KEY": self.api_key}

    def _build(self) -> None:
        assert self._tmp is not None, "start() makes the export directory first"
        self.world = World(self.seed, self._anchor)
        if self.exports is not None:
            self.exports.clear()
        self.exports = Exports(self._tmp)
        self.exports.rate = self.export_rate
        self._core = Core(self.world, self.clock, self.exports, self.limiter)
        for spec in self._specs:
            self._add_to_world(spec)

    def _add_to_world(self, spec: _AppSpec) -> None:
        assert self.world is not None, "start the emulator first"
        self.world.add_app(spec.app_id, spec.api_key, spec.account, spec.audience, spec.messages,
                           spec.subscriptions)

    def reset(self, now: float | None = None) -> None:
        """Initial apps and data again; faults, limits, settings, exports and the log cleared.

        With `now`, the clock is set there and the data is rebuilt around it.
        """
        with self._lock:
            if now is not None:
                self.clock.set(now)
                self._anchor = float(int(now))
            else:
                self.clock.set(time.time() + self._initial_offset)
                self._anchor = self._initial_anchor
            self.faults.clear()
            self.limiter.reset()
            self.log.clear()
            self.export_rate, self.latency_ms = self._initial_export_rate, self._initial_latency
            if self._server is not None:
                self._build()

    # --- control helpers (also reachable over HTTP, see control.py) ----------

    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        return self.clock.advance(seconds)

    def set_time(self, when: float | str) -> float:
        return self.clock.set(parse_time(when))

    def set_faults(self, faults: list[dict], seed: int = 0) -> None:
        self.faults.configure(faults, seed)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_rate_limit(self, endpoint: str, per_second: float | None, burst: int = 1) -> None:
        self.limiter.configure(endpoint, None if per_second is None else Limit(per_second, burst))

    def set_export_rate(self, records_per_second: float) -> None:
        if records_per_second <= 0:
            raise ValueError("export_rate must be positive")
        self.export_rate = records_per_second
        if self.exports is not None:
            self.exports.rate = records_per_second

    def set_user_write_delay(self, seconds: float) -> None:
        """Make user writes (answered 202) visible only after `seconds` of the emulator clock."""
        if seconds < 0:
            raise ValueError("user_write_delay must not be negative")
        assert self.world is not None, "start the emulator first"
        self.world.set_user_write_delay(seconds)

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return self.log.entries(since)

    def clear_requests(self) -> None:
        self.log.clear()

    def exports_status(self) -> list[dict]:
        return self.exports.describe(self.now()) if self.exports else []

    def add_messages(self, app_id: str, count: int | None = None, messages: list[dict] | None = None) -> list[str]:
        """Add seeded messages (`count`) or described ones; returns their ids."""
        with self._app(app_id) as app:
            now = self.now()
            if messages is None:
                return [add_seeded_message(app, self.seed, self._anchor, queued_at=now - 600 * (j + 1)).id
                        for j in range(int(count or 1))]
            ids = []
            for spec in messages:
                rng = seeded_random(self.seed, app_id, "added", len(app.messages))
                queued = int(parse_time(spec.get("queued_at", now - 600)))
                completed = spec.get("completed_at", queued + 300)
                kind = spec.get("kind", KIND_API)
                message = add_message(
                    app, rng, name=spec.get("name", f"Message {len(app.messages) + 1}"),
                    kind=KIND_NAMES.get(kind, kind), channel=spec.get("channel", "push"), queued_at=queued,
                    completed_at=None if completed is None else int(parse_time(completed)),
                    segment_name=spec.get("segment", "Subscribed Users"), message_id=spec.get("id"))
                if message.kind not in KIND_NAMES.values() or message.channel not in ("push", "email", "sms"):
                    app.messages.remove(message)
                    raise ValueError("kind is dashboard|api|automated (0|1|3) and channel push|email|sms")
                ids.append(message.id)
            return ids

    def users(self, app_id: str) -> list[dict[str, Any]]:
        """Every user of the app as a view shows it (writes due by now included): OneSignal has no
        list of users, so tests see duplicates and strays only through this."""
        with self._app(app_id) as app:
            app.users.settle(self.now())
            return [user.to_json() for user in app.users.by_onesignal_id.values()]

    @contextmanager
    def _app(self, app_id: str) -> Iterator[App]:
        """The app, under the world's lock (what the API's handlers change it under)."""
        world = self.world
        if world is None:
            raise RuntimeError("start the emulator first")
        with world.lock:
            app = world.apps.get(app_id)
            if app is None:
                raise ValueError(f"no app {app_id}")
            yield app

    def set_in_active_journey(self, app_id: str, segment_id: str, active: bool = True) -> None:
        """Mark a segment as used by an active Journey (or not): OneSignal refuses to update it."""
        world = self.world
        if world is None:
            raise RuntimeError("start the emulator first")
        with world.lock:
            app = world.apps.get(app_id)
            segment = app.segments.get(segment_id) if app else None
            if segment is None:
                raise ValueError(f"no segment {segment_id} in app {app_id}")
            segment.in_active_journey = bool(active)

    def describe(self) -> dict[str, Any]:
        return {"now": self.now(), "seed": self.seed, "export_rate": self.export_rate,
                "latency_ms": self.latency_ms, "apps": self.world.describe() if self.world else []}

    # --- the request pipeline ------------------------------------------------

    @staticmethod
    def body_limit(path: str) -> int:
        """The API takes bodies up to 1 MB (413 beyond); the control API more."""
        return CONTROL_MAX_BODY if control.is_control_path(path) else MAX_BODY

    def __call__(self, request: Request) -> Response | object:
        if control.is_control_path(request.path):
            return control.handle(self, request)
        started = time.perf_counter()
        fault = self.faults.pick(request.method, request.path)
        delay = self.latency_ms + (fault.latency_ms if fault and fault.kind == "latency" else 0)
        if delay:
            time.sleep(delay / 1000)
        kind = fault.kind if fault else None
        retry_after = fault.retry_after if fault else None
        response: Response | None = None
        if kind in ("503_empty", "503_html"):
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            response = (Response(503, b"", None, headers) if kind == "503_empty"
                        else Response(503, PROXY_503, "text/html", headers))
        elif kind == "429":
            response = json_response(429, {"errors": [RATE_LIMITED]}, {"Retry-After": str(retry_after)})
        elif kind != "drop":
            response = self._answer(request)
        outcome = DROP if kind in ("drop", "lost_answer") else response
        self.log.record(
            time=self.now(), method=request.method, path=request.path, query=request.raw_query,
            authorization=request.headers.get("Authorization"), body=request.body,
            status=response.status if response is not None else None, fault=kind,
            duration_ms=(time.perf_counter() - started) * 1000)
        return outcome

    def _answer(self, request: Request) -> Response:
        assert self.exports is not None and self._core is not None, "a started emulator answers"
        try:
            if request.path.startswith("/_files/"):
                parts = request.path.split("/")
                if len(parts) != 4 or request.method not in ("GET", "HEAD"):
                    return json_response(404, {"errors": ["Not Found"]})
                return self.exports.download(parts[2], parts[3], self.now())
            return api.handle(self._core, request, self.url)
        except Exception:  # noqa: BLE001 - a bug in the emulator must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            return json_response(500, {"errors": ["Internal Server Error"]})
