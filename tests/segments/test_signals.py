"""SIGINT (Ctrl-C) and SIGTERM (CI cancel, `timeout`) in the middle of a real `osctl apply`.

osctl runs as a child process against the emulator, whose creates answer slowly, so
the signal arrives while the apply is under way. Whatever state backend is used, the
apply must stop starting operations, finish the one in flight, write state, release
the lock, say what was done and what was not, and exit 128 + the signal number; state
then says exactly what is live, and the next apply converges without duplicates.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

import pytest

from osctl.errors import LockHeld
from osctl.state.backend import StateBackend
from osctl.state.local import LocalBackend
from tests.helpers import run_osctl
from tests.osctl_process import start_osctl
from tests.segments.conftest import US

NAMES = [f"S{i}" for i in range(6)]
CREATE_LATENCY_MS = 400


@dataclass
class Backend:
    config: str  # the config's `state:` section ("" for the default local file)
    env: dict[str, str]
    open: object  # () -> StateBackend


@pytest.fixture(params=["local", "postgres"])
def backend(request, ws) -> Backend:
    if request.param == "local":
        return Backend("", {}, lambda: LocalBackend(ws.dir / ".osctl" / "state.json"))
    from osctl.state.postgres import PostgresBackend
    from tests.state.pg_server import new_workspace, shared_server

    dsn, workspace = shared_server().dsn(), new_workspace()
    return Backend(f"state:\n  backend: postgres\n  dsn_env: TEAM_DSN\n  workspace: {workspace}\n",
                   {"TEAM_DSN": dsn}, lambda: PostgresBackend(dsn, workspace))


def _read_until(stream, text: str) -> str:
    seen = ""
    while text not in seen:
        line = stream.readline()
        assert line, f"osctl ended before printing {text!r}:\n{seen}"
        seen += line
    return seen


def _assert_unlocked(store: StateBackend) -> None:
    try:
        with store.lock("check", 0):
            pass
    except LockHeld as exc:
        raise AssertionError(f"the lock was left behind: {exc}") from None


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_apply_stops_cleanly_and_the_next_apply_converges(ws, backend, signum):
    name = signal.Signals(signum).name
    ws.write({n: US for n in NAMES}, extra=backend.config)
    ws.emulator.set_faults([{"kind": "latency", "method": "POST", "path": "/segments$",
                             "latency_ms": CREATE_LATENCY_MS}])
    process = start_osctl("-c", str(ws.dir), "apply", "--auto-approve", "--no-exports", "--parallelism", "1",
                          env={**ws.emulator.env(), **backend.env})
    try:
        before = _read_until(process.stdout, "Creation complete")
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    out = before + out

    live = ws.live()
    created = len(live)
    assert 1 <= created < len(NAMES), f"the signal should arrive mid-apply:\n{out}"
    assert process.returncode == 128 + signum, out + err
    assert f"Received {name}: starting nothing new; waiting for the operations in flight, then saving state " \
           f"and releasing the lock." in err
    assert f"Apply stopped by {name}: {created} succeeded, 0 failed, {len(NAMES) - created} not attempted." in out
    for n in NAMES:
        if n not in live:
            assert f"  skipped segment.prod.{n}: not started: stopped by {name}\n" in out
    assert "Traceback" not in err and "internal error" not in err

    store = backend.open()
    _assert_unlocked(store)
    state = store.read()
    assert {a: (r.id, r.status) for a, r in state.segments.items()} == \
        {f"segment.prod.{n}": (i, "created") for n, i in live.items()}, "state says exactly what is live"

    ws.emulator.set_faults([])
    env = {**ws.emulator.env(), **backend.env}
    result = run_osctl("apply", "--auto-approve", "--no-exports", "-c", str(ws.dir), env=env)
    assert result.exit_code == 0, result.output
    assert f"Apply complete! Segments: {len(NAMES) - created} created" in result.stdout
    names = [s for s in ws.all_live() if s in NAMES]
    assert sorted(names) == NAMES and len(ws.live()) == len(NAMES), "no duplicates"
    assert run_osctl("plan", "--no-exports", "--detailed-exitcode", "-c", str(ws.dir), env=env).exit_code == 0


def test_a_signal_while_waiting_for_the_lock_stops_at_once(ws):
    """SIGTERM while apply waits for another holder's lock: nothing is changed, that lock stays."""
    from tests.segments.test_locking import _hold

    ws.write({n: US for n in NAMES})
    holder = _hold(ws, 60)
    lock = ws.dir / ".osctl" / "state.json.lock"
    try:
        process = start_osctl("-c", str(ws.dir), "apply", "--auto-approve", "--no-exports", "--lock-timeout", "1m",
                              env=ws.emulator.env())
        waiting = f".state.json.lock.{process.pid}.*.tmp"  # its own lock file, ready to be linked
        while not list(lock.parent.glob(waiting)):
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 143, out + err
        assert err == "Error: stopped by SIGTERM before any change was made\n"
        assert ws.live() == {}
        assert list(lock.parent.glob(waiting)) == [] and str(holder.pid) in lock.read_text()
    finally:
        holder.kill()
        holder.wait()
