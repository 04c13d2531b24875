"""StateStore: every mutation durable when update() returns, one serial per write, group commit."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from osctl.errors import StateError
from osctl.state.store import StateStore
from tests.state.samples import sample_state, segment


def put(record):
    return lambda state: state.segments.__setitem__(record.address, record)


def stored_state(kit, serial=1):
    state = sample_state(serial=serial)
    kit.new().write(state)
    return state


def test_updates_from_many_threads_are_all_durable_and_group_committed(kit):
    state = stored_state(kit)
    store = StateStore(kit.new(), state)
    start = threading.Barrier(10)

    def worker(number: int) -> list[str]:
        start.wait()
        missing = []
        for index in range(15):
            record = segment(f"w{number}-{index}")
            store.update(put(record))
            # returned: a fresh reader (another process, say) must already see it
            if record.address not in kit.new().read().segments:
                missing.append(record.address)
        return missing

    with ThreadPoolExecutor(max_workers=10) as pool:
        missing = [address for result in pool.map(worker, range(10)) for address in result]
    assert missing == []
    final = kit.new().read()
    assert len(final.segments) == 3 + 150
    assert final.serial == 1 + store.writes  # one serial per write...
    assert store.writes < 150  # ...and writes covered several updates each


def test_each_write_raises_the_serial_by_one(kit):
    store = StateStore(kit.new(), stored_state(kit, serial=4))
    for index in range(3):
        store.update(put(segment(f"n{index}")))
        assert kit.new().read().serial == 5 + index
    assert store.writes == 3


def test_replaced_records_are_persisted(kit):
    store = StateStore(kit.new(), stored_state(kit))

    def describe(state):
        state.segments["segment.prod.Active US"] = dataclasses.replace(
            state.segments["segment.prod.Active US"], description="changed",
            filters=({"field": "country", "relation": "=", "value": "CA"},))

    store.update(describe)
    stored = kit.new().read().segments["segment.prod.Active US"]
    assert stored.description == "changed" and stored.filters[0]["value"] == "CA"


def test_update_without_waiting_is_written_by_flush_at_the_latest(kit):
    store = StateStore(kit.new(), stored_state(kit))
    store.update(put(segment("later")), wait=False)
    store.flush()
    assert "segment.prod.later" in kit.new().read().segments


def test_a_failed_write_is_reported_and_stops_the_store(kit):
    state = stored_state(kit)
    store = StateStore(kit.new(), state)
    intruder = kit.new().read()
    intruder.serial += 1
    kit.new().write(intruder)  # someone else wrote serial 2 meanwhile
    with pytest.raises(StateError, match="changed since it was read"):
        store.update(put(segment("mine")))
    with pytest.raises(StateError, match="could not be written"):
        store.update(put(segment("more")))
    assert kit.new().read() == intruder


def test_state_is_a_snapshot(kit):
    store = StateStore(kit.new(), stored_state(kit))
    snapshot = store.state
    snapshot.segments.clear()
    store.update(put(segment("new")))
    assert "segment.prod.Active US" in store.state.segments
    assert "segment.prod.new" not in snapshot.segments
    assert store.view(lambda state: len(state.segments)) == 4
