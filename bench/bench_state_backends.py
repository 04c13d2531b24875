"""State persistence on PostgreSQL vs a local file, with 5,000 segments already in state.

    python bench/bench_state_backends.py [--segments 5000] [--ops 300] [--threads 10]
                                         [--latency-ms 50] [--rounds 41] [--repeats 3] [--dsn DSN]

Prints, for each backend:
  1. one state write at that size (one record changed since the last write, as in
     apply), median and p90, taken while holding the lock as apply does;
  2. the wall time of 300 creates from 10 threads through StateStore, persisting
     after every update, in two shapes:
       - apply-shaped: the executor's pattern (every create's intent recorded durably
         in one update first, then each result as the simulated API call returns);
       - every update durable: each of the 300 updates waits for its write (the
         backend's write time is on every thread's critical path);
  and the ratio postgres / local of each. Target: the apply-shaped ratio <= 1.25.

PostgreSQL: a throwaway cluster started with PostgreSQL's default durability
(fsync on, like the local backend's fsync) in a temporary directory, on 127.0.0.1;
or an existing server with --dsn (its tables are created in schema `osctl`, the
bench uses new workspaces and deletes them afterwards). Runs are interleaved so
both backends see the same machine load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_state import base_state, pending, segment  # noqa: E402

from osctl.state.local import LocalBackend  # noqa: E402
from osctl.state.model import State, encode_state  # noqa: E402
from osctl.state.postgres import PostgresBackend  # noqa: E402
from osctl.state.store import StateStore  # noqa: E402


class Backends:
    """Fresh, empty stores of each kind."""

    def __init__(self, directory: Path, dsn: str):
        self.directory, self.dsn = directory, dsn
        self.workspaces: list[str] = []

    def new(self, kind: str):
        if kind == "local":
            return LocalBackend(Path(tempfile.mkdtemp(dir=self.directory)) / "state.json")
        workspace = f"bench-{uuid.uuid4().hex[:10]}"
        self.workspaces.append(workspace)
        return PostgresBackend(self.dsn, workspace)

    def reopen(self, backend):
        if isinstance(backend, LocalBackend):
            return LocalBackend(backend.path)
        return PostgresBackend(self.dsn, backend.workspace)

    def cleanup(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for table in ("states", "state_history", "locks"):
                conn.execute(f"DELETE FROM osctl.{table} WHERE workspace = ANY(%s)", (self.workspaces,))


def single_write(backends: Backends, kind: str, segments: int, rounds: int) -> list[float]:
    state = base_state(segments)
    backend = backends.new(kind)
    state.serial = 1
    backend.write(state)
    times = []
    with backend.lock("bench", 0):
        for round_number in range(rounds):
            record = segment(round_number, prefix="Changed")
            state.segments[record.address] = record
            state.serial += 1
            started = time.perf_counter()
            backend.write(state)
            times.append(time.perf_counter() - started)
    return times


def creates(backends: Backends, kind: str, segments: int, ops: int, threads: int, latency: float,
            apply_shaped: bool) -> tuple[float, int]:
    state = base_state(segments)
    backend = backends.new(kind)
    state.serial = 1
    backend.write(state)
    encode_state(state)  # as after a read: every record's encoding is cached

    def put(record) -> Callable[[State], None]:
        return lambda s: s.segments.__setitem__(record.address, record)

    with backend.lock("apply", 0):
        store = StateStore(backend, state)

        def operation(index: int) -> None:
            time.sleep(latency)  # the API call
            store.update(put(segment(index, prefix="New")), wait=not apply_shaped)

        started = time.perf_counter()
        if apply_shaped:
            store.update(lambda s: s.segments.update({r.address: r for r in map(pending, range(ops))}))
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(operation, range(ops)))
        store.flush()
        elapsed = time.perf_counter() - started
    stored = backends.reopen(backend).read()  # as another process would see it
    assert stored is not None and len(stored.segments) == segments + ops, "an update was lost"
    assert all(r.status == "created" for r in stored.segments.values()), "a result was lost"
    assert stored.serial == 1 + store.writes, "serial must grow by one per write"
    return elapsed, store.writes


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=5000)
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=41, help="writes timed for the single-write median")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dsn", help="use this PostgreSQL instead of starting a throwaway one")
    args = parser.parse_args()

    server = None
    if args.dsn:
        dsn, where = args.dsn, "the server given with --dsn"
    else:
        from tests.state.pg_server import start_server

        server = start_server(durable=True)
        dsn, where = server.dsn(), f"a throwaway PostgreSQL {server.bindir.parent.name} cluster (fsync on)"
    try:
        with tempfile.TemporaryDirectory(prefix=".bench-state-", dir=ROOT) as directory:
            backends = Backends(Path(directory), dsn)
            try:
                run(backends, args, where)
            finally:
                backends.cleanup()
    finally:
        if server is not None:
            server.stop()


def run(backends: Backends, args, where: str) -> None:
    kinds = ("local", "postgres")
    document = encode_state(base_state(args.segments))
    print(f"state: {args.segments} segments, {len(document) / 1e6:.2f} MB; PostgreSQL: {where}")

    writes = {kind: [] for kind in kinds}
    for _ in range(max(1, args.repeats)):  # interleaved
        for kind in kinds:
            writes[kind] += single_write(backends, kind, args.segments, args.rounds)
    for kind in kinds:
        times = sorted(writes[kind])
        print(f"one state write at {args.segments} segments, {kind:8}: median {ms(statistics.median(times))}, "
              f"p90 {ms(times[int(len(times) * 0.9)])} over {len(times)} writes")

    latency = args.latency_ms / 1000
    shapes = ((f"apply-shaped ({args.latency_ms:g} ms API latency, intents first, results as they come)", True),
              (f"every update durable ({args.latency_ms:g} ms API latency)", False))
    for label, apply_shaped in shapes:
        walls = {kind: [] for kind in kinds}
        counts = {kind: [] for kind in kinds}
        for _ in range(args.repeats):
            for kind in kinds:
                elapsed, count = creates(backends, kind, args.segments, args.ops, args.threads, latency, apply_shaped)
                walls[kind].append(elapsed)
                counts[kind].append(count)
        local, postgres = statistics.median(walls["local"]), statistics.median(walls["postgres"])
        print(f"{args.ops} creates from {args.threads} threads, {label}, median of {args.repeats}: "
              f"local {local:.3f} s ({statistics.median(counts['local']):.0f} writes), "
              f"postgres {postgres:.3f} s ({statistics.median(counts['postgres']):.0f} writes); "
              f"postgres/local = {postgres / local:.2f}" + (" (target <= 1.25)" if apply_shaped else ""))


if __name__ == "__main__":
    main()
