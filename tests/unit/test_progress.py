"""What osctl shows while it waits: a redrawn line on a terminal, a line every 30 s in a log.
Time is injected everywhere; nothing here sleeps through an interval."""

from __future__ import annotations

import io
import threading

from osctl.progress import ProgressLine, Reporter

CLEAR = "\r\x1b[K"


def test_a_log_gets_one_line_every_interval_naming_the_wait():
    line = ProgressLine(interactive=False, now=100.0)
    line.start("Listing segments of prod", None, now=100.0)
    assert line.frame(129.9) == ""  # a quick command writes nothing at all
    assert line.frame(130.0) == "still waiting: Listing segments of prod (30 s)\n"
    assert line.frame(131.0) == "" and line.frame(159.0) == ""
    line.start("Reading segments of prod", 300, now=160.0)
    line.advance(120)
    assert line.frame(200.0) == "still waiting: Reading segments of prod: 120/300 (40 s)\n"
    assert line.frame(290.0) == "still waiting: Reading segments of prod: 120/300 (2 min 10 s)\n"
    assert line.finish() == ""  # nothing to erase in a log


def test_a_terminal_line_is_redrawn_in_place_and_erased():
    line = ProgressLine(interactive=True, now=0.0)
    line.start("Reading segments of prod", 3, now=0.0)
    assert line.frame(0.2) == ""  # no flicker for a quick read
    line.advance(1)
    assert line.frame(0.6) == f"{CLEAR}⠙ Reading segments of prod: 1/3 (0 s)"
    line.advance(1)
    assert line.frame(61.0) == f"{CLEAR}⠹ Reading segments of prod: 2/3 (1 min 1 s)"
    assert line.finish() == CLEAR
    assert line.finish() == ""


def test_nothing_is_shown_before_a_wait_starts():
    assert ProgressLine(interactive=False, now=0.0).frame(1000.0) == ""


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_reporter_writes_frames_at_the_injected_times():
    clock, out = Clock(), io.StringIO()
    reporter = Reporter(out, ProgressLine(interactive=False, now=0.0), clock=clock)
    reporter.start("Listing segments of prod")
    clock.now = 29.0
    reporter.tick()
    assert out.getvalue() == ""
    clock.now = 31.0
    reporter.tick()
    reporter.close()
    assert out.getvalue() == "still waiting: Listing segments of prod (31 s)\n"


def test_the_ticker_thread_reports_while_the_caller_is_stuck_in_a_request():
    clock, out = Clock(), io.StringIO()
    written = threading.Event()

    class Watched(io.StringIO):
        def write(self, text):
            out.write(text)
            written.set()
            return len(text)

    with Reporter(Watched(), ProgressLine(interactive=False, now=0.0), clock=clock, tick_seconds=0.001) as reporter:
        reporter.start("Listing segments of prod")
        clock.now = 95.0  # the request "hangs" for 95 s of injected time; the thread notices
        assert written.wait(5), "the ticker thread never wrote"
    assert out.getvalue() == "still waiting: Listing segments of prod (1 min 35 s)\n"
