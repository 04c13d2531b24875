"""What the PostgreSQL backend adds to the shared contract (test_backend_conformance.py runs that):
its own tables, history, lost updates between processes, a killed lock holder, force-unlock,
and clear errors that never show a password."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from osctl.errors import LockHeld, StateError
from osctl.state.postgres import SCHEMA_VERSION, PostgresBackend, backend_from_env
from osctl.state.store import StateStore
from tests.state.pg_server import PASSWORD, PASSWORD_ROLE, new_workspace, shared_server
from tests.state.processes import holding_lock, start
from tests.state.samples import sample_state, segment


@pytest.fixture
def server():
    return shared_server()


@pytest.fixture
def spec(server):
    return {"kind": "postgres", "dsn": server.dsn(), "workspace": new_workspace()}


def backend_for(spec: dict) -> PostgresBackend:
    return PostgresBackend(spec["dsn"], spec["workspace"])


def query(server, sql: str, *params, dbname: str = "osctl_test") -> list[tuple]:
    import psycopg

    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


# -- tables and their version -----------------------------------------------------------


def test_first_use_creates_the_tables_and_records_the_schema_version(server):
    database = server.new_database()
    backend = PostgresBackend(server.dsn(database), "prod")
    assert backend.read() is None
    tables = {row[0] for row in query(server, "SELECT table_name FROM information_schema.tables "
                                              "WHERE table_schema = 'osctl'", dbname=database)}
    assert tables == {"schema_version", "states", "state_history", "locks"}
    assert query(server, "SELECT version FROM osctl.schema_version", dbname=database) == [(SCHEMA_VERSION,)]


def test_many_first_users_at_once_all_succeed(server):
    database = server.new_database()
    barrier = threading.Barrier(6)

    def first_use(index: int) -> None:
        backend = PostgresBackend(server.dsn(database), f"ws{index}")
        barrier.wait()
        state = sample_state(serial=1)
        backend.write(state)
        assert backend.read() == state

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(first_use, range(6)))
    assert query(server, "SELECT count(*) FROM osctl.schema_version", dbname=database) == [(1,)]


def test_tables_of_a_newer_osctl_ask_for_an_upgrade(server):
    database = server.new_database()
    PostgresBackend(server.dsn(database), "prod").read()
    query(server, "INSERT INTO osctl.schema_version (version, osctl_version) VALUES (%s, '99.0') RETURNING 1",
          SCHEMA_VERSION + 1, dbname=database)
    with pytest.raises(StateError, match=rf"schema version {SCHEMA_VERSION + 1}, newer .*upgrade osctl"):
        PostgresBackend(server.dsn(database), "prod").read()


# -- history -------------------------------------------------------------------------------


def test_every_version_is_kept_with_who_when_and_which_command(spec, server):
    backend = backend_for(spec)
    state = sample_state(serial=1)
    with backend.lock("apply", 0):
        backend.write(state)
        for index in range(2):
            state.segments[f"segment.prod.new {index}"] = segment(f"new {index}")
            state.serial += 1
            backend.write(state)
    history = backend.history()
    assert [entry["serial"] for entry in history] == [1, 2, 3]
    for entry in history:
        assert entry["lineage"] == state.lineage and entry["command"] == "osctl apply"
        assert entry["who"] == f"{spec_user()}@{socket.gethostname()}"
    assert history[0]["written_at"] <= history[1]["written_at"] <= history[2]["written_at"]
    documents = query(server, "SELECT document FROM osctl.state_history WHERE workspace = %s ORDER BY id",
                      spec["workspace"])
    assert [len(json.loads(bytes(doc))["segments"]) for (doc,) in documents] == [3, 4, 5]
    assert backend.read().serial == 3 and len(backend.read().segments) == 5
    assert backend.previous().serial == 2


def spec_user() -> str:
    from osctl.state.backend import _user

    return _user()


def test_store_persists_every_update_and_history_grows_by_one_per_write(spec):
    first = sample_state(serial=1)
    backend_for(spec).write(first)
    store = StateStore(backend_for(spec), first)

    def worker(number: int) -> None:
        for index in range(10):
            record = segment(f"t{number}-{index}")
            store.update(lambda s, r=record: s.segments.__setitem__(r.address, r))

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(worker, range(10)))
    reader = backend_for(spec)
    assert len(reader.read().segments) == 3 + 100
    assert reader.read().serial == 1 + store.writes
    assert [entry["serial"] for entry in reader.history()] == list(range(1, 2 + store.writes))


# -- concurrency -----------------------------------------------------------------------------


def test_writers_racing_from_the_same_serial_lose_nothing(spec):
    """Eight writers, no lock: each reads, adds its segment, writes. A write wins only if nothing
    changed since its read, and every winner's segment must be in the final state."""
    backend_for(spec).write(sample_state(serial=1))
    won: list[str] = []
    barrier = threading.Barrier(8)

    def writer(number: int) -> int:
        backend, conflicts = backend_for(spec), 0
        barrier.wait()
        for index in range(6):
            state = backend.read()
            record = segment(f"w{number}-{index}")
            state.segments[record.address] = record
            state.serial += 1
            try:
                backend.write(state)
                won.append(record.address)
            except StateError as exc:
                assert "changed since it was read" in str(exc)
                conflicts += 1
        return conflicts

    with ThreadPoolExecutor(max_workers=8) as pool:
        conflicts = sum(pool.map(writer, range(8)))
    final = backend_for(spec).read()
    assert conflicts > 0, "the writers never collided: the test proved nothing"
    assert set(final.segments) - set(sample_state().segments) == set(won)
    assert final.serial == 1 + len(won)


def test_a_second_process_writing_from_a_stale_serial_is_refused(spec):
    backend = backend_for(spec)
    backend.write(sample_state(serial=1))
    mine = backend.read()
    writer = start("write-loop", json.dumps(spec))  # another process moves the serial on
    try:
        assert writer.stdout.readline().strip() == "2"
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    mine.serial += 1
    with pytest.raises(StateError, match="is at serial [0-9]+, so it changed since it was read"):
        backend.write(mine)


def test_sigkill_of_the_lock_holder_releases_the_lock(spec):
    with holding_lock(spec, seconds=60, operation="apply") as holder:
        with pytest.raises(LockHeld, match=f"pid {holder.process.pid}"), backend_for(spec).lock("apply", 0):
            pass
        holder.process.send_signal(signal.SIGKILL)
        holder.process.wait()
        started = time.monotonic()
        with backend_for(spec).lock("apply", timeout_seconds=10) as info:
            waited = time.monotonic() - started
            # the dead holder's record was replaced by ours
            with pytest.raises(LockHeld, match=f"pid {os.getpid()}") as caught, \
                    backend_for(spec).lock("plan", 0):
                pass
            assert info.id in str(caught.value) and holder.lock_id not in str(caught.value)
    assert waited < 5


def test_workspaces_lock_and_store_independently(server):
    prod, staging = (backend_for({"dsn": server.dsn(), "workspace": new_workspace()}) for _ in range(2))
    with prod.lock("apply", 0), staging.lock("apply", 0):
        prod.write(sample_state(serial=1))
        assert staging.read() is None


def test_force_unlock_ends_the_holders_session_and_its_next_write_is_refused(spec):
    holder, rescuer = backend_for(spec), backend_for(spec)
    state = sample_state(serial=1)
    with holder.lock("apply", 0) as info:
        holder.write(state)
        rescuer.force_unlock(info.id)
        state.serial += 1
        with pytest.raises(StateError, match=f"lost its lock {info.id}"):
            holder.write(state)
        with rescuer.lock("apply", 0):
            pass
    assert backend_for(spec).read().serial == 1


def test_force_unlock_clears_the_record_a_killed_holder_left(spec, server):
    with holding_lock(spec, seconds=60) as holder:
        holder.process.send_signal(signal.SIGKILL)
        holder.process.wait()
    assert len(query(server, "SELECT 1 FROM osctl.locks WHERE workspace = %s", spec["workspace"])) == 1
    with pytest.raises(StateError, match="no lock is held"):
        backend_for(spec).force_unlock("some-other-id")
    backend_for(spec).force_unlock(holder.lock_id)
    assert query(server, "SELECT 1 FROM osctl.locks WHERE workspace = %s", spec["workspace"]) == []


# -- errors ------------------------------------------------------------------------------------


def test_a_wrong_password_is_a_clear_error_that_never_shows_it(server):
    dsn = server.dsn(user=PASSWORD_ROLE, password=PASSWORD + "-typo")
    with pytest.raises(StateError) as caught:
        PostgresBackend(dsn, "prod").read()
    message = str(caught.value)
    assert "password authentication failed" in message and "cannot connect to postgres workspace 'prod'" in message
    assert PASSWORD not in message


def test_the_right_password_works(server):
    database = server.new_database()
    query(server, f"GRANT CREATE ON DATABASE {database} TO {PASSWORD_ROLE}", dbname=database)
    backend = PostgresBackend(server.dsn(database, user=PASSWORD_ROLE, password=PASSWORD), "prod")
    backend.write(sample_state(serial=1))
    assert backend.read().serial == 1


def test_a_role_that_may_not_create_tables_is_told_what_it_needs(server):
    database = server.new_database()
    query(server, f"REVOKE CREATE ON DATABASE {database} FROM PUBLIC", dbname=database)
    with pytest.raises(StateError, match="permission denied.*CREATE on the database"):
        PostgresBackend(server.dsn(database, user=PASSWORD_ROLE, password=PASSWORD), "prod").read()


@pytest.mark.parametrize("dsn, shown", [
    ("host=127.0.0.1 password=hunter2 dbname", 'missing "=" after "dbname"'),
    ("postgresql://osctl:hunter2@[::1/x", "IPv6 host address"),
    ("postgresql://osctl:hunter2@127.0.0.1:5432/x?nonsense=1", 'invalid URI query parameter: "nonsense"'),
])
def test_a_malformed_dsn_is_explained_without_its_password(dsn, shown):
    with pytest.raises(StateError) as caught:
        PostgresBackend(dsn, "prod")
    message = str(caught.value)
    assert "not a valid PostgreSQL connection string" in message and shown in message
    assert "hunter2" not in message


def test_an_unreachable_server_is_a_clear_error(server):
    dsn = f"postgresql://osctl:hunter2@127.0.0.1:{closed_port()}/osctl_test"
    started = time.monotonic()
    with pytest.raises(StateError, match="cannot connect to postgres workspace 'prod'.*Connection refused") as caught:
        PostgresBackend(dsn, "prod").read()
    assert "hunter2" not in str(caught.value) and time.monotonic() - started < 10


def test_a_missing_or_empty_dsn_variable_is_named():
    with pytest.raises(StateError, match="environment variable TEAM_STATE_DSN, which is not set"):
        backend_from_env("TEAM_STATE_DSN", "prod", environ={})
    with pytest.raises(StateError, match="TEAM_STATE_DSN, which is empty"):
        backend_from_env("TEAM_STATE_DSN", "prod", environ={"TEAM_STATE_DSN": " "})


def test_without_psycopg_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    with pytest.raises(StateError, match=r"needs the psycopg package.*pip install 'osctl\[postgres\]'"):
        backend_from_env("OSCTL_STATE_DSN", "prod", environ={"OSCTL_STATE_DSN": "host=127.0.0.1"})
