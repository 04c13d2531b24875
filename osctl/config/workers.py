"""Run a function over a few large inputs in forked processes, results back by pickle.

Reading a large config is CPU-bound Python, which threads cannot share out (the
GIL). A forked child starts with every module imported and every cache warm, so
it costs a few milliseconds: worth it for several files of a large config, not
for the usual small one (the caller decides, see parallel_slots()).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def parallel_slots() -> int:
    """How many processes may usefully run at once; 1 where forking is unavailable or unsafe."""
    if not hasattr(os, "fork") or sys.platform == "darwin":  # macOS system libraries are not fork-safe
        return 1
    if threading.active_count() > 1:  # a fork copies only this thread: a lock another holds stays locked
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def split(weights: Sequence[int], count: int) -> list[list[int]]:
    """Indexes of the inputs in at most `count` groups of similar total weight (heaviest first)."""
    groups: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for index in sorted(range(len(weights)), key=lambda i: -weights[i]):
        lightest = loads.index(min(loads))
        groups[lightest].append(index)
        loads[lightest] += weights[index]
    return [sorted(group) for group in groups if group]


def fork_map(fn: Callable[[T], R], items: Sequence[T], groups: list[list[int]]) -> list[R]:
    """[fn(item) for item in items], the first group here and every other one in a forked child.

    Results must pickle. A child that fails for any reason leaves its group to
    this process, so the answer is always the same as without children.
    """
    children = [_start(fn, items, group) for group in groups[1:]]
    results: list = [None] * len(items)
    try:
        for index in groups[0] if groups else ():
            results[index] = fn(items[index])
        for pid, stream, group in children:
            values = _collect(pid, stream, len(group))
            if values is None:
                values = [fn(items[i]) for i in group]
            for index, value in zip(group, values, strict=True):
                results[index] = value
    finally:
        for pid, stream, _ in children:  # after an error here: stop waiting for the children
            if not stream.closed:
                stream.close()
                _reap(pid)
    return results


def _start(fn, items, group):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into the caller's code, never flush its buffers
        status = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                pickle.dump([fn(items[i]) for i in group], out, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, os.fdopen(read_end, "rb"), group


def _collect(pid: int, stream, count: int) -> list | None:
    """The child's results, or None if it did not deliver them all."""
    try:
        values = pickle.load(stream)
    except Exception:  # the child died or failed: EOF or a truncated pickle
        values = None
    finally:
        stream.close()
        _reap(pid)
    return values if isinstance(values, list) and len(values) == count else None


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
