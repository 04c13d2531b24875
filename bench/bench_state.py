"""State persistence speed, local backend, with 5,000 segments already in state.

    python bench/bench_state.py [--segments 5000] [--ops 300] [--threads 10] [--latency-ms 50]

Prints:
  1. one state write (encode + temp file + fsync + rename + directory fsync), median;
  2. 300 StateStore.update() calls from 10 threads, each adding a segment record,
     persisting after every update vs. only at the end (bench/persist_at_end.py);
  3. the same 300 operations shaped like apply's creates (record the intent,
     wait for the API, record the result) with a simulated API latency, which is
     what the target is about: per-operation persistence adds at most 20% to
     the wall time of an apply of 300 creates.
The state directory is a temporary directory beside this script's repository
(same filesystem as a real .osctl/), removed afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from persist_at_end import PersistAtEndStore  # noqa: E402

from osctl.filters import filters_digest  # noqa: E402
from osctl.state.local import LocalBackend  # noqa: E402
from osctl.state.model import SegmentRecord, State, encode_state  # noqa: E402
from osctl.state.store import StateStore  # noqa: E402

APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"


def segment(index: int, prefix: str = "Existing segment") -> SegmentRecord:
    filters = [{"field": "country", "relation": "=", "value": "US"},
               {"field": "last_session", "relation": "<", "hours_ago": str(24 + index % 100)},
               {"operator": "OR"},
               {"field": "tag", "key": "plan", "relation": "=", "value": f"tier-{index % 7}"}]
    return SegmentRecord(app="prod", app_id=APP_ID, name=f"{prefix} {index}", id=f"{index:08d}-0000-4000-8000-000000000000",
                         filters=tuple(filters), digest=filters_digest(filters), description=None,
                         created_at="2026-11-22T03:05:00Z")


def base_state(count: int) -> State:
    state = State.new()
    for index in range(count):
        record = segment(index)
        state.segments[record.address] = record
    return state


def fresh_backend(directory: Path, state: State) -> LocalBackend:
    """A backend at a new path holding `state` (written once, serial 1)."""
    backend = LocalBackend(Path(tempfile.mkdtemp(dir=directory)) / "state.json")
    state.serial = 1
    backend.write(state)
    return backend


def bench_single_write(directory: Path, segments: int, rounds: int) -> None:
    state = base_state(segments)
    started = time.perf_counter()
    document = encode_state(state)
    cold = time.perf_counter() - started
    backend = fresh_backend(directory, state)
    times = []
    for round_number in range(rounds):
        record = segment(round_number, prefix="Changed")  # one record changes per write, as in apply
        state.segments[record.address] = record
        state.serial += 1
        started = time.perf_counter()
        backend.write(state)
        times.append(time.perf_counter() - started)
    print(f"state document: {segments} segments, {len(document) / 1e6:.2f} MB; "
          f"first encode (nothing cached) {cold * 1000:.1f} ms")
    print(f"one state write at {segments} segments: median {statistics.median(times) * 1000:.1f} ms, "
          f"p90 {sorted(times)[int(rounds * 0.9)] * 1000:.1f} ms over {rounds} writes")


@dataclass(frozen=True)
class Shape:
    label: str
    latency: float  # simulated API round trip per operation; 0 = bare updates
    intents: str = "none"  # "each": one durable update before every request; "upfront": one for all
    wait_for_result: bool = True


def pending(index: int) -> SegmentRecord:
    return replace(segment(index, prefix="New"), id=None, status="pending_create")


def run_updates(directory: Path, segments: int, ops: int, threads: int, shape: Shape, *,
                persist: bool) -> tuple[float, int]:
    state = base_state(segments)
    backend = fresh_backend(directory, state)
    encode_state(state)  # as after a read: every record's encoding is cached
    store = StateStore(backend, state) if persist else PersistAtEndStore(backend, state)

    def put(record: SegmentRecord) -> Callable[[State], None]:
        return lambda s: s.segments.__setitem__(record.address, record)

    def operation(index: int) -> None:
        if shape.intents == "each":
            store.update(put(pending(index)))
        time.sleep(shape.latency)
        store.update(put(segment(index, prefix="New")), wait=shape.wait_for_result)

    started = time.perf_counter()
    if shape.intents == "upfront":
        store.update(lambda s: s.segments.update({r.address: r for r in map(pending, range(ops))}))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(operation, range(ops)))
    store.flush()
    elapsed = time.perf_counter() - started
    stored = backend.read()
    assert stored is not None and len(stored.segments) == segments + ops, "an update was lost"
    assert all(r.status == "created" for r in stored.segments.values()), "a result was lost"
    assert stored.serial == 1 + store.writes, "serial must grow by one per write"
    shutil.rmtree(backend.path.parent)
    return elapsed, store.writes


def bench_store(directory: Path, segments: int, ops: int, threads: int, latency: float, repeats: int) -> None:
    api = f"{latency * 1000:.0f} ms API latency"
    shapes = (Shape("bare updates, each durable", 0.0),
              Shape(f"apply-shaped, {api}: durable intent, durable result", latency, "each"),
              Shape(f"apply-shaped, {api}: durable intent, result wait=False", latency, "each", False),
              Shape(f"apply-shaped, {api}: all intents in one update first, result wait=False",
                    latency, "upfront", False))
    for shape in shapes:
        every, at_end, writes = [], [], []
        for _ in range(repeats):  # interleaved, so both see the same machine load
            elapsed, count = run_updates(directory, segments, ops, threads, shape, persist=True)
            every.append(elapsed)
            writes.append(count)
            at_end.append(run_updates(directory, segments, ops, threads, shape, persist=False)[0])
        per_write, end_only = statistics.median(every), statistics.median(at_end)
        print(f"{ops} operations from {threads} threads ({shape.label}), median of {repeats}: "
              f"persist after every update {per_write:.3f} s ({statistics.median(writes):.0f} writes), "
              f"persist only at the end {end_only:.3f} s, overhead {(per_write / end_only - 1) * 100:+.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=5000)
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=41, help="writes timed for the median")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix=".bench-state-", dir=root) as directory:
        bench_single_write(Path(directory), args.segments, args.rounds)
        bench_store(Path(directory), args.segments, args.ops, args.threads, args.latency_ms / 1000, args.repeats)


if __name__ == "__main__":
    main()
