"""State in a local JSON file, written atomically, with a backup and a lock file.

    <path>          the state (mode 0600: in-flight export URLs are bearer links)
    <path>.backup   the version before the last write (a hard link: no copying)
    <path>.lock     exists while a writer holds the lock; holds its LockInfo as JSON,
                    complete or not at all (written to a temp file, then linked)
    .<name>.*.tmp   a write in progress; left only by a killed writer, removed by
                    the next one that takes the lock
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from osctl.errors import LockHeld, StateError
from osctl.fileio import write_atomic, write_new
from osctl.state.backend import UNREADABLE_LOCK, BackendBase, LockInfo, lock_held
from osctl.state.model import State, decode_state

POLL_SECONDS = 0.1
# link() errors that mean "this file system has no hard links"
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK}


class LocalBackend(BackendBase):
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.description = f"local file {self.path}"
        # (file identity, lineage, serial) as last read or written here: lets a
        # write check its predecessor without parsing megabytes of JSON again.
        self._known: tuple[tuple, str, int] | None = None

    # -- reading -----------------------------------------------------------------
    def read(self) -> State | None:
        return self._read(self.path, remember=True)

    def previous(self) -> State | None:
        return self._read(self.backup_path, remember=False)

    def _read(self, path: Path, *, remember: bool) -> State | None:
        try:
            with open(path, "rb") as handle:
                identity = _identity(os.fstat(handle.fileno()))
                document = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            state = decode_state(document)
        except StateError as exc:
            raise StateError(f"{path}: {exc}") from None
        if remember:
            self._known = (identity, state.lineage, state.serial)
        return state

    def _stored_header(self) -> tuple[str, int] | None:
        try:
            identity = _identity(os.stat(self.path))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if self._known is None or self._known[0] != identity:
            stored = self.read()  # changed by someone else, or never seen: look properly
            return None if stored is None else (stored.lineage, stored.serial)
        return self._known[1], self._known[2]

    # -- writing -----------------------------------------------------------------
    def write_document(self, document: bytes, *, lineage: str, serial: int, force: bool = False) -> None:
        if force:
            self.check_successor(None, lineage, serial)
        else:
            self.check_successor(self._stored_header(), lineage, serial)
        try:
            # mode 0600: in-flight export URLs are bearer links
            written = write_atomic(self.path, document, mode=0o600, before_replace=self._keep_backup)
        except OSError as exc:
            raise StateError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._known = (_identity(written), lineage, serial)

    def _keep_backup(self) -> None:
        if not self.path.exists():
            return
        temp = self._temp_path(self.backup_path.name)
        try:
            try:
                os.link(self.path, temp)  # the old file is never modified again: share it
            except OSError:  # a filesystem without hard links
                shutil.copyfile(self.path, temp)
                os.chmod(temp, 0o600)
            os.replace(temp, self.backup_path)
        finally:
            temp.unlink(missing_ok=True)

    def _temp_path(self, name: str) -> Path:
        return self.path.with_name(f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")

    # -- locking -----------------------------------------------------------------
    @contextmanager
    def lock(self, operation: str, timeout_seconds: float) -> Iterator[LockInfo]:
        info = LockInfo.for_this_process(operation)
        payload = json.dumps(info.to_dict()).encode()
        started = time.monotonic()
        deadline = started + max(0.0, timeout_seconds)
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create {self.lock_path.parent}: {exc.strerror or exc}") from None
        # Complete content or no lock: the holder's details go to a temp file first, which
        # is then hard-linked to the lock path (a link, like O_EXCL, fails if the lock exists).
        temp = self._temp_path(self.lock_path.name)
        try:
            self._lock_errors(lambda: write_new(temp, payload))
            while True:
                try:
                    self._lock_errors(lambda: self._link_lock(temp, payload))
                    break
                except FileExistsError:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        holder = self._holder()
                        if holder is None and not self.lock_path.exists():
                            continue  # released while we looked at it
                        if holder is None:
                            raise self._unreadable_lock_held(timeout_seconds) from None
                        raise lock_held(holder, self.description, timeout_seconds, _stale_hint(holder)) from None
                    time.sleep(min(POLL_SECONDS, remaining))
        finally:
            temp.unlink(missing_ok=True)
        try:
            self._remove_stale_temp_files()
            yield info
        finally:
            holder = self._holder(attempts=1)
            if holder is not None and holder.id == info.id:  # not if it was force-unlocked meanwhile
                self.lock_path.unlink(missing_ok=True)

    def _lock_errors(self, work: Callable[[], object]) -> None:
        try:
            work()
        except FileExistsError:
            raise
        except OSError as exc:
            raise StateError(f"cannot take the state lock: writing {self.lock_path} failed: "
                             f"{exc.strerror or exc}; no lock was taken") from None

    def _link_lock(self, temp: Path, payload: bytes) -> None:
        try:
            os.link(temp, self.lock_path)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            self._place_lock_without_links(payload)

    def _place_lock_without_links(self, payload: bytes) -> None:
        # A file system without hard links: create exclusively (a full disk leaves no empty lock)
        write_new(self.lock_path, payload)

    def _unreadable_lock_held(self, waited: float) -> LockHeld:
        waited_text = f" after waiting {waited:g}s" if waited else ""
        return LockHeld(f"state is locked{waited_text}: the lock file {self.lock_path} cannot be read "
                        f"({self._unreadable_reason()}); if no osctl is running, remove it with: "
                        f"osctl force-unlock {UNREADABLE_LOCK} ({self.description})")

    def _unreadable_reason(self) -> str:
        try:
            size = self.lock_path.stat().st_size
        except OSError as exc:
            return exc.strerror or str(exc)
        if size == 0:
            return "it is empty: an osctl ran out of disk space or was killed while writing it"
        return f"its {size} bytes are not a lock osctl wrote"

    def force_unlock(self, lock_id: str) -> str:
        if not self.lock_path.exists():
            raise StateError(f"no lock is held on {self.description}")
        holder = self._holder()
        if holder is None:
            if lock_id != UNREADABLE_LOCK:
                raise StateError(f"the lock file {self.lock_path} cannot be read "
                                 f"({self._unreadable_reason()}); if no osctl is running, remove it with: "
                                 f"osctl force-unlock {UNREADABLE_LOCK}")
            reason = self._unreadable_reason()
            self.lock_path.unlink(missing_ok=True)
            return f"the unreadable lock file {self.lock_path} ({reason})"
        if holder.id != lock_id:
            raise StateError(f"lock ID {lock_id} does not match the current lock: {holder.describe()}")
        self.lock_path.unlink(missing_ok=True)
        return f"lock {lock_id}"

    def _holder(self, attempts: int = 3) -> LockInfo | None:
        for attempt in range(attempts):
            try:
                return LockInfo.from_dict(json.loads(self.lock_path.read_bytes()))
            except FileNotFoundError:
                return None
            except (OSError, ValueError, KeyError, TypeError):
                if attempt + 1 < attempts:
                    time.sleep(0.02)  # the holder may be writing it right now
        return None

    def _remove_stale_temp_files(self) -> None:
        # Only a killed writer leaves these, and we now hold the lock, so none is live.
        # (never another process's lock temp file: it may be placing its lock right now)
        for name in (self.path.name, self.backup_path.name):
            for leftover in self.path.parent.glob(f".{name}.[0-9]*.tmp"):
                leftover.unlink(missing_ok=True)


def _identity(stat: os.stat_result) -> tuple:
    # A rename keeps inode and mtime, and every write makes a new inode.
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def _stale_hint(holder: LockInfo | None) -> str:
    if holder is None or holder.host != socket.gethostname() or os.name != "posix":
        return ""  # (on Windows os.kill(pid, 0) would terminate the process)
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return f"; no process {holder.pid} runs on this host any more"
    except OSError:
        pass  # it exists but belongs to someone else
    return ""
