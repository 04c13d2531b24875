"""Which recorded files an export's retention (keep: N files, or keep: 30d) lets go. Pure.

Only files in the export's state record are ever candidates: osctl deletes nothing it did
not write. The files just written are never pruned, whatever the retention says.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from osctl.schedule import parse_time
from osctl.state.model import FileRecord


def to_prune(files: list[FileRecord], *, keep_files: int | None, keep_seconds: int | None, now: datetime,
             protected: Iterable[str] = ()) -> list[FileRecord]:
    """The files to delete, oldest first. `files` is in the order they were written (state
    keeps it); `keep_files` keeps that many newest, `keep_seconds` those written within it."""
    keep = set(protected)
    doomed: list[FileRecord] = []
    if keep_files is not None:
        doomed = files[:-keep_files] if len(files) > keep_files else []
    elif keep_seconds is not None:
        cutoff = now - timedelta(seconds=keep_seconds)
        doomed = [f for f in files if (_written(f) or now) < cutoff]
    return [f for f in doomed if f.path not in keep]


def _written(file: FileRecord) -> datetime | None:
    stamp = file.written_at or file.tick
    return parse_time(stamp) if stamp else None
