"""A OneSignal emulator on 127.0.0.1 for the client's integration tests, reset per test,
plus a fake clock so that backoff is recorded instead of waited for."""

from __future__ import annotations

import time

import httpx
import pytest

APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
API_KEY = "k3y-Zq8Vtx2Lm9Pc4Rw7Yb1Hs6Nd0Gf5Ja"  # distinctive, to search outputs for it


class FakeTime:
    """clock/sleep pair for the client: the clock only moves when the client sleeps.

    With real=True each sleep also really waits, for servers whose limits run on real time."""

    def __init__(self, real: bool = False):
        self.now = 0.0
        self.sleeps: list[float] = []
        self.real = real

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.real:
            time.sleep(seconds)


class Control:
    """The emulator's /_emulator/ control API."""

    def __init__(self, url: str):
        self._http = httpx.Client(base_url=url + "/_emulator", timeout=10)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self._http.request(method, path, json=body)
        assert response.is_success, f"control {method} {path}: {response.status_code} {response.text}"
        return response.json()

    def faults(self, *rules: dict, seed: int = 0) -> None:
        self.call("PUT", "/faults", {"seed": seed, "faults": list(rules)})

    def rate_limit(self, endpoint: str, per_second: float | None, burst: int = 1) -> None:
        limit = None if per_second is None else {"per_second": per_second, "burst": burst}
        self.call("PUT", "/rate_limits", {"limits": {endpoint: limit}})

    def requests(self) -> list[dict]:
        return self.call("GET", "/requests")["requests"]

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="module")
def emulator_url():
    from osctl.emulator import Emulator

    emu = Emulator(seed=0)
    emu.add_app(APP_ID, API_KEY, account="default")
    emu.start(host="127.0.0.1", port=0)
    try:
        yield emu.url
    finally:
        emu.stop()


@pytest.fixture
def control(emulator_url):
    ctl = Control(emulator_url)
    ctl.call("POST", "/reset")
    ctl.call("DELETE", "/faults")
    ctl.call("DELETE", "/requests")
    yield ctl
    ctl.close()


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def retries():
    """on_retry recorder: (call, reason) pairs."""
    return []


@pytest.fixture
def client(emulator_url, control, fake_time, retries):
    from osctl.onesignal import OneSignalClient

    with OneSignalClient(
        emulator_url, API_KEY, timeout=5.0, sleep=fake_time.sleep, clock=fake_time.clock,
        rng=lambda: 0.5, on_retry=lambda call, reason: retries.append((call, reason)),
    ) as made:
        yield made
