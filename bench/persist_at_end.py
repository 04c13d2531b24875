"""The baseline the state benchmarks compare against: a store that keeps every mutation in
memory and writes state once, at flush(). osctl itself always persists after every operation
(osctl/state/store.py); this exists only here, built on the public state API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from osctl import __version__
from osctl.state.backend import StateBackend
from osctl.state.model import State, encode_state

T = TypeVar("T")


class PersistAtEndStore:
    """What StateStore offers apply and the export runner, without the per-operation writes."""

    def __init__(self, backend: StateBackend, state: State):
        self._backend = backend
        self._state = state
        self._lock = threading.Lock()
        self._applied = 0  # numbers the mutations, as StateStore.update does
        self._durable = 0
        self.writes = 0

    @property
    def state(self) -> State:
        with self._lock:
            return self._state.copy()

    def view(self, read: Callable[[State], T]) -> T:
        with self._lock:
            return read(self._state)

    def update(self, mutate: Callable[[State], None], *, wait: bool = True) -> int:
        with self._lock:
            mutate(self._state)
            self._applied += 1
            return self._applied

    def recorded(self, sequence: int) -> bool:
        with self._lock:
            return self._durable >= sequence

    def flush(self) -> None:
        with self._lock:
            if self._durable == self._applied:
                return
            state = self._state
            state.serial += 1
            state.osctl_version = __version__
            self._backend.write_document(encode_state(state), lineage=state.lineage, serial=state.serial)
            self._durable = self._applied
            self.writes += 1
