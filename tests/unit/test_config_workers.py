"""Reading a large config in forked processes (osctl/config/workers.py) answers as reading in one does."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from osctl.config import loader, workers

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers need os.fork")
REPO = Path(__file__).resolve().parents[2]


def test_split_balances_the_weights():
    assert workers.split([5, 1, 1, 3], 2) == [[0], [1, 2, 3]]
    assert workers.split([2, 2, 2, 2], 2) == [[0, 2], [1, 3]]
    assert workers.split([1], 4) == [[0]]


def test_fork_map_answers_as_map():
    items = list(range(9))
    assert workers.fork_map(lambda x: x * x, items, workers.split([1] * 9, 3)) == [x * x for x in items]


def test_work_a_child_fails_to_deliver_is_done_here():
    parent = os.getpid()

    def square(x):
        if os.getpid() != parent:
            if x == 1:
                os.kill(os.getpid(), signal.SIGKILL)  # dies without a word
            raise RuntimeError("fails in the child")
        return x * x

    assert workers.fork_map(square, [0, 1, 2, 3], [[0], [1], [2, 3]]) == [0, 1, 4, 9]


def _cases() -> list[Path]:
    """Configs of several files: the examples and the corpus of mistakes."""
    return [case for folder in ("examples", "tests/configs") for case in sorted((REPO / folder).iterdir())
            if case.is_dir() and len(loader.config_files(case)) > 1]


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_reading_in_parallel_gives_the_same_answer(case, monkeypatch):
    files = loader.read_files(case)
    serial = loader.analyse(str(case), files)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(workers, "parallel_slots", lambda: 2)
    forks, fork = [], os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    parallel = loader.analyse(str(case), files)
    assert forks
    assert parallel.diagnostics == serial.diagnostics
    assert repr(parallel.config) == repr(serial.config)  # repr: locations included
