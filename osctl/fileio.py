"""Writing files so that a reader never sees half of one, and a crash loses neither.

One way for state, saved plans, `osctl fmt` and export files: write a temp file
beside the target, fsync it, give it its name with a rename (or a hard link, for
exports, which never replace a file), then fsync the directory so that the
rename itself survives a power cut.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: str | Path, data: str | bytes, *, mode: int = 0o600,
                 before_replace: Callable[[], None] | None = None) -> os.stat_result:
    """Replace `path` with `data` (text is written as UTF-8, newlines as given), durably.

    `mode` is the new file's permission bits (state keeps 0600: it can hold bearer
    links); `before_replace` runs once the new file is safely on disk and before it
    takes the name (state keeps a backup of the old file there). Returns the new
    file's stat, which the rename does not change. A failure leaves the old file
    as it was and no temp file behind; OSError propagates for the caller to word.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(path)
    written = write_new(temp, data, mode=mode)
    try:
        if before_replace is not None:
            before_replace()
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
    return written


def write_new(path: str | Path, data: str | bytes, *, mode: int = 0o600) -> os.stat_result:
    """Create `path`, which must not exist (FileExistsError), with `data`, fsynced.

    A failure removes what was created. Its stat is returned.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.chmod(path, mode)  # exactly `mode`, whatever the umask (fmt keeps a file's mode)
        view = memoryview(data.encode("utf-8") if isinstance(data, str) else data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        written = os.fstat(fd)
    except BaseException:
        os.close(fd)
        Path(path).unlink(missing_ok=True)
        raise
    os.close(fd)
    return written


def temp_path(path: str | Path) -> Path:
    """A name for a temp file beside `path`: .<name>.<random>.tmp (hidden, and never a config file)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def fsync_directory(directory: str | Path) -> None:
    """Make a rename or a new name in `directory` durable (where the platform allows it)."""
    if os.name != "posix":  # directories cannot be opened for fsync elsewhere
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory: the rename has happened
        pass
    finally:
        os.close(fd)
