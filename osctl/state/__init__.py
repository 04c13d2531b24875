"""osctl's state: the model (pure), the backends that store it, and the store apply uses."""

from __future__ import annotations

from pathlib import Path

from osctl.config.model import Config
from osctl.errors import StateError
from osctl.state.backend import StateBackend


def open_backend(config: Config) -> StateBackend:
    """The backend the config's `state:` section names."""
    settings = config.state
    if settings.backend == "local":
        from osctl.state.local import LocalBackend

        return LocalBackend(Path(config.directory) / settings.path)
    if settings.backend == "postgres":
        from osctl.state.postgres import backend_from_env

        return backend_from_env(settings.dsn_env, settings.workspace)
    raise StateError(f"unknown state backend {settings.backend!r}; use local or postgres")
