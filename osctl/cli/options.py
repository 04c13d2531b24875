"""Options every command accepts, before or after the command name.

`osctl -c conf plan` and `osctl plan -c conf` mean the same; a value given after
the command name wins.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

DEFAULT_API_URL = "https://api.onesignal.com"
Command = TypeVar("Command", bound=Callable[..., Any])  # a click command's function


@dataclass
class Settings:
    config_dir: str | None = None
    api_url: str | None = None
    no_color: bool = False
    verbose: int = 0
    quiet: bool = False

    @property
    def config_path(self) -> Path:
        return Path(self.config_dir or os.environ.get("OSCTL_CONFIG") or ".")

    @property
    def resolved_api_url(self) -> str:
        return self.api_url or os.environ.get("ONESIGNAL_API_URL") or DEFAULT_API_URL

    def color(self, stream_isatty: bool) -> bool:
        # no-color.org: only a non-empty NO_COLOR disables colour
        return stream_isatty and not self.no_color and not os.environ.get("NO_COLOR")


def _settings(ctx: click.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def _store(field: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or value is False or value == 0:
            return value
        setattr(_settings(ctx), field, value)
        return value

    return callback


def global_options(func: Command) -> Command:
    options = [
        click.option("-c", "--config", "config_dir", metavar="DIR", default=None, expose_value=False,
                     callback=_store("config_dir"), is_eager=True,
                     help="Configuration directory (env OSCTL_CONFIG, default .)."),
        click.option("--api-url", metavar="URL", default=None, expose_value=False,
                     callback=_store("api_url"), is_eager=True,
                     help=f"OneSignal API base URL (env ONESIGNAL_API_URL, default {DEFAULT_API_URL})."),
        click.option("--no-color", is_flag=True, default=False, expose_value=False,
                     callback=_store("no_color"), is_eager=True, help="Disable colour (also NO_COLOR)."),
        click.option("-v", "--verbose", count=True, expose_value=False, callback=_store("verbose"),
                     is_eager=True, help="More detail; tracebacks for internal errors."),
        click.option("-q", "--quiet", is_flag=True, default=False, expose_value=False,
                     callback=_store("quiet"), is_eager=True, help="Only errors and requested output."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def pass_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the merged Settings as its first argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(_settings(click.get_current_context()), *args, **kwargs)

    return wrapper


def _lock_timeout(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from osctl.durations import parse_duration
    from osctl.errors import UsageError

    try:
        return parse_duration(value)
    except ValueError:
        raise UsageError(f"--lock-timeout: {value!r} is not a duration (e.g. 0s, 30s, 5m)") from None


lock_timeout_option = click.option(
    "--lock-timeout", default="0s", show_default=True, metavar="DURATION", callback=_lock_timeout,
    help="How long to wait for another osctl's lock on the state (e.g. 30s, 5m).")
