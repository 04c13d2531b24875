"""A second osctl-like process for state tests: holds the lock, or writes in a loop.

    python -m tests.state.holder hold SPEC SECONDS [OPERATION]
        takes the lock, prints "locked <id>", holds it SECONDS, releases it, prints "released"
    python -m tests.state.holder write-loop SPEC
        writes successor states forever (one more segment each time), printing each serial
"""

from __future__ import annotations

import json
import sys
import time

from osctl.state.model import SegmentRecord, State
from tests.state.backends import open_spec


def hold(spec: dict, seconds: float, operation: str) -> None:
    backend = open_spec(spec)
    with backend.lock(operation, timeout_seconds=0) as info:
        print(f"locked {info.id}", flush=True)
        time.sleep(seconds)
    print("released", flush=True)


def write_loop(spec: dict) -> None:
    backend = open_spec(spec)
    state = backend.read() or State.new()
    while True:
        index = len(state.segments)
        record = SegmentRecord(app="prod", app_id="11111111-2222-3333-4444-555555555555",
                               name=f"Segment {index}", id=f"id-{index}",
                               filters=({"field": "session_count", "relation": ">", "value": str(index)},) * 50,
                               digest=f"sha256:{index}")
        state.segments[record.address] = record
        state.serial += 1
        backend.write(state)
        print(state.serial, flush=True)


if __name__ == "__main__":
    command, spec = sys.argv[1], json.loads(sys.argv[2])
    if command == "hold":
        hold(spec, float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "apply")
    elif command == "write-loop":
        write_loop(spec)
