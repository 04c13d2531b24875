"""Stopping `apply` and `exports run` cleanly on SIGINT (Ctrl-C) and SIGTERM (what CI
runners send when a job is cancelled, and what `timeout` sends).

Until changes start, a signal stops the command at once: nothing was changed, and
the state lock is released on the way out (Interrupted). Once they have started
(`changing()`), a signal only asks them to stop: no new operation starts, those in
flight finish, state is written and the lock released, what was done and what was
not is printed, and the command exits 128 + the signal number (130 for SIGINT, 143
for SIGTERM). A SIGKILL cannot be caught: state then still says what happened
(see osctl.apply), but the local lock stays until `osctl force-unlock`.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

from osctl.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# what signal.signal() takes and returns (typeshed's signal._HANDLER)
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class StopSignals:
    """A context that catches SIGINT and SIGTERM (main thread only) and restores the
    previous handlers on exit."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._requested = threading.Event()
        self._changing = False
        self._previous: dict[int, Handler] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._received)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @contextmanager
    def changing(self) -> Iterator[None]:
        """From here on a signal stops new work instead of the process. It stays so after
        the block: writing state and releasing the lock must not be cut short."""
        self._changing = True
        if self.signum is not None:  # arrived just before: stop before the first change
            self._requested.set()
        yield

    def reason(self) -> str | None:
        """'stopped by SIGTERM' once a stop was asked for, else None."""
        if not self._requested.is_set() or self.signum is None:  # set together, by _received
            return None
        return f"stopped by {signal.Signals(self.signum).name}"

    def sleep(self, seconds: float) -> None:
        """time.sleep that a stop request cuts short."""
        self._requested.wait(max(0.0, seconds))

    def exit_code(self, code: int) -> int:
        return 128 + self.signum if self.signum is not None else code

    def _received(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.signum is None:
            self.signum = signum
        if not self._changing:
            raise Interrupted(self.signum)
        again = self._requested.is_set()
        self._requested.set()
        # os.write, not print: the interrupted code may be inside a print to the same stream
        text = (f"\nReceived {name}: still stopping; waiting for the operations in flight."
                if again else
                f"\nReceived {name}: starting nothing new; waiting for the operations in flight, "
                f"then saving state and releasing the lock.")
        with suppress(OSError):
            os.write(2, (text + "\n").encode())
