"""The state backends the conformance suite runs against.

To add a backend: write a Kit for it below, add it to KITS, and teach
`open_spec` to open it from its spec (subprocesses use the spec to reach the
same store). Everything in test_backend_conformance.py then runs against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osctl.state.backend import StateBackend
from osctl.state.local import LocalBackend


@dataclass
class Kit:
    """One empty state store, reachable from this process and from subprocesses."""

    name: str
    spec: dict  # JSON-serialisable: enough for open_spec() in another process

    def new(self) -> StateBackend:
        """A fresh backend object on the same store (as another osctl process would have)."""
        return open_spec(self.spec)


def local_kit(tmp_path: Path) -> Kit:
    return Kit("local", {"kind": "local", "path": str(tmp_path / ".osctl" / "state.json")})


def postgres_kit(tmp_path: Path) -> Kit:
    from tests.state.pg_server import new_workspace, shared_server

    return Kit("postgres", {"kind": "postgres", "dsn": shared_server().dsn(), "workspace": new_workspace()})


KITS = {"local": local_kit, "postgres": postgres_kit}


def open_spec(spec: dict) -> StateBackend:
    if spec["kind"] == "local":
        return LocalBackend(Path(spec["path"]))
    if spec["kind"] == "postgres":
        from osctl.state.postgres import PostgresBackend

        return PostgresBackend(spec["dsn"], spec["workspace"])
    raise ValueError(f"unknown backend kind {spec['kind']!r}")
