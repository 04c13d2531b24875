"""A throwaway PostgreSQL server for the tests: a real one, never a mock.

`shared_server()` starts one cluster per test process, the first time a test
asks for it, and stops it (and deletes it) when the process exits:

  1. find the server binaries: $OSCTL_TEST_PG_BIN, else `initdb` on PATH, else
     the newest /usr/lib/postgresql/<version>/bin (Debian's `postgresql`
     package puts them there, off PATH), else `pg_config --bindir`;
  2. `initdb` into a new temporary directory (trust authentication, user
     `osctl`, no fsync: the data is thrown away);
  3. start `postgres` on a free port of 127.0.0.1 (no Unix socket) and wait
     until it accepts connections.

PostgreSQL refuses to run as root. When the tests run as root (as CI does),
the server runs as the `postgres` user (created by Debian's package) or, if
there is none, as `nobody`; the data directory is given to that user.

If the server cannot be started, a test that needs it fails with the reason
when CI=true, and is skipped with the reason elsewhere (a developer without
PostgreSQL can still run the rest of the suite).
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUPERUSER = "osctl"
# A role that must log in with a password, to check that passwords never show in messages.
PASSWORD_ROLE, PASSWORD = "guarded", "pg-s3cret-pw"
START_TIMEOUT = 30.0


class Unavailable(Exception):
    """The server cannot be started here; the message says why and what to do."""


@dataclass
class PgServer:
    bindir: Path
    root: Path  # temporary directory holding the cluster and its log
    port: int
    process: subprocess.Popen
    databases: list[str] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def dsn(self, dbname: str = "osctl_test", *, user: str = SUPERUSER, password: str | None = None) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def admin(self):
        """An autocommit connection as the superuser to the `postgres` database."""
        import psycopg

        return psycopg.connect(self.dsn("postgres"), autocommit=True)

    def new_database(self) -> str:
        """A new empty database (for tests that need osctl's tables not to exist yet)."""
        name = f"osctl_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            # FILE_COPY (PostgreSQL 15+) is twice as fast as the default for a tiny database
            fast = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
            conn.execute(f'CREATE DATABASE "{name}"{fast}')
        return name

    def stop_process_only(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT: "fast" shutdown, clients are disconnected
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path:
    candidates: list[Path] = []
    if os.environ.get("OSCTL_TEST_PG_BIN"):
        candidates.append(Path(os.environ["OSCTL_TEST_PG_BIN"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates += [Path(d) for d in debian]
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "postgres").is_file():
            return candidate
    raise Unavailable(
        "PostgreSQL server binaries (initdb, postgres) not found: looked at $OSCTL_TEST_PG_BIN, PATH, "
        "/usr/lib/postgresql/*/bin and pg_config. Install them (Debian/Ubuntu: "
        "apt-get install -y postgresql) or set OSCTL_TEST_PG_BIN to their directory")


def _version_key(path: str) -> tuple:
    version = Path(path).parent.name
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def _server_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None to run it as ourselves (not root)."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise Unavailable("running as root, and neither a `postgres` nor a `nobody` user exists to run "
                      "PostgreSQL as (it refuses to run as root)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as(user: tuple[int, int] | None) -> dict:
    if user is None:
        return {}
    return {"user": user[0], "group": user[1], "extra_groups": []}


def start_server(*, durable: bool = False) -> PgServer:
    """A new cluster; `durable` keeps PostgreSQL's fsync defaults (for benchmarks), else they are off."""
    bindir = find_bindir()
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="osctl-pg-"))
    try:
        if user is not None:
            os.chown(root, *user)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        initdb = subprocess.run(
            [str(bindir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            capture_output=True, text=True, cwd=root, env=env, timeout=120, **_run_as(user))
        if initdb.returncode != 0:
            raise Unavailable(f"initdb failed (exit {initdb.returncode}): {initdb.stderr.strip()[-800:]}")
        _allow_password_role(root / "data" / "pg_hba.conf")
        last_error = ""
        for _ in range(3):  # another process may take the free port before the server does
            server = _start_postgres(bindir, root, _free_port(), env, user, durable)
            try:
                _wait_ready(server)
                _prepare(server)
                return server
            except Unavailable as exc:
                last_error = str(exc)
                server.stop_process_only()
        raise Unavailable(last_error)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _allow_password_role(hba: Path) -> None:
    # The password role must authenticate for real; everyone else is trusted on 127.0.0.1.
    rules = hba.read_text()
    hba.write_text(f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n" + rules)


def _start_postgres(bindir: Path, root: Path, port: int, env: dict, user, durable: bool) -> PgServer:
    log = open(root / "server.log", "ab")  # noqa: SIM115 (closed with the process)
    fast = [] if durable else ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    process = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(root / "data"), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", *fast,
         "-c", "max_connections=200", "-c", "password_encryption=scram-sha-256"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root, env=env,
        start_new_session=True, **_run_as(user))
    log.close()
    return PgServer(bindir=bindir, root=root, port=port, process=process)


def _wait_ready(server: PgServer) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise Unavailable(f"postgres exited with {server.process.returncode} while starting: "
                              f"{_tail(server.log_path)}")
        try:
            psycopg.connect(server.dsn("postgres"), connect_timeout=2).close()
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise Unavailable(f"postgres did not accept connections within {START_TIMEOUT:g}s: "
                                  f"{exc}; log: {_tail(server.log_path)}") from None
            time.sleep(0.05)


def _prepare(server: PgServer) -> None:
    with server.admin() as conn:
        conn.execute("CREATE DATABASE osctl_test")
        conn.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()[-800:]
    except OSError:
        return "(no log)"


_server: PgServer | None = None
_failure: str | None = None


def shared_server() -> PgServer:
    """The test process's PostgreSQL, started on first use; fails (CI) or skips when impossible."""
    global _server, _failure
    if _server is None and _failure is None:
        try:
            _server = start_server()
            atexit.register(_server.stop)
        except Unavailable as exc:
            _failure = str(exc)
        except (OSError, subprocess.SubprocessError) as exc:
            _failure = f"cannot start PostgreSQL: {type(exc).__name__}: {exc}"
    if _failure is not None:
        reason = f"no PostgreSQL for the tests: {_failure}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return _server


def new_workspace() -> str:
    return f"ws-{uuid.uuid4().hex[:12]}"
