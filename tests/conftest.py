import os
from pathlib import Path

import pytest

from tests.fixtures_emulator import *  # noqa: F401,F403

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_ambient_osctl_env(monkeypatch):
    """Tests must not pick up a developer's own osctl or OneSignal settings."""
    for name in list(os.environ):
        if name.startswith("OSCTL_") or name.startswith("ONESIGNAL_") or name == "NO_COLOR":
            monkeypatch.delenv(name, raising=False)
