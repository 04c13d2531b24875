"""The edges a command needs: the clock, API keys from the environment, API clients.

Kept out of the pure core: planner, renderers and schedule code receive `now`
and clients as arguments.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from osctl.config.model import PLACEHOLDER_APP_ID, App, Config
from osctl.errors import OsctlError, UsageError

if TYPE_CHECKING:
    from osctl.onesignal.client import OneSignalClient


def now() -> datetime:
    """The current time in UTC; OSCTL_NOW (ISO 8601, e.g. 2026-11-22T03:05:00Z) fixes it for tests."""
    fixed = os.environ.get("OSCTL_NOW")
    if fixed:
        try:
            value = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"OSCTL_NOW={fixed!r} is not an ISO 8601 time such as 2026-11-22T03:05:00Z") from None
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.now(UTC)


def api_key(app: App) -> str:
    raw = os.environ.get(app.api_key_env)
    key = (raw or "").strip()
    if not key:
        # "empty" and "not set" need different fixes (a CI secret that expanded to nothing vs a missing export)
        problem = "is not set" if raw is None else "is empty"
        raise OsctlError(f"environment variable {app.api_key_env} {problem}: it must hold the App API key "
                         f"of app '{app.alias}' ({app.app_id})")
    return key


def auth_hint(app: App) -> str:
    """What to check when OneSignal refuses the key: the variable holding it and the app id it is for."""
    if app.app_id == PLACEHOLDER_APP_ID:
        return (f"app '{app.alias}' still has the placeholder app_id {PLACEHOLDER_APP_ID} that 'osctl init' "
                f"writes: replace it with your App ID (dashboard > Settings > Keys & IDs), and check that "
                f"{app.api_key_env} holds that app's App API key")
    return (f"check that {app.api_key_env} holds the App API key of app '{app.alias}' and that its app_id "
            f"{app.app_id} is right (the all-zero app_id 'osctl init' writes is a placeholder to replace)")


def _report_retry(call: str, reason: str) -> None:
    # one write per line so lines from worker threads do not interleave
    sys.stderr.write(f"retry: {call}: {reason}\n")
    sys.stderr.flush()


@contextmanager
def clients(config: Config, api_url: str, *, parallelism: int = 10, apps: list[str] | None = None,
            verbose: bool = False) -> Iterator[dict[str, OneSignalClient]]:
    """One OneSignalClient per app alias (the key of each from its own env var), closed on exit.

    With `verbose` (-v) every retry is reported on stderr as it happens."""
    on_retry = _report_retry if verbose else None
    # httpx is loaded only by commands that talk to the API
    from osctl.onesignal.client import OneSignalClient

    with ExitStack() as stack:
        made: dict[str, OneSignalClient] = {}
        for alias in apps or list(config.apps):
            app = config.apps[alias]
            made[alias] = stack.enter_context(
                OneSignalClient(api_url, api_key(app), parallelism=parallelism, on_retry=on_retry,
                                auth_hint=auth_hint(app)))
        yield made
