"""The state commands on a PostgreSQL backend, and `osctl state migrate` both ways,
run through the real entry point."""

from __future__ import annotations

import json
import socket
import sys

import pytest

from osctl.state.local import LocalBackend
from osctl.state.postgres import PostgresBackend
from tests.helpers import run_osctl
from tests.state.pg_server import PASSWORD, PASSWORD_ROLE, new_workspace, shared_server
from tests.state.processes import holding_lock
from tests.state.samples import SECRET_URL, sample_state, segment
from tests.state.test_state_cli import CONFIG


@pytest.fixture
def server():
    return shared_server()


@pytest.fixture
def workspace():
    return new_workspace()


@pytest.fixture
def pg_project(tmp_path, workspace):
    """A config whose state lives in PostgreSQL, workspace `workspace`, DSN in $TEAM_DSN."""
    (tmp_path / "osctl.yaml").write_text(
        CONFIG + f"state:\n  backend: postgres\n  dsn_env: TEAM_DSN\n  workspace: {workspace}\n")
    return tmp_path


@pytest.fixture
def local_project(tmp_path):
    (tmp_path / "osctl.yaml").write_text(CONFIG)
    return tmp_path


@pytest.fixture
def pg(server, workspace):
    return PostgresBackend(server.dsn(), workspace)


def osctl(project, *args, dsn: str | None = None, env_name: str = "TEAM_DSN"):
    env = {env_name: dsn} if dsn is not None else {}
    return run_osctl(*args, "-c", str(project), env=env)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_clean_failure(result, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


# -- everyday commands --------------------------------------------------------------------


def test_push_then_pull_list_and_rm_through_postgres(pg_project, server, pg, tmp_path):
    state = sample_state(serial=1)
    (tmp_path / "pushed.json").write_text(json.dumps(state.to_dict()))
    pushed = osctl(pg_project, "state", "push", str(tmp_path / "pushed.json"), dsn=server.dsn())
    assert pushed.exit_code == 0, pushed.output
    assert f"state is at serial 1 (lineage {state.lineage})" in pushed.stdout

    pulled = osctl(pg_project, "state", "pull", dsn=server.dsn())
    assert pulled.exit_code == 0, pulled.output
    document = json.loads(pulled.stdout)
    assert document["lineage"] == state.lineage and set(document["segments"]) == set(state.segments)
    assert "s3cr3t" not in pulled.stdout  # in-flight export URL masked, as with local state

    listed = osctl(pg_project, "state", "list", dsn=server.dsn())
    assert listed.stdout.splitlines()[0] == "segment.prod.Active US"

    removed = osctl(pg_project, "state", "rm", "segment.prod.Active US", dsn=server.dsn())
    assert removed.exit_code == 0, removed.output
    assert "segment.prod.Active US" not in pg.read().segments and pg.read().serial == 2
    assert [(e["serial"], e["command"]) for e in pg.history()] == [(1, "osctl state push"), (2, "osctl state rm")]


def test_push_of_an_edited_pull_with_revealed_urls_keeps_them(pg_project, server, pg, tmp_path):
    pg.write(sample_state(serial=4))
    pulled = osctl(pg_project, "state", "pull", "--reveal-urls", dsn=server.dsn())
    document = json.loads(pulled.stdout)
    document["segments"].pop("segment.prod.Active US")
    document["serial"] = 5
    (tmp_path / "edited.json").write_text(json.dumps(document))
    pushed = osctl(pg_project, "state", "push", str(tmp_path / "edited.json"), dsn=server.dsn())
    assert pushed.exit_code == 0, pushed.output
    stored = pg.read()
    assert stored.serial == 5 and "segment.prod.Active US" not in stored.segments
    assert stored.exports["daily_subscriptions"].in_flight[0].url == SECRET_URL


def test_a_held_lock_names_its_holder_and_force_unlock_frees_it(pg_project, server, workspace):
    spec = {"kind": "postgres", "dsn": server.dsn(), "workspace": workspace}
    PostgresBackend(server.dsn(), workspace).write(sample_state(serial=1))
    with holding_lock(spec, seconds=60, operation="apply") as holder:
        blocked = osctl(pg_project, "state", "rm", "segment.prod.Active US", dsn=server.dsn())
        assert_clean_failure(blocked, "state is locked", holder.lock_id, f"pid {holder.process.pid}",
                             f"osctl force-unlock {holder.lock_id}")
        freed = osctl(pg_project, "force-unlock", holder.lock_id, dsn=server.dsn())
        assert freed.exit_code == 0, freed.output
        assert f"Removed lock {holder.lock_id}" in freed.stdout
        # the holder still sleeps (stuck), but its session is gone, and so is its lock
        removed = osctl(pg_project, "state", "rm", "segment.prod.Active US", dsn=server.dsn())
        assert removed.exit_code == 0, removed.output


# -- migrate ----------------------------------------------------------------------------------


def test_migrate_local_to_postgres_and_back(local_project, server, tmp_path):
    local = LocalBackend(local_project / ".osctl" / "state.json")
    original = sample_state(serial=7)
    local.write(original)

    up = osctl(local_project, "state", "migrate", "--to", "postgres", "--workspace", "team",
               dsn=server.dsn(), env_name="OSCTL_STATE_DSN")
    assert up.exit_code == 0, up.output
    copied = PostgresBackend(server.dsn(), "team").read()
    assert copied == original  # lineage and serial kept: saved plans stay valid
    assert "state:\n  backend: postgres\n  dsn_env: OSCTL_STATE_DSN\n  workspace: team\n" in up.stdout
    assert "3 segments, 1 export" in up.stdout and "The source is unchanged" in up.stdout
    assert local.read() == original

    # the user follows the instructions: the config now points at PostgreSQL
    (local_project / "osctl.yaml").write_text(
        CONFIG + "state:\n  backend: postgres\n  dsn_env: OSCTL_STATE_DSN\n  workspace: team\n")
    listed = osctl(local_project, "state", "list", dsn=server.dsn(), env_name="OSCTL_STATE_DSN")
    assert "segment.prod.Überall – ✓" in listed.stdout.splitlines()

    # and back, into a new local file
    (local_project / ".osctl" / "state.json").unlink()
    down = osctl(local_project, "state", "migrate", "--to", "local", dsn=server.dsn(), env_name="OSCTL_STATE_DSN")
    assert down.exit_code == 0, down.output
    assert "state:\n  backend: local\n  path: .osctl/state.json\n" in down.stdout
    assert LocalBackend(local_project / ".osctl" / "state.json").read() == original


def test_migrate_refuses_to_overwrite_a_state_without_force(local_project, server, workspace):
    LocalBackend(local_project / ".osctl" / "state.json").write(sample_state(serial=2))
    other = sample_state(serial=9)  # another lineage already in the workspace
    other.segments.pop("segment.prod.Active US")
    PostgresBackend(server.dsn(), workspace).write(other)

    refused = osctl(local_project, "state", "migrate", "--to", "postgres", "--workspace", workspace,
                    dsn=server.dsn(), env_name="OSCTL_STATE_DSN")
    assert_clean_failure(refused, "already holds a state", f"lineage {other.lineage}", "serial 9",
                         "2 segments", "--force")
    assert PostgresBackend(server.dsn(), workspace).read() == other

    forced = osctl(local_project, "state", "migrate", "--to", "postgres", "--workspace", workspace, "--force",
                   dsn=server.dsn(), env_name="OSCTL_STATE_DSN")
    assert forced.exit_code == 0, forced.output
    target = PostgresBackend(server.dsn(), workspace)
    assert target.read().lineage != other.lineage and target.read().serial == 2
    assert target.previous() == other  # the replaced state is still in the history


def test_migrate_to_a_non_empty_local_file_needs_force(pg_project, server, pg):
    pg.write(sample_state(serial=3))
    local = LocalBackend(pg_project / ".osctl" / "state.json")
    stale = sample_state(serial=1)
    stale.segments = {"segment.prod.Old": segment("Old")}
    local.write(stale)
    refused = osctl(pg_project, "state", "migrate", "--to", "local", dsn=server.dsn())
    assert_clean_failure(refused, f"local file {local.path} already holds a state", "--force")
    assert local.read() == stale
    forced = osctl(pg_project, "state", "migrate", "--to", "local", "--force", dsn=server.dsn())
    assert forced.exit_code == 0, forced.output
    assert local.read() == pg.read()


def test_migrate_twice_writes_nothing_the_second_time(pg_project, server, pg):
    pg.write(sample_state(serial=3))
    assert osctl(pg_project, "state", "migrate", "--to", "local", dsn=server.dsn()).exit_code == 0
    again = osctl(pg_project, "state", "migrate", "--to", "local", dsn=server.dsn())
    assert again.exit_code == 0 and "Nothing to copy: the target already holds this state" in again.stdout


@pytest.mark.parametrize("args, message", [
    (("--to", "postgres"), "the config already keeps state in postgres"),
    (("--to", "local", "--workspace", "x"), "--workspace only applies with --to postgres"),
])
def test_migrate_usage_errors(pg_project, server, args, message):
    result = osctl(pg_project, "state", "migrate", *args, dsn=server.dsn())
    assert_clean_failure(result, message)


def test_migrate_of_nothing_says_so(local_project, server):
    result = osctl(local_project, "state", "migrate", "--to", "postgres", dsn=server.dsn(),
                   env_name="OSCTL_STATE_DSN")
    assert_clean_failure(result, "nothing to migrate", "holds no state yet")


# -- what goes wrong: exit 1, a clear line, never a traceback or a password ------------------------


def test_bad_dsn_is_a_clear_error(pg_project):
    result = osctl(pg_project, "state", "list", dsn="host=db.example password=hunter2 sslmode")
    assert_clean_failure(result, "$TEAM_DSN is not a valid PostgreSQL connection string")
    assert "hunter2" not in result.output


def test_unreachable_server_is_a_clear_error(pg_project):
    dsn = f"postgresql://osctl:hunter2@127.0.0.1:{closed_port()}/osctl_test"
    for args in (("state", "list"), ("state", "rm", "segment.prod.x"), ("force-unlock", "x")):
        result = osctl(pg_project, *args, dsn=dsn)
        assert_clean_failure(result, "cannot connect to postgres workspace", "Connection refused")
        assert "hunter2" not in result.output


def test_wrong_password_is_a_clear_error(pg_project, server):
    result = osctl(pg_project, "state", "pull", dsn=server.dsn(user=PASSWORD_ROLE, password="not-" + PASSWORD))
    assert_clean_failure(result, "password authentication failed")
    assert PASSWORD not in result.output


def test_missing_dsn_variable_is_named(pg_project):
    result = osctl(pg_project, "state", "list")
    assert_clean_failure(result, "environment variable TEAM_DSN, which is not set")


def test_migrate_to_postgres_without_the_variable_is_named(local_project):
    LocalBackend(local_project / ".osctl" / "state.json").write(sample_state(serial=1))
    result = osctl(local_project, "state", "migrate", "--to", "postgres")
    assert_clean_failure(result, "environment variable OSCTL_STATE_DSN, which is not set")


def test_without_psycopg_the_command_says_what_to_install(pg_project, server, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `osctl[postgres]` had not been installed
    result = osctl(pg_project, "state", "list", dsn=server.dsn())
    assert_clean_failure(result, "needs the psycopg package", "pip install 'osctl[postgres]'")
