"""Emulator fixtures for every test (imported by tests/conftest.py).

`emulator_server` runs one emulator for the whole session on 127.0.0.1; the
`emulator` fixture resets it before each test and hands it over with one app
ready: `emulator.url`, `emulator.app_id`, `emulator.api_key`, `emulator.env()`.
Exports are generated at FIXTURE_EXPORT_RATE so they are ready at once; a
test that wants to see "not ready" answers lowers it with
`emulator.set_export_rate(...)` or reads the URL before advancing the clock.
"""

from __future__ import annotations

import pytest

from osctl.emulator import Emulator

FIXTURE_EXPORT_RATE = 1_000_000.0


@pytest.fixture(scope="session")
def emulator_server():
    emu = Emulator(seed=0, messages=5, audience=1000, export_rate=FIXTURE_EXPORT_RATE)
    emu.start(host="127.0.0.1", port=0)
    yield emu
    emu.stop()


@pytest.fixture
def emulator(emulator_server):
    emulator_server.reset()
    yield emulator_server
