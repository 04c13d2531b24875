"""Telling the user what osctl is waiting for while it reads the live apps.

    Progress        what waiting code calls: start(what, total), advance()
    NO_PROGRESS     a Progress that shows nothing (-q, tests, library use)
    ProgressLine    pure: what to show at a given time (the clock is an argument)
    Reporter        writes ProgressLine's frames to a stream, from a ticker thread, so a
                    request that hangs still shows on screen or in the log

On a terminal the line is redrawn in place ("⠹ Reading segments of prod: 120/300 (12 s)")
and erased when done; anywhere else (CI logs) one line is written every `interval`
seconds while something is waited for, and nothing at all for a quick command.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO

CI_INTERVAL_SECONDS = 30.0
TERMINAL_DELAY_SECONDS = 0.5  # a quick command shows no line at all
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_CLEAR = "\r\x1b[K"


class Progress(Protocol):
    def start(self, what: str, total: int | None = None) -> None:
        """A new wait begins, e.g. ("Reading segments of prod", 300)."""

    def advance(self, count: int = 1) -> None:
        """`count` more of the current wait's `total` are done (callable from any thread)."""


class _NoProgress:
    def start(self, what: str, total: int | None = None) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


NO_PROGRESS: Progress = _NoProgress()


class ProgressLine:
    """What to show, given the current wait and the time. Pure: `now` is always an argument."""

    def __init__(self, *, interactive: bool, now: float, interval: float = CI_INTERVAL_SECONDS):
        self.interactive = interactive
        self.interval = interval
        self.what: str | None = None
        self.total: int | None = None
        self.done = 0
        self.since = now  # when the current wait began
        self._last_line = now  # CI: when the last line was written (or the report began)
        self._frames = 0
        self._drawn = False

    def start(self, what: str, total: int | None, now: float) -> None:
        self.what, self.total, self.done, self.since = what, total, 0, now

    def advance(self, count: int) -> None:
        self.done += count

    def text(self, now: float) -> str:
        counts = f": {self.done}/{self.total}" if self.total is not None else ""
        return f"{self.what}{counts} ({_elapsed(now - self.since)})"

    def frame(self, now: float) -> str:
        """What to write now ('' for nothing): a redrawn line, or a whole line for a log."""
        if self.what is None:
            return ""
        if self.interactive:
            if now - self.since < TERMINAL_DELAY_SECONDS and not self._drawn:
                return ""
            self._frames += 1
            self._drawn = True
            return f"{_CLEAR}{_SPINNER[self._frames % len(_SPINNER)]} {self.text(now)}"
        if now - self._last_line < self.interval:
            return ""
        self._last_line = now
        return f"still waiting: {self.text(now)}\n"

    def finish(self) -> str:
        """What erases a drawn terminal line ('' when nothing is on screen)."""
        drawn, self._drawn = self._drawn, False
        return _CLEAR if drawn else ""


class Reporter:
    """A Progress that writes ProgressLine frames to `stream`.

    `tick()` draws one frame; as a context manager a thread calls it every `tick_seconds`
    (tests leave the thread out and call tick() with an injected clock)."""

    def __init__(self, stream: TextIO, line: ProgressLine, *, clock: Callable[[], float] = time.monotonic,
                 tick_seconds: float | None = None):
        self._stream = stream
        self._line = line
        self._clock = clock
        self._tick_seconds = tick_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, what: str, total: int | None = None) -> None:
        with self._lock:
            self._line.start(what, total, self._clock())
        self.tick()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self._line.advance(count)

    def tick(self) -> None:
        with self._lock:
            self._write(self._line.frame(self._clock()))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._write(self._line.finish())

    def _write(self, text: str) -> None:
        if text:
            self._stream.write(text)
            self._stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._tick_seconds):
            self.tick()

    def __enter__(self) -> Reporter:
        if self._tick_seconds is not None:
            self._thread = threading.Thread(target=self._run, name="osctl-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def reporter_for(stream: TextIO | None = None, *, quiet: bool = False) -> Reporter | _QuietReporter:
    """The reporter a command uses: a redrawn line on a terminal, a line every 30 s elsewhere."""
    stream = stream or sys.stderr
    if quiet:
        return _QuietReporter()
    interactive = bool(getattr(stream, "isatty", lambda: False)())
    line = ProgressLine(interactive=interactive, now=time.monotonic())
    return Reporter(stream, line, tick_seconds=0.1 if interactive else 1.0)


class _QuietReporter(_NoProgress):
    def __enter__(self) -> _QuietReporter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def _elapsed(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
