"""A harness for export tests: a config directory, real state on disk, real clients, the
session emulator over HTTP on 127.0.0.1.

Time: the emulator's clock starts at a fixed instant (HARNESS_START, far from the tick
boundaries of the schedules the tests use, so no test depends on the hour it runs at);
osctl's wall clock is the emulator's clock, and the sleep injected into polling
advances the emulator's clock (and a fake monotonic clock) instead of waiting, so an
export that takes ten emulator minutes is polled in milliseconds. The view endpoints'
rate limit is lifted unless a test asks for it (pacing has its own test).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from osctl.config.loader import load_or_fail
from osctl.exports import apply_exports, plan_exports
from osctl.onesignal.client import OneSignalClient
from osctl.state import open_backend
from osctl.state.model import State
from osctl.state.store import StateStore

KEY_ENV = "OSCTL_TEST_EXPORTS_KEY"
# 12:00 UTC is 07:00 in New York and 13:00 in Berlin: hours away from the daily ticks
HARNESS_START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@dataclass
class Recorder:
    """Observer that keeps what the runner reported."""

    steps: list[str] = field(default_factory=list)
    progress: list[tuple[int, int | None, int]] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def export_started(self, run):
        self.steps.append(f"start {run.name}")

    def export_step(self, run, text):
        self.steps.append(text)

    def export_progress(self, run, done, total, rows):
        self.progress.append((done, total, rows))

    def export_finished(self, run, detail):
        self.finished.append(detail)

    def export_failed(self, run, error):
        self.failed.append(error)


class Harness:
    def __init__(self, emulator, directory: Path, monkeypatch):
        emulator.reset(now=HARNESS_START.timestamp())
        self.emu = emulator
        self.dir = directory
        self.mono = 0.0
        self.sleeps: list[float] = []
        self.observer = Recorder()
        monkeypatch.setenv(KEY_ENV, emulator.api_key)
        for endpoint in ("messages_list", "message_view"):
            emulator.set_rate_limit(endpoint, None)
        self._clients: list[OneSignalClient] = []
        self.api_url = emulator.url  # a test may put a proxy in front

    # -- time --------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.emu.now(), UTC)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.emu.advance(seconds)
            self.mono += seconds

    def monotonic(self) -> float:
        return self.mono

    # -- config and state ------------------------------------------------------------
    def write_config(self, exports_yaml: str, *, extra: str = "") -> None:
        text = textwrap.dedent(f"""\
            osctl: 1
            apps:
              prod:
                app_id: {self.emu.app_id}
                api_key_env: {KEY_ENV}
            """) + textwrap.dedent(extra) + "exports:\n" + textwrap.indent(textwrap.dedent(exports_yaml), "  ")
        (self.dir / "osctl.yaml").write_text(text)

    @property
    def config(self):
        return load_or_fail(self.dir)

    def state(self) -> State:
        return open_backend(self.config).read() or State.new()

    def record(self, name: str):
        return self.state().exports.get(name)

    def client(self, **kw) -> OneSignalClient:
        client = OneSignalClient(self.api_url, self.emu.api_key, view_interval=kw.pop("view_interval", 0.0), **kw)
        self._clients.append(client)
        return client

    def client_for(self, api_key: str) -> OneSignalClient:
        client = OneSignalClient(self.api_url, api_key, view_interval=0.0)
        self._clients.append(client)
        return client

    # -- plan and apply --------------------------------------------------------------
    def plan(self, forced=(), *, clients=None):
        config = self.config
        return plan_exports(config, self.state(), clients or {"prod": self.client()}, self.now(),
                            forced=tuple(forced))

    def apply(self, runs, *, clients=None, observer=None, **kw):
        config = self.config
        backend = open_backend(config)
        store = StateStore(backend, backend.read() or State.new())
        result = apply_exports(runs, config, store, clients or {"prod": self.client()}, self.now,
                               observer or self.observer, config_dir=self.dir, sleep=self.sleep,
                               monotonic=self.monotonic, **kw)
        store.flush()
        return result

    def run(self, forced=(), **kw):
        runs = self.plan(forced)
        assert runs, "nothing is due: the test would prove nothing"
        return self.apply(runs, **kw)

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.dir)) for p in self.dir.rglob("*") if p.is_file()
                      and ".osctl" not in p.parts and p.name != "osctl.yaml")

    def export_requests(self) -> list[dict]:
        return [r for r in self.emu.requests() if r["method"] == "POST"
                and (r["path"].endswith("/csv_export") or "/export_events" in r["path"]
                     or r["path"].endswith("/history"))]

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture
def harness(emulator, tmp_path, monkeypatch):
    h = Harness(emulator, tmp_path, monkeypatch)
    yield h
    h.close()
