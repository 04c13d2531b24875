"""Fetching an export file and putting it in place (effects: HTTP and files).

    look(http, url)              one GET of the file URL: Ready (a streaming response) or NotReady
    receive(chunks, temp, ...)   one pass over the body: write to the temp file, sha256, gunzip,
                                 parse the CSV (rows, header) -- memory stays flat whatever the size
    place(temp, destination)     link into place under a free name (-N), never overwriting

The temp file sits beside the destination (same file system, so placing it is atomic) and
is named `.<name>.<pid>-<random>.osctl-part`; a run killed mid-download leaves at most
such a file, never a partial file at the destination, and the next run removes it.

File URLs are bearer links: anyone holding one can fetch the file. They are never sent
the API key (the download client has no Authorization header) and never printed in full
(mask_url).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import os
import re
import secrets
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from osctl.config.model import ExportOptions
from osctl.errors import DownloadFailed
from osctl.exports import naming
from osctl.exports.columns import header_problem
from osctl.exports.links import mask_url
from osctl.fileio import fsync_directory

NOT_READY_STATUSES = frozenset({403, 404})  # docs/onesignal-api.md#not-ready-downloads: the file is still being made
TEMP_SUFFIX = ".osctl-part"
CHUNK_SIZE = 1 << 16
ROW_BATCH = 1 << 15
# Tags can be long JSON; the csv module's default field limit (128 KiB) is too small.
FIELD_SIZE_LIMIT = 1 << 30


@dataclass(frozen=True)
class NotReady:
    status: int | None  # None: no answer (connection problem)
    retry_after: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Received:
    bytes: int
    rows: int
    sha256: str
    header: tuple[str, ...]


Progress = Callable[[int, int | None, int], None]  # bytes so far, total bytes or None, rows so far


class Sink(Protocol):
    """Where a download is written while it is verified: a file, a temp file, an upload."""

    def write(self, data: bytes, /) -> object: ...


class _WritableBuffer(Protocol):
    """What RawIOBase.readinto is given: an object with the buffer protocol (bytearray, memoryview).
    The stubs' own name for it lives in _typeshed, which exists for type checkers only."""

    def __buffer__(self, flags: int, /) -> memoryview: ...


def download_client(timeout: float = 60.0) -> httpx.Client:
    """A client for file URLs: no Authorization header, redirects followed (S3 may redirect)."""
    from osctl import __version__

    return httpx.Client(headers={"User-Agent": f"osctl/{__version__}"}, follow_redirects=True,
                        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))


def look(http: httpx.Client, url: str) -> httpx.Response | NotReady:
    """GET the file URL. A 200 comes back as an open streaming response (the caller reads
    and closes it); 403/404 (not made yet), 429, 5xx and connection problems as NotReady."""
    try:
        response = http.send(http.build_request("GET", url), stream=True)
    except httpx.TransportError as exc:
        return NotReady(None, detail=_describe(exc, url))
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"cannot fetch {mask_url(url)}: {_describe(exc, url)}", retryable=False) from None
    status = response.status_code
    if status == 200:
        return response
    try:  # small error bodies: read them so the connection can be used again
        response.read()
    except httpx.HTTPError:
        pass
    finally:
        response.close()
    if status in NOT_READY_STATUSES or status == 429 or 500 <= status <= 599:
        return NotReady(status, retry_after=_retry_after(response.headers.get("Retry-After")))
    if status == 410:
        raise DownloadFailed(f"the file at {mask_url(url)} is gone (410): its link expired", retryable=False)
    raise DownloadFailed(f"GET {mask_url(url)} answered {status}", retryable=False)


def response_chunks(response: httpx.Response, url: str) -> Iterator[bytes]:
    """The raw (still gzip-compressed) body; a connection lost mid-body is a retryable failure."""
    try:
        yield from response.iter_raw(CHUNK_SIZE)
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"the download from {mask_url(url)} was cut short (truncated): "
                             f"{_describe(exc, url)}", retryable=True) from None
    finally:
        response.close()


def receive(chunks: Iterable[bytes], sink: Sink, *, kind: str, options: ExportOptions | None = None,
            total: int | None = None, progress: Progress | None = None) -> Received:
    """Write `chunks` to `sink` and verify them in the same pass: a complete gzip stream
    (every member's CRC and length), a CSV (quoted fields may hold newlines) whose header
    fits `kind`; count its data rows and hash the bytes as received."""
    tee = _Tee(chunks, sink, total, progress)
    gz = _gunzip(tee)
    text = io.TextIOWrapper(gz, encoding="utf-8", errors="replace", newline="")
    # fewer, larger reads through the gzip layer; a CPython attribute the stubs do not declare
    text._CHUNK_SIZE = CHUNK_SIZE  # type: ignore[attr-defined]
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        problem = header_problem(kind, options, header)
        if problem:
            raise DownloadFailed(f"the downloaded file is not a {kind} export: {problem}", retryable=True)
        rows = 0
        while True:
            batch = sum(1 for _ in _take(reader, ROW_BATCH))
            rows += batch
            tee.rows = rows
            if batch < ROW_BATCH:
                break
    except (EOFError, zlib.error, OSError) as exc:  # gzip.BadGzipFile is an OSError
        raise DownloadFailed(f"the download is not a complete gzip file ({_reason(exc)})", retryable=True) from None
    except csv.Error as exc:
        raise DownloadFailed(f"the downloaded file is not valid CSV ({exc})", retryable=True) from None
    tee.finish()
    return Received(bytes=tee.bytes, rows=rows, sha256=tee.sha.hexdigest(), header=tuple(header or ()))


def _take(reader: Iterator[list[str]], n: int) -> Iterator[list[str]]:
    for _, row in zip(range(n), reader, strict=False):
        yield row


def _gunzip(raw: io.RawIOBase) -> gzip.GzipFile:

    return gzip.GzipFile(fileobj=io.BufferedReader(raw, CHUNK_SIZE), mode="rb")


class _Tee(io.RawIOBase):
    """A readable stream over `chunks` that copies every byte to `sink` and the hash."""

    def __init__(self, chunks: Iterable[bytes], sink: Sink, total: int | None, progress: Progress | None):
        self._chunks = iter(chunks)
        self._sink = sink
        self._pending = memoryview(b"")
        self._progress = progress
        self._total = total
        self.sha = hashlib.sha256()
        self.bytes = 0
        self.rows = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: _WritableBuffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            if chunk:
                self._sink.write(chunk)
                self.sha.update(chunk)
                self.bytes += len(chunk)
                self._pending = memoryview(chunk)
                if self._progress is not None:
                    self._progress(self.bytes, self._total, self.rows)
        view = memoryview(buffer)
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def finish(self) -> None:
        """Drain anything after the last gzip member (there should be nothing) into the file."""
        rest = bytearray(CHUNK_SIZE)
        while self.readinto(rest):
            pass
        if self._progress is not None:
            self._progress(self.bytes, self._total, self.rows)


# -- temp files and placing them ------------------------------------------------------


def temp_path_for(destination: Path) -> Path:
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return destination.with_name(f".{destination.name}.{token}{TEMP_SUFFIX}")


_TEMP_PATTERN = re.compile(r"^\..+\.(\d+)-[0-9a-f]+" + re.escape(TEMP_SUFFIX) + "$")


def remove_stale_temps(directory: Path) -> list[Path]:
    """Remove temp files left by osctl processes that no longer run (killed mid-download)."""
    removed: list[Path] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_PATTERN.match(entry.name)
        if match and not _alive(int(match.group(1))):
            try:
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def place(temp: Path, destination: Path) -> Path:
    """Give the (already fsynced) temp file its final name without ever replacing a file:
    the first free name of destination, destination-1, ... (hard link, which fails if the
    name exists; a rename after an existence check where links are not supported)."""
    for candidate in naming.candidates(str(destination)):
        target = Path(candidate)
        try:
            os.link(temp, target)
        except FileExistsError:
            continue
        except OSError:
            if target.exists():
                continue
            os.replace(temp, target)
            fsync_directory(target.parent)
            return target
        temp.unlink()
        fsync_directory(target.parent)
        return target
    raise AssertionError("unreachable")


def write_verified(destination: Path, fill: Callable[[Sink], Received]) -> tuple[Path, Received]:
    """Create a temp file beside `destination`, let `fill` write and verify it, fsync, place.
    On any failure the temp file is removed: nothing is left at or beside the destination."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(destination.parent)
    temp = temp_path_for(destination)
    try:
        with open(temp, "xb") as sink:
            received = fill(sink)
            sink.flush()
            os.fsync(sink.fileno())
        final = place(temp, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return final, received


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        return None


def _describe(exc: Exception, url: str) -> str:
    text = str(exc).replace(url, mask_url(url)).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "it ends before the end of the compressed stream: truncated"
    text = str(exc).strip()
    return text or type(exc).__name__
