"""CSV exports: jobs, gzip writers and the answers of their download URLs.

A job is requested at emulator time t with N rows and becomes ready at
t + N / export_rate; its URL works until t + 3 days. The file itself is written
by a background thread into the emulator's temporary directory, row by row from
the audience iterator, so a million-row export never sits in memory. A download
that arrives once the job is ready (in emulator time) but before the writer has
finished simply waits for it.

Not-ready and expired URLs answer like the S3 bucket behind OneSignal does for
a missing key (docs/onesignal-api.md#not-ready-downloads): 403 AccessDenied for the subscriptions export
and message history, 404 NoSuchKey for audience activity.
"""

from __future__ import annotations

import csv
import gzip
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BufferedIOBase
from pathlib import Path

from osctl.emulator.audience import Subscription
from osctl.emulator.clock import csv_time
from osctl.emulator.messages import Fate
from osctl.emulator.server import Response

URL_LIFETIME = 3 * 86_400.0
WRITER_WAIT = 600.0  # seconds a ready download waits for a slow writer

SUBSCRIPTION_COLUMNS = [
    "id", "identifier", "session_count", "language", "timezone", "game_version", "device_os",
    "device_type", "device_model", "ad_id", "tags", "last_active", "playtime", "amount_spent",
    "created_at", "invalid_identifier", "badge_count",
]
EXTRA_FIELDS = [
    "external_user_id", "onesignal_id", "location", "country", "rooted", "ip", "web_auth",
    "web_p256", "unsubscribed_at", "notification_types", "timezone_id",
]
ACTIVITY_COLUMNS = [
    "external_user_id", "subscription_id", "device_type", "sent", "delivered", "clicked",
    "onesignal_id", "failed", "unsubscribed", "failure_message",
]
HISTORY_COLUMNS = ["player_id", "onesignal_id", "external_id", "target_channel"]

KIND_SUBSCRIPTIONS, KIND_ACTIVITY, KIND_HISTORY = "subscriptions", "audience_activity", "message_history"


def s3_error(status: int, code: str, message: str, key: str = "") -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    key_xml = f"<Key>{key}</Key>" if key else ""
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"{key_xml}<RequestId>{request_id}</RequestId></Error>")
    return Response(status, body.encode(), "application/xml")


def missing_object(kind: str, key: str) -> Response:
    if kind == KIND_ACTIVITY:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.", key)
    return s3_error(403, "AccessDenied", "Access Denied")


@dataclass
class ExportJob:
    token: str
    filename: str
    kind: str
    app_id: str
    account: str
    rows: int
    requested_at: float
    ready_at: float
    expires_at: float
    path: Path
    written: threading.Event = field(default_factory=threading.Event)
    failed: str | None = None
    downloads: int = 0

    @property
    def url_path(self) -> str:
        return f"/_files/{self.token}/{self.filename}"

    def describe(self, now: float) -> dict:
        return {"token": self.token, "kind": self.kind, "app_id": self.app_id, "account": self.account,
                "rows": self.rows, "requested_at": self.requested_at, "ready_at": self.ready_at,
                "expires_at": self.expires_at, "ready": self.ready_at <= now < self.expires_at,
                "written": self.written.is_set(), "downloads": self.downloads, "path": self.url_path}


class Exports:
    """All export jobs of the emulator and the files behind them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()
        self.rate = 2000.0

    def busy(self, account: str, now: float) -> ExportJob | None:
        """The account's export still being generated, if any (one at a time, §8.11)."""
        with self._lock:
            return next((j for j in self._jobs.values() if j.account == account and now < j.ready_at), None)

    def start(self, *, kind: str, app_id: str, account: str, filename: str, rows: int, now: float,
              header: list[str], records: Callable[[], Iterable[list]]) -> ExportJob | None:
        """Start writing the file; None if the account already has an export being generated."""
        token = str(uuid.uuid4())  # random, never seeded: the URL is the only credential
        job = ExportJob(token=token, filename=filename, kind=kind, app_id=app_id, account=account,
                        rows=rows, requested_at=now, ready_at=now + rows / self.rate,
                        expires_at=now + URL_LIFETIME, path=self.directory / f"{token}.csv.gz")
        with self._lock:
            if any(j.account == account and now < j.ready_at for j in self._jobs.values()):
                return None
            self._jobs[token] = job
        threading.Thread(target=_write, args=(job, header, records), daemon=True,
                         name=f"export-{token[:8]}").start()
        return job

    def describe(self, now: float) -> list[dict]:
        with self._lock:
            return [j.describe(now) for j in self._jobs.values()]

    def clear(self) -> None:
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            job.path.unlink(missing_ok=True)

    def download(self, token: str, filename: str, now: float) -> Response:
        with self._lock:
            job = self._jobs.get(token)
        if job is None or job.filename != filename:
            return s3_error(403, "AccessDenied", "Access Denied")
        if now >= job.expires_at:
            job.path.unlink(missing_ok=True)  # gone, like an object past its lifecycle rule
            return missing_object(job.kind, filename)
        if now < job.ready_at or not job.written.wait(WRITER_WAIT) or job.failed:
            return missing_object(job.kind, filename)
        job.downloads += 1
        return Response(200, content_type="application/gzip", file_path=str(job.path),
                        file_size=job.path.stat().st_size,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _write(job: ExportJob, header: list[str], records: Callable[[], Iterable[list]]) -> None:
    partial = job.path.with_suffix(".part")
    try:
        # level 1: three times faster than the default for a file about 15% larger
        with open(partial, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as gz:
            text = _TextSink(gz)
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(records())
            text.flush()
        os.replace(partial, job.path)
    except Exception as exc:  # noqa: BLE001 - the download reports it as "not found"
        job.failed = f"{type(exc).__name__}: {exc}"
        partial.unlink(missing_ok=True)
    finally:
        job.written.set()


class _TextSink:
    """A minimal text file for csv.writer that batches writes into the gzip stream."""

    def __init__(self, binary: BufferedIOBase) -> None:
        self._binary = binary
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= 256 * 1024:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            self._binary.write("".join(self._parts).encode())
            self._parts, self._size = [], 0


# --- row builders ----------------------------------------------------------------


def stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H-%M-%S") + "UTC"


def subscription_header(extra_fields: list[str]) -> list[str]:
    header = list(SUBSCRIPTION_COLUMNS)
    for name in extra_fields:
        header.extend(["lat", "long"] if name == "location" else [name])
    return header


def subscription_rows(subs: Iterable[Subscription], extra_fields: list[str]) -> Iterator[list]:
    for s in subs:
        row = [
            s.id, s.identifier, s.session_count, s.language, s.timezone, s.app_version, s.device_os,
            s.device_type, s.device_model, "", s.tags_json,
            csv_time(s.last_session), s.session_time, f"{s.amount_spent:.2f}", csv_time(s.first_session),
            "f" if s.subscribed else "t", s.badge_count,
        ]
        for name in extra_fields:
            if name == "location":
                row.extend(["" if s.lat is None else s.lat, "" if s.long is None else s.long])
            else:
                row.append(_extra(s, name))
        yield row


def _extra(s: Subscription, name: str) -> str | int:
    if name == "external_user_id":
        return s.external_id or ""
    if name == "onesignal_id":
        return s.onesignal_id
    if name == "country":
        return s.country or ""
    if name == "rooted":
        return "t" if s.rooted else "f"
    if name == "ip":
        return s.ip
    if name in ("web_auth", "web_p256"):
        return f"{name}-{s.id[:8]}" if s.device_type in (5, 8, 17) else ""
    if name == "unsubscribed_at":
        return csv_time(s.unsubscribed_at)
    if name == "notification_types":
        return 1 if s.subscribed else -31
    if name == "timezone_id":
        return s.timezone_id
    raise ValueError(name)


def iso_or_blank(ts: int | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def activity_rows(recipients: Iterable[tuple[Subscription, Fate]]) -> Iterator[list]:
    for s, fate in recipients:
        yield [s.external_id or "", s.id, s.device_type, iso_or_blank(fate.sent), iso_or_blank(fate.delivered),
               iso_or_blank(fate.clicked), s.onesignal_id, iso_or_blank(fate.failed or fate.errored),
               iso_or_blank(fate.failed), fate.failure_message]


def history_rows(recipients: Iterable[tuple[Subscription, Fate]], events: str, channel: str) -> Iterator[list]:
    for s, fate in recipients:
        if events == "clicked" and fate.clicked is not None:
            yield [s.id, s.onesignal_id, s.external_id or "", channel, fate.clicked]
        elif events == "sent" and fate.sent is not None:
            yield [s.id, s.onesignal_id, s.external_id or "", channel]
