"""Two real `osctl apply` processes on one PostgreSQL workspace, against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from osctl.state.postgres import PostgresBackend
from tests.helpers import run_osctl
from tests.state.pg_server import new_workspace, shared_server

REPO = Path(__file__).resolve().parents[2]
NAMES = [f"Team segment {index:02d}" for index in range(12)]


@pytest.fixture
def project(tmp_path, emulator):
    """A config with 12 segments, state in a new PostgreSQL workspace; creates answer slowly."""
    workspace = new_workspace()
    lines = ["osctl: 1", "apps:", f"  prod: {{app_id: {emulator.app_id}}}",
             f"state: {{backend: postgres, workspace: {workspace}}}", "segments:"]
    for index, name in enumerate(NAMES):
        lines += [f"  - name: {name}",
                  f"    filters: [{{field: session_count, relation: '>', value: {index}}}]"]
    (tmp_path / "osctl.yaml").write_text("\n".join(lines) + "\n")
    # each create takes 150 ms, so one apply lasts long enough for the other to run into it
    emulator.set_faults([{"kind": "latency", "latency_ms": 150, "method": "POST", "path": "/segments"}])
    server = shared_server()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("OSCTL_", "ONESIGNAL_"))}
    env.update(emulator.env(), OSCTL_STATE_DSN=server.dsn(), NO_COLOR="1")
    return {"dir": tmp_path, "env": env, "workspace": workspace, "server": server, "emulator": emulator}


def start_apply(project, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "osctl", "apply", "--auto-approve", "--no-exports", "-c", str(project["dir"]), *args],
        cwd=REPO, env=project["env"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


# `osctl apply` in a process that has done its imports and waits for a line on stdin to start:
# it reaches the lock within milliseconds of being told to, however slow Python starts here.
READY_APPLY = """
import sys
import osctl.apply, osctl.applying, osctl.cli.apply_cmd, osctl.runtime, osctl.state.postgres, psycopg
from osctl.cli import main
print("ready", flush=True)
sys.stdin.readline()
main(sys.argv[1:])
"""


def ready_apply(project, *args: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", READY_APPLY, "apply", "--auto-approve", "--no-exports", "-c", str(project["dir"]),
         *args], cwd=REPO, env=project["env"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready", finish(process)
    return process


def finish(process: subprocess.Popen, go: bool = False) -> tuple[int, str, str]:
    out, err = process.communicate("go\n" if go else None, timeout=60)
    return process.returncode, out, err


def live_names(emulator) -> Counter:
    response = httpx.get(f"{emulator.url}/apps/{emulator.app_id}/segments", params={"limit": 300},
                         headers={"Authorization": f"Key {emulator.api_key}"}, timeout=10)
    return Counter(s["name"] for s in response.json()["segments"] if s["name"] in NAMES)


def assert_consistent(project) -> None:
    """Every declared segment exists once in OneSignal, and state knows it by that id."""
    emulator = project["emulator"]
    assert live_names(emulator) == Counter(NAMES), "a segment is missing or was created twice"
    state = PostgresBackend(project["server"].dsn(), project["workspace"]).read()
    assert sorted(record.name for record in state.segments.values()) == NAMES
    response = httpx.get(f"{emulator.url}/apps/{emulator.app_id}/segments", params={"limit": 300},
                         headers={"Authorization": f"Key {emulator.api_key}"}, timeout=10)
    live_ids = {s["name"]: s["id"] for s in response.json()["segments"]}
    assert all(record.id == live_ids[record.name] and record.status == "created"
               for record in state.segments.values())


def wait_until_locked_by(project, pid: int, process: subprocess.Popen) -> None:
    import psycopg

    deadline = time.monotonic() + 20
    with psycopg.connect(project["server"].dsn(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"apply ended before it was seen holding the lock: {finish(process)}"
            try:
                row = conn.execute("SELECT pid FROM osctl.locks WHERE workspace = %s",
                                   (project["workspace"],)).fetchone()
            except psycopg.errors.UndefinedTable:
                row = None
            if row and row[0] == pid:
                return
            time.sleep(0.02)
    raise AssertionError("the first apply never took the lock")


def test_two_applies_at_once_one_waits_and_nothing_is_created_twice(project):
    first, second = start_apply(project, "--lock-timeout", "60s"), start_apply(project, "--lock-timeout", "60s")
    results = [finish(first), finish(second)]
    assert [code for code, _, _ in results] == [0, 0], results
    outputs = sorted(out for _, out, _ in results)
    creators = [out for out in outputs if "12 to create" in out]
    assert len(creators) == 1, outputs  # the one that waited planned on the state the other left
    assert_consistent(project)
    history = PostgresBackend(project["server"].dsn(), project["workspace"]).history()
    serials = [entry["serial"] for entry in history]
    assert serials == sorted(set(serials)) and all(e["command"] == "osctl apply" for e in history)


def test_without_a_lock_timeout_the_second_apply_fails_naming_the_first(project):
    second = ready_apply(project)
    first = start_apply(project, "--parallelism", "2")  # 6 rounds of 150 ms creates: the lock is held ~1 s
    try:
        wait_until_locked_by(project, first.pid, first)
        code, out, err = finish(second, go=True)
        assert code == 1, (out, err)
        assert "state is locked" in err and f"pid {first.pid}" in err and '"apply"' in err
        assert "Traceback" not in err and project["env"]["OSCTL_STATE_DSN"] not in err + out
    finally:
        second.kill()
        results = finish(first)
    assert results[0] == 0, results
    assert_consistent(project)
    # and a plan from here reads the state the first one left in PostgreSQL
    env = {key: project["env"][key] for key in ("OSCTL_STATE_DSN", "ONESIGNAL_API_URL", "ONESIGNAL_API_KEY")}
    planned = run_osctl("plan", "--format", "json", "--no-exports", "-c", str(project["dir"]), env=env)
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["changes"] == []
