"""Where state lives: the contract every backend (local file, PostgreSQL) keeps.

A write names the serial it produces and is refused unless the stored state is
exactly its predecessor (same lineage, serial - 1), so a lost update is
impossible. Writers hold the backend's lock for the whole command.
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Protocol

from osctl.errors import LockHeld, StateError
from osctl.schedule import format_time
from osctl.state.model import State, encode_state

# What `osctl force-unlock` takes instead of an id for a local lock file that cannot be read
UNREADABLE_LOCK = "unreadable"


@dataclass(frozen=True)
class LockInfo:
    id: str
    pid: int
    host: str
    user: str
    operation: str
    created_at: str  # ISO 8601 UTC

    @classmethod
    def for_this_process(cls, operation: str) -> LockInfo:
        return cls(id=str(uuid.uuid4()), pid=os.getpid(), host=socket.gethostname(), user=_user(),
                   operation=operation,
                   created_at=format_time(datetime.now(UTC)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LockInfo:
        return cls(id=str(data["id"]), pid=int(data["pid"]), host=str(data["host"]), user=str(data["user"]),
                   operation=str(data["operation"]), created_at=str(data["created_at"]))

    def describe(self) -> str:
        return (f"lock {self.id} held by {self.user}@{self.host} (pid {self.pid}) "
                f"for \"{self.operation}\" since {self.created_at}")


class StateBackend(Protocol):
    description: str  # for messages, e.g. "local file .osctl/state.json"

    def read(self) -> State | None:
        """The stored state, or None when none was written yet."""

    def previous(self) -> State | None:
        """The version before the last write (local: the .backup file), or None."""

    def write(self, state: State, *, force: bool = False) -> None:
        """Persist `state` as serial `state.serial` (the caller increments it).

        StateError unless the stored state has the same lineage and serial
        `state.serial - 1` (any serial >= 1 when nothing is stored yet);
        `force` skips that check (`state push --force`).
        """

    def write_document(self, document: bytes, *, lineage: str, serial: int, force: bool = False) -> None:
        """Like write(), for a document already made by encode_state() (StateStore encodes
        under its mutex and writes outside it)."""

    def lock(self, operation: str, timeout_seconds: float) -> AbstractContextManager[LockInfo]:
        """Hold the state lock for the block; LockHeld naming the holder after waiting
        up to `timeout_seconds` (0 = fail at once)."""

    def force_unlock(self, lock_id: str) -> str | None:
        """Remove the lock if its id is `lock_id` (or, for the local file, if it cannot be read
        and `lock_id` is UNREADABLE_LOCK); StateError otherwise. May say what it removed."""


class BackendBase:
    """Shared behaviour: write() in terms of write_document(), the successor check."""

    description: str  # set by each backend's __init__

    def write(self, state: State, *, force: bool = False) -> None:
        self.write_document(encode_state(state), lineage=state.lineage, serial=state.serial, force=force)

    def write_document(self, document: bytes, *, lineage: str, serial: int, force: bool = False) -> None:
        raise NotImplementedError

    def check_successor(self, stored: tuple[str, int] | None, lineage: str, serial: int) -> None:
        """Refuse a write that is not the direct successor of `stored` (lineage, serial)."""
        if serial < 1:
            raise StateError(f"refusing to write state serial {serial}: serials start at 1")
        if stored is None:
            return
        stored_lineage, stored_serial = stored
        if stored_lineage != lineage:
            raise StateError(f"refusing to write state: {self.description} holds another state "
                             f"(lineage {stored_lineage}, this one is {lineage})")
        if stored_serial != serial - 1:
            raise StateError(f"refusing to write state serial {serial}: {self.description} is at serial "
                             f"{stored_serial}, so it changed since it was read (another osctl wrote it?)")


def lock_held(info: LockInfo | None, where: str, waited: float, hint: str = "") -> LockHeld:
    holder = info.describe() if info else "a lock whose details cannot be read"
    waited_text = f" after waiting {waited:g}s" if waited else ""
    unlock = f"; if it is stale, run: osctl force-unlock {info.id}" if info else ""
    return LockHeld(f"state is locked{waited_text}: {holder}{hint}{unlock} ({where})")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
