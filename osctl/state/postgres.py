"""State in PostgreSQL: shared by a team, locked per workspace, every version kept.

osctl creates and migrates its own tables, in the schema `osctl`:

    osctl.schema_version  (version, applied_at, osctl_version)    migrations that ran
    osctl.state_history   (id, workspace, serial, lineage, document, written_at, who, command)
                          every version ever written, in order (`id` grows); `who` is
                          user@host, `command` the osctl command that wrote it
    osctl.states          (workspace PK, lineage, serial, version_id, updated_at)
                          the current state of each workspace: the history row it is
    osctl.locks           (workspace PK, lock_id, pid, host, username, operation, created_at,
                           backend_pid, acquired_at)
                          who holds the workspace's lock; a row counts only while the
                          PostgreSQL session `backend_pid` holds the advisory lock

`document` is the exact bytes a local state file would hold (bytea, lz4-compressed
where the server supports it), stored once per version: the current state is the
newest history row, so a write sends and stores the document once. A write is one
transaction that locks the workspace's row in osctl.states (SELECT ... FOR UPDATE),
refuses unless the stored state is its direct predecessor, adds the new version and
points the workspace at it: two writers can never both succeed from the same serial.

The lock is a session advisory lock on a key derived from the workspace name,
taken on a connection of its own that stays open for the whole command and is
polled with pg_try_advisory_lock until --lock-timeout. Its holder is recorded in
osctl.locks so that "state is locked" can say who. When a holder dies its session
ends and PostgreSQL releases the lock; its row stays behind, is ignored, and the
next holder overwrites it. force-unlock terminates the holding session.

Passwords: a DSN may carry one. It is never printed: every message that could
contain it goes through `mask_secrets`.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import sys
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from osctl import __version__
from osctl.errors import StateError
from osctl.state.backend import BackendBase, LockInfo, _user, lock_held
from osctl.state.model import State, decode_state

if TYPE_CHECKING:  # imported when first needed, with a message when missing
    from psycopg import Connection, Cursor

SCHEMA_VERSION = 1
POLL_SECONDS = 0.2
CONNECT_TIMEOUT_SECONDS = 10
MIGRATION_LOCK = (0x6F736374, 1)  # "osct", 1
INSTALL_HINT = "install it with: pip install 'osctl[postgres]'"

# Each migration brings the schema from the previous version to its own; never edit a released one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE osctl.state_history (
               id         bigserial PRIMARY KEY,
               workspace  text NOT NULL,
               serial     bigint NOT NULL,
               lineage    text NOT NULL,
               document   bytea NOT NULL,
               written_at timestamptz NOT NULL DEFAULT now(),
               who        text NOT NULL,
               command    text NOT NULL)""",
        "CREATE INDEX state_history_workspace ON osctl.state_history (workspace, id)",
        """CREATE TABLE osctl.states (
               workspace  text PRIMARY KEY,
               lineage    text NOT NULL,
               serial     bigint NOT NULL,
               version_id bigint NOT NULL REFERENCES osctl.state_history (id),
               updated_at timestamptz NOT NULL DEFAULT now())""",
        """CREATE TABLE osctl.locks (
               workspace   text PRIMARY KEY,
               lock_id     text NOT NULL,
               pid         integer NOT NULL,
               host        text NOT NULL,
               username    text NOT NULL,
               operation   text NOT NULL,
               created_at  text NOT NULL,
               backend_pid integer NOT NULL,
               acquired_at timestamptz NOT NULL DEFAULT now())""",
    ),
}
_LZ4 = ("ALTER TABLE osctl.state_history ALTER COLUMN document SET COMPRESSION lz4",)

_CURRENT = """
    SELECT h.document FROM osctl.states s JOIN osctl.state_history h ON h.id = s.version_id
    WHERE s.workspace = %s"""
_PREVIOUS = """
    SELECT document, serial FROM osctl.state_history
    WHERE workspace = %s AND id < (SELECT version_id FROM osctl.states WHERE workspace = %s)
    ORDER BY id DESC LIMIT 1"""
_ADD_VERSION = """
    INSERT INTO osctl.state_history (workspace, serial, lineage, document, who, command)
    VALUES (%(ws)s, %(serial)s, %(lineage)s, %(doc)b, %(who)s, %(command)s) RETURNING id"""
# Is `pid` holding the advisory lock with this key in this database?
_HOLDS = """
    SELECT EXISTS (SELECT 1 FROM pg_locks
                   WHERE locktype = 'advisory' AND granted AND pid = %s
                     AND classid = %s AND objid = %s AND objsubid = 1
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"""
_HOLDER_PIDS = """
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s AND objsubid = 1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


class _CreatedMeanwhile(Exception):
    """A first write found the workspace's row created by another writer since it looked."""


def _import_psycopg() -> ModuleType:
    try:
        import psycopg
    except ImportError:
        raise StateError(f"the postgres state backend needs the psycopg package, which is not "
                         f"installed; {INSTALL_HINT}") from None
    return psycopg


class PostgresBackend(BackendBase):
    def __init__(self, dsn: str, workspace: str, *, dsn_name: str = "the DSN"):
        """`dsn`: a libpq connection string or URI; `dsn_name` says where it came from in messages."""
        self._psycopg = _import_psycopg()
        if not workspace or not workspace.strip():
            raise StateError("the postgres state backend needs a workspace name (state: workspace:)")
        self.workspace = workspace
        self._dsn = dsn
        self._dsn_name = dsn_name
        self._passwords = _passwords_in(dsn)
        params = self._parse(dsn)
        self._connect_options = {key: value for key, value in
                                 (("connect_timeout", CONNECT_TIMEOUT_SECONDS), ("application_name", "osctl"))
                                 if key not in params}
        self.description = f"postgres workspace {workspace!r} ({_where(params)})"
        self._key = _advisory_key(workspace)
        self._conn: Connection[Any] | None = None  # for reads and writes; opened on first use
        self._conn_mutex = threading.Lock()  # one statement sequence at a time (StateStore writes from a thread)
        self._schema_ready = False
        self._held: tuple[str, int, str] | None = None  # (lock id, lock session pid, operation) while locked

    # -- reading -----------------------------------------------------------------
    def read(self) -> State | None:
        row = self._query_one("read state", _CURRENT, (self.workspace,))
        return None if row is None else self._decode(row[0], "state")

    def previous(self) -> State | None:
        row = self._query_one("read state history", _PREVIOUS, (self.workspace, self.workspace))
        return None if row is None else self._decode(row[0], f"history (serial {row[1]})")

    def history(self) -> list[dict]:
        """Every version of this workspace, oldest first, the current one last; without the documents."""
        with self._session("read state history") as conn, conn.cursor() as cur:
            cur.execute("SELECT serial, lineage, written_at, who, command, length(document) "
                        "FROM osctl.state_history WHERE workspace = %s ORDER BY id", (self.workspace,))
            return [{"serial": r[0], "lineage": r[1], "written_at": r[2], "who": r[3], "command": r[4],
                     "bytes": r[5]} for r in cur.fetchall()]

    def _query_one(self, action: str, sql: str, params: tuple) -> tuple | None:
        with self._session(action) as conn, conn.cursor(binary=True) as cur:
            cur.execute(sql, params)
            return cur.fetchone()

    def _decode(self, document: Any, what: str) -> State:
        try:
            return decode_state(bytes(document))
        except StateError as exc:
            raise StateError(f"{self.description}, {what}: {exc}") from None

    # -- writing -----------------------------------------------------------------
    def write_document(self, document: bytes, *, lineage: str, serial: int, force: bool = False) -> None:
        self.check_successor(None, lineage, serial)  # serials start at 1
        values = {"ws": self.workspace, "lineage": lineage, "serial": serial, "doc": document,
                  "who": f"{_user()}@{socket.gethostname()}", "command": self._command()}
        with self._session("write state") as conn:
            for _attempt in range(2):
                try:
                    with conn.transaction(), conn.cursor() as cur:
                        self._write(cur, values, force)
                    return
                except _CreatedMeanwhile:
                    continue  # another writer created the workspace's row: check against it
        raise StateError(f"refusing to write state: {self.description} changed while writing; try again")

    def _write(self, cur: Cursor[Any], values: dict, force: bool) -> None:
        self._check_still_locked(cur)
        cur.execute("SELECT lineage, serial FROM osctl.states WHERE workspace = %s FOR UPDATE", (self.workspace,))
        stored = cur.fetchone()
        if stored is not None and not force:
            self.check_successor((stored[0], int(stored[1])), values["lineage"], values["serial"])
        cur.execute(_ADD_VERSION, values)
        values = {**values, "version": _scalar(cur)}
        if stored is None:
            cur.execute("INSERT INTO osctl.states (workspace, lineage, serial, version_id) "
                        "VALUES (%(ws)s, %(lineage)s, %(serial)s, %(version)s) "
                        "ON CONFLICT (workspace) DO NOTHING", values)
            if cur.rowcount != 1:
                raise _CreatedMeanwhile  # rolls the new version back too
        else:
            cur.execute("UPDATE osctl.states SET lineage = %(lineage)s, serial = %(serial)s, "
                        "version_id = %(version)s, updated_at = now() WHERE workspace = %(ws)s", values)

    def _command(self) -> str:
        if self._held is not None:
            return f"osctl {self._held[2]}"
        program = sys.argv[0].rsplit("/", 1)[-1] if sys.argv and sys.argv[0] else "python"
        return program if program.startswith("osctl") else f"osctl (via {program})"

    def _check_still_locked(self, cur: Cursor[Any]) -> None:
        """A writer holding the lock must still hold it (force-unlock may have ended its session)."""
        if self._held is None:
            return
        lock_id, backend_pid, _ = self._held
        cur.execute(_HOLDS, (backend_pid, *_split(self._key)))
        if not _scalar(cur):
            raise StateError(f"refusing to write state: this osctl lost its lock {lock_id} on "
                             f"{self.description} (force-unlocked, or its connection was closed)")

    # -- locking -----------------------------------------------------------------
    @contextmanager
    def lock(self, operation: str, timeout_seconds: float) -> Iterator[LockInfo]:
        info = LockInfo.for_this_process(operation)
        self._ensure_schema()
        conn = self._connect("take the state lock")
        try:
            with self._errors("take the state lock"):
                _keep_session_alive(conn)
                self._acquire(conn, info, operation, timeout_seconds)
            self._held = (info.id, conn.info.backend_pid, operation)
            try:
                yield info
            finally:
                self._held = None
                self._release(conn, info)
        finally:
            conn.close()

    def _acquire(self, conn: Connection[Any], info: LockInfo, operation: str, timeout_seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, timeout_seconds)
        while not self._try_lock(conn):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                holder, hint = self._holder(conn)
                if hint is None and self._try_lock(conn):
                    break  # released while we looked for its holder
                raise lock_held(holder, self.description, timeout_seconds, hint or "")
            time.sleep(min(POLL_SECONDS, remaining))
        # We hold it now, so any row left here is stale (its holder's session ended): replace it.
        conn.execute(
            "INSERT INTO osctl.locks (workspace, lock_id, pid, host, username, operation, created_at, backend_pid) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, pg_backend_pid()) "
            "ON CONFLICT (workspace) DO UPDATE SET lock_id = EXCLUDED.lock_id, pid = EXCLUDED.pid, "
            "host = EXCLUDED.host, username = EXCLUDED.username, operation = EXCLUDED.operation, "
            "created_at = EXCLUDED.created_at, backend_pid = EXCLUDED.backend_pid, acquired_at = now()",
            (self.workspace, info.id, info.pid, info.host, info.user, operation, info.created_at))

    def _try_lock(self, conn: Connection[Any]) -> bool:
        return bool(_scalar(conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))))

    def _release(self, conn: Connection[Any], info: LockInfo) -> None:
        try:
            conn.execute("DELETE FROM osctl.locks WHERE workspace = %s AND lock_id = %s", (self.workspace, info.id))
            conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        except self._psycopg.Error:
            pass  # the session is gone (force-unlocked, server restarted): so is its lock

    def _holder(self, conn: Connection[Any], attempts: int = 5) -> tuple[LockInfo | None, str | None]:
        """The live holder's LockInfo (None if it is not recorded) and a hint for the message;
        (None, None) when nobody holds the lock."""
        pids: list[int] = []
        for attempt in range(attempts):
            pids = [r[0] for r in conn.execute(_HOLDER_PIDS, _split(self._key)).fetchall()]
            row = conn.execute("SELECT lock_id, pid, host, username, operation, created_at, backend_pid "
                               "FROM osctl.locks WHERE workspace = %s", (self.workspace,)).fetchone()
            if row is not None and row[6] in pids:
                return LockInfo(id=row[0], pid=row[1], host=row[2], user=row[3], operation=row[4],
                                created_at=row[5]), ""
            if not pids:
                return None, None
            if attempt + 1 < attempts:
                time.sleep(0.05)  # the holder may be recording itself right now
        return None, (f"; it is held by PostgreSQL session {pids[0]}, which recorded no osctl details "
                      f"(an administrator can end it with SELECT pg_terminate_backend({pids[0]}))")

    def force_unlock(self, lock_id: str) -> None:
        self._ensure_schema()
        conn = self._connect("force-unlock")
        try:
            with self._errors("force-unlock"):
                holder, _ = self._holder(conn, attempts=1)
                if holder is None:
                    stale = conn.execute("DELETE FROM osctl.locks WHERE workspace = %s AND lock_id = %s",
                                         (self.workspace, lock_id)).rowcount
                    if stale:
                        return  # its holder was already gone: only the record was left
                    raise StateError(f"no lock is held on {self.description}")
                if holder.id != lock_id:
                    raise StateError(f"lock ID {lock_id} does not match the current lock: {holder.describe()}")
                row = conn.execute("SELECT backend_pid FROM osctl.locks WHERE workspace = %s AND lock_id = %s",
                                   (self.workspace, lock_id)).fetchone()
                if row is not None:
                    self._terminate(conn, row[0])
                conn.execute("DELETE FROM osctl.locks WHERE workspace = %s AND lock_id = %s",
                             (self.workspace, lock_id))
        finally:
            conn.close()

    def _terminate(self, conn: Connection[Any], backend_pid: int) -> None:
        try:
            conn.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
        except self._psycopg.errors.InsufficientPrivilege:
            raise StateError(f"not allowed to end the PostgreSQL session {backend_pid} that holds the lock "
                             f"on {self.description}; a database administrator can run: "
                             f"SELECT pg_terminate_backend({backend_pid})") from None
        deadline = time.monotonic() + 10
        while _scalar(conn.execute(_HOLDS, (backend_pid, *_split(self._key)))):
            if time.monotonic() > deadline:
                raise StateError(f"the PostgreSQL session {backend_pid} holding the lock on {self.description} "
                                 "was told to end but still holds it; try again in a moment")
            time.sleep(0.05)

    # -- connections and the schema -------------------------------------------------
    def close(self) -> None:
        with self._conn_mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _session(self, action: str) -> Iterator[Any]:
        """The shared connection, schema ready, errors translated; one user at a time."""
        with self._conn_mutex:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = self._connect(action)
                weakref.finalize(self, self._conn.close)  # a dropped backend frees its session
            if not self._schema_ready:
                with self._errors(f"prepare osctl's tables to {action}"):
                    self._migrate(self._conn)
                self._schema_ready = True
            with self._errors(action):
                yield self._conn

    def _ensure_schema(self) -> None:
        with self._session("prepare osctl's tables"):
            pass

    def _connect(self, action: str) -> Connection[Any]:
        try:
            return self._psycopg.connect(self._dsn, autocommit=True, **self._connect_options)
        except self._psycopg.Error as exc:
            raise StateError(f"cannot connect to {self.description} to {action}: "
                             f"{self._mask(_one_line(exc))}") from None

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        errors = self._psycopg.errors
        try:
            yield
        except errors.InsufficientPrivilege as exc:
            raise StateError(f"cannot {action} on {self.description}: {self._mask(_one_line(exc))}. "
                             "osctl needs to create the schema `osctl` once (CREATE on the database), "
                             "then SELECT, INSERT, UPDATE and DELETE on its tables") from None
        except self._psycopg.OperationalError as exc:
            raise StateError(f"lost the connection to {self.description} while trying to {action}: "
                             f"{self._mask(_one_line(exc))}") from None
        except self._psycopg.Error as exc:
            raise StateError(f"cannot {action} on {self.description}: {type(exc).__name__}: "
                             f"{self._mask(_one_line(exc))}") from None

    def _migrate(self, conn: Connection[Any]) -> None:
        errors = self._psycopg.errors
        try:
            version = _scalar(conn.execute("SELECT max(version) FROM osctl.schema_version")) or 0
        except (errors.UndefinedTable, errors.InvalidSchemaName):
            version = 0
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StateError(f"{self.description} has osctl tables of schema version {version}, newer than "
                             f"this osctl ({__version__}, version {SCHEMA_VERSION}) knows; upgrade osctl")
        with conn.transaction():
            # One migrator at a time; the others wait here, then find nothing left to do.
            # (the two-int key space is apart from the workspace locks' bigint keys)
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", MIGRATION_LOCK)
            conn.execute("CREATE SCHEMA IF NOT EXISTS osctl")
            conn.execute("CREATE TABLE IF NOT EXISTS osctl.schema_version (version integer PRIMARY KEY, "
                         "applied_at timestamptz NOT NULL DEFAULT now(), osctl_version text NOT NULL)")
            version = _scalar(conn.execute("SELECT coalesce(max(version), 0) FROM osctl.schema_version"))
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    conn.execute(statement)
                if target == 1 and _has_lz4(conn):
                    for statement in _LZ4:
                        conn.execute(statement)
                conn.execute("INSERT INTO osctl.schema_version (version, osctl_version) VALUES (%s, %s)",
                             (target, __version__))

    # -- messages ----------------------------------------------------------------------
    def _parse(self, dsn: str) -> dict:
        from psycopg.conninfo import conninfo_to_dict

        if not dsn.strip():
            raise StateError(f"{self._dsn_name} is empty; it must be a PostgreSQL connection string such as "
                             "postgresql://user@host:5432/dbname")
        if _unencoded_userinfo(dsn):
            # libpq would cut the URI at the wrong '@' or '/' and then quote the rest (part of the
            # password) as a host name or in its own error: say nothing of the value
            raise StateError(f"{self._dsn_name} is not a valid PostgreSQL connection string: {ENCODE_HINT}")
        try:
            return conninfo_to_dict(dsn)
        except self._psycopg.Error as exc:
            raise StateError(f"{self._dsn_name} is not a valid PostgreSQL connection string: "
                             f"{self._mask(_one_line(exc))} (expected e.g. postgresql://user@host:5432/dbname "
                             "or 'host=... dbname=...')") from None

    def _mask(self, text: str) -> str:
        return mask_secrets(text, self._dsn, self._passwords)


def backend_from_env(dsn_env: str, workspace: str, environ: Mapping[str, str] | None = None) -> PostgresBackend:
    """The backend for `state: {backend: postgres, dsn_env: ..., workspace: ...}`."""
    environ = os.environ if environ is None else environ
    _import_psycopg()  # say first what is missing for good
    dsn = environ.get(dsn_env)
    if dsn is None or not dsn.strip():
        raise StateError(f"the postgres state backend reads its connection string from the environment "
                         f"variable {dsn_env}, which is {'empty' if dsn is not None else 'not set'}; set it "
                         "to e.g. postgresql://user@host:5432/dbname")
    return PostgresBackend(dsn, workspace, dsn_name=f"${dsn_env}")


# -- helpers ---------------------------------------------------------------------------

_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")


_URI_SCHEME = re.compile(r"^\s*postgres(?:ql)?://", re.IGNORECASE)
_URI_QUERY = re.compile(r"\?[A-Za-z_]+=")
ENCODE_HINT = ("the user name or password holds a character that a postgresql:// URI reserves (value not "
               "shown); percent-encode them: @ as %40, / as %2F, a space as %20, % as %25 (Python: "
               "urllib.parse.quote(password, safe=''))")


def _uri_userinfo(dsn: str) -> str | None:
    """What the user meant as `user:password` in a postgresql:// URI: everything before the
    last '@' ahead of the query string (libpq stops at the first '@' or '/')."""
    scheme = _URI_SCHEME.match(dsn)
    if not scheme:
        return None
    rest = dsn[scheme.end():]
    query = _URI_QUERY.search(rest)
    head = rest[:query.start()] if query else rest
    at = head.rfind("@")
    return head[:at] if at >= 0 else None


def _unencoded_userinfo(dsn: str) -> bool:
    userinfo = _uri_userinfo(dsn) or ""
    return bool(re.search(r"[@/\s]", userinfo))


def _passwords_in(dsn: str) -> list[str]:
    found = [m.group(2).strip("'") for m in _PASSWORD_PARAM.finditer(dsn)]
    found += [m.group(2) for m in _URI_PASSWORD.finditer(dsn)]
    userinfo = _uri_userinfo(dsn)
    if userinfo and ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    try:
        from psycopg.conninfo import conninfo_to_dict

        parsed = conninfo_to_dict(dsn).get("password")
        if parsed:
            found.append(str(parsed))
    except Exception:  # an unparsable DSN: the patterns above did what they could
        pass
    return sorted({p for p in found if p}, key=len, reverse=True)


def mask_secrets(text: str, dsn: str, passwords: list[str] | None = None) -> str:
    """`text` with every password from `dsn` (and anything shaped like one) replaced by ***."""
    if dsn:
        text = text.replace(dsn, _URI_PASSWORD.sub(r"\1***\3", _PASSWORD_PARAM.sub(r"\1***", dsn)))
    for password in passwords if passwords is not None else _passwords_in(dsn):
        text = text.replace(password, "***")
    text = _PASSWORD_PARAM.sub(r"\1***", text)
    return _URI_PASSWORD.sub(r"\1***\3", text)


def _where(params: dict) -> str:
    host = params.get("host") or params.get("hostaddr") or "default host"
    port = f":{params['port']}" if params.get("port") else ""
    database = f"/{params['dbname']}" if params.get("dbname") else ""
    return f"{host}{port}{database}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock(bigint)."""
    digest = hashlib.sha256(f"osctl state lock: {name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _split(key: int) -> tuple[int, int]:
    """(classid, objid) under which pg_locks shows the bigint advisory lock `key`."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


def _scalar(cur: Cursor[Any]) -> Any:
    """The value of a query that always answers one row (an aggregate, a function, RETURNING)."""
    row = cur.fetchone()
    assert row is not None, "a one-row query answered no row"
    return row[0]


def _keep_session_alive(conn: Connection[Any]) -> None:
    # The lock lives as long as this session: make the server notice a vanished client
    # (machine gone, network cut) within about a minute, and never end the session for idling.
    conn.execute("SET tcp_keepalives_idle = 30")
    conn.execute("SET tcp_keepalives_interval = 10")
    conn.execute("SET tcp_keepalives_count = 3")
    conn.execute("SET idle_in_transaction_session_timeout = 0")
    if conn.info.server_version >= 140000:
        conn.execute("SET idle_session_timeout = 0")


def _has_lz4(conn: Connection[Any]) -> bool:
    if conn.info.server_version < 140000:
        return False
    row = conn.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                       "WHERE name = 'default_toast_compression'").fetchone()
    return bool(row and row[0])
