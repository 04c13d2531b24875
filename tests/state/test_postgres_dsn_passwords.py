"""A DSN whose password holds a character a postgresql:// URI reserves: osctl never prints any
part of the password and says how to percent-encode it. Against the real PostgreSQL server."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from osctl.errors import StateError
from osctl.state.postgres import PostgresBackend
from tests.helpers import run_osctl
from tests.state.pg_server import PASSWORD, PASSWORD_ROLE, shared_server
from tests.state.samples import sample_state

AWKWARD = "s3cr@t-Pa55@w/rd x"  # an '@', a '/' and a space: each splits the URI elsewhere
FRAGMENTS = ["s3cr", "t-Pa55", "Pa55@w", "w/rd", "rd x"]
ENCODE_HINT = ("the user name or password holds a character that a postgresql:// URI reserves (value not "
               "shown); percent-encode them: @ as %40, / as %2F, a space as %20, % as %25 (Python: "
               "urllib.parse.quote(password, safe=''))")


@pytest.fixture
def server():
    return shared_server()


@pytest.fixture
def awkward_password(server):
    """The password-checked role, given a password full of reserved characters for one test."""
    import psycopg

    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {PASSWORD_ROLE} PASSWORD '{AWKWARD}'")
    yield AWKWARD
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {PASSWORD_ROLE} PASSWORD '{PASSWORD}'")


def _raw_dsn(server, password: str, database: str = "osctl_test") -> str:
    return f"postgresql://{PASSWORD_ROLE}:{password}@127.0.0.1:{server.port}/{database}"


@pytest.mark.parametrize("password", ["p@ss@word", "s3cr@t-Pa55", "pa/ss@word", "pa ss@word", AWKWARD])
def test_an_unencoded_reserved_character_is_refused_before_connecting_without_showing_it(password):
    dsn = f"postgresql://osctl:{password}@db.example.com:5432/osctl"
    with pytest.raises(StateError) as caught:
        PostgresBackend(dsn, "prod", dsn_name="$OSCTL_STATE_DSN")
    message = str(caught.value)
    assert message == f"$OSCTL_STATE_DSN is not a valid PostgreSQL connection string: {ENCODE_HINT}"


def test_the_cli_says_how_to_encode_and_shows_nothing_of_the_password(tmp_path, server, awkward_password):
    (tmp_path / "osctl.yaml").write_text(
        "osctl: 1\napps:\n  prod: {app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c}\n"
        "state:\n  backend: postgres\n  dsn_env: TEAM_DSN\n  workspace: prod\n")
    result = run_osctl("state", "list", "-c", str(tmp_path), env={"TEAM_DSN": _raw_dsn(server, awkward_password)})
    assert result.exit_code == 1
    assert result.stderr == f"Error: $TEAM_DSN is not a valid PostgreSQL connection string: {ENCODE_HINT}\n"
    for fragment in FRAGMENTS:
        assert fragment not in result.output


def test_the_percent_encoded_password_connects(server, awkward_password):
    import psycopg

    database = server.new_database()
    with psycopg.connect(server.dsn(database), autocommit=True) as conn:
        conn.execute(f"GRANT CREATE ON DATABASE {database} TO {PASSWORD_ROLE}")
    encoded = _raw_dsn(server, quote(awkward_password, safe=""), database)
    backend = PostgresBackend(encoded, "dsn-encoding")
    backend.write(sample_state(serial=1))
    assert backend.read().serial == 1
    wrong = PostgresBackend(_raw_dsn(server, quote(awkward_password + "!", safe=""), database), "dsn-encoding")
    with pytest.raises(StateError) as caught:
        wrong.read()
    assert "password authentication failed" in str(caught.value)
    for fragment in FRAGMENTS:
        assert fragment not in str(caught.value)
