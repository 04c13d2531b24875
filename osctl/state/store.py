"""The state apply works on, persisted after every operation without serialising apply.

Worker threads call `update(mutate)`: the mutation is applied in memory at once
and a writer thread persists it. Writes are group-committed: while one write is
in progress, further mutations queue up and the next write covers all of them
in a single document, so with N workers one fsync covers up to N operations.
Each write raises the serial by exactly one.

`update` returns once a write including the mutation is durable. With
`wait=False` it returns at once and the mutation rides along with the next
write; use that only where losing it in a crash is recoverable (a create's
result, when its intent is already durable: the next plan adopts the segment).
If a write fails, the store stops writing and every later call raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from osctl import __version__
from osctl.errors import OsctlError, StateError
from osctl.state.backend import StateBackend
from osctl.state.model import State, encode_state

T = TypeVar("T")


class StateAccess(Protocol):
    """What apply and exports need of the state while they run: StateStore's methods."""

    def view(self, read: Callable[[State], T]) -> T: ...

    def update(self, mutate: Callable[[State], object], *, wait: bool = True) -> int: ...  # result ignored

    def recorded(self, sequence: int) -> bool: ...

    def flush(self) -> None: ...


class StateStore:
    """Implements StateAccess over a StateBackend."""

    def __init__(self, backend: StateBackend, state: State):
        self._backend = backend
        self._state = state
        self._changed = threading.Condition(threading.Lock())  # guards every field below
        self._applied = 0  # sequence number of the last mutation applied in memory
        self._durable = 0  # every mutation up to this number is written
        self._writer: threading.Thread | None = None  # runs while mutations are pending
        self._failure: OsctlError | None = None
        self.writes = 0  # writes done, for tests and benchmarks

    @property
    def state(self) -> State:
        """A snapshot: later updates do not show in it, and changing it changes nothing."""
        with self._changed:
            return self._state.copy()

    def view(self, read: Callable[[State], T]) -> T:
        """`read(state)` under the lock, without a copy; `read` must not keep or change it."""
        with self._changed:
            return read(self._state)

    def update(self, mutate: Callable[[State], object], *, wait: bool = True) -> int:
        """Apply `mutate` to the state and persist it; with `wait`, return only once durable.

        Records are immutable: put new ones (`dataclasses.replace`) into the state's
        mappings (see osctl.state.model). StateError if state cannot be written. Returns the
        mutation's sequence number, for recorded().
        """
        with self._changed:
            self._raise_if_failed()
            mutate(self._state)
            self._applied += 1
            self._start_writer()
            if wait:
                self._wait_until_durable(self._applied)
            return self._applied

    def recorded(self, sequence: int) -> bool:
        """Whether the mutation `update` numbered `sequence` is durable."""
        with self._changed:
            return self._durable >= sequence

    def flush(self) -> None:
        """Return once everything applied is durable (writes nothing if it already is)."""
        with self._changed:
            self._raise_if_failed()
            if self._durable < self._applied:
                self._start_writer()
                self._wait_until_durable(self._applied)

    # -- the writer --------------------------------------------------------------
    def _start_writer(self) -> None:
        if self._writer is None:
            # Not a daemon: at exit, pending mutations are still written.
            self._writer = threading.Thread(target=self._write_while_pending, name="osctl-state-writer")
            self._writer.start()

    def _wait_until_durable(self, sequence: int) -> None:
        while self._durable < sequence:
            self._raise_if_failed()
            self._changed.wait()

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise StateError(f"state could not be written: {self._failure}")

    def _write_while_pending(self) -> None:
        with self._changed:
            try:
                while self._durable < self._applied:
                    self._write_pending()
            except OsctlError as exc:
                self._failure = exc
            except Exception as exc:  # e.g. a database driver error: still a message, not a traceback
                self._failure = StateError(f"{type(exc).__name__}: {exc}")
            finally:
                self._writer = None
                self._changed.notify_all()

    def _write_pending(self) -> None:
        """One write of every mutation applied so far; called, and returns, with the lock held."""
        covered = self._applied
        state = self._state
        state.serial += 1
        state.osctl_version = __version__
        try:
            document = encode_state(state)  # under the lock: a consistent document
        except BaseException:
            state.serial -= 1
            raise
        lineage, serial = state.lineage, state.serial
        self._changed.release()  # mutations go on while this one syncs
        try:
            self._backend.write_document(document, lineage=lineage, serial=serial)
        except BaseException:
            self._changed.acquire()
            state.serial = serial - 1  # only the writer moves the serial
            raise
        self._changed.acquire()
        self._durable = covered
        self.writes += 1
        self._changed.notify_all()
