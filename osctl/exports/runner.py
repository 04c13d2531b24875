"""Running exports (effects: API calls, file downloads, state writes).

One export run writes one file (subscriptions, outcomes) or one per message
(audience_activity, message_history). For each file:

    1. resume: an export requested earlier whose URL is still valid (3 days) is polled
       again instead of requested again; an expired one is dropped and requested anew
    2. request it; a busy account (another export running, even from another machine)
       is waited for and asked again, within the export's timeout
    3. record the URL and its expiry in state at once, durably (InFlight), so a killed
       run resumes rather than starting a second export
    4. look at the URL at the estimated generation time, then with backoff (fetching.py,
       polling.py) until the file is there or the timeout passed (403/404 mean "not ready")
    5. stream it to its destination (destinations.py: a temp file beside a local path, or
       an upload to an object store) while verifying it; a broken or corrupt download is
       fetched again; only a verified file is placed (-N if the name is taken)
    6. record the file (path or URL, bytes, rows, sha256, tick, duration, ETag), the message
       bookmark, and drop the InFlight entry

The timeout applies to each file. When every file is written, the export's last
success and the tick it satisfied are recorded, and files beyond the export's retention
(keep:) that state recorded are deleted and recorded as pruned. Exports of one account run one at a
time (OneSignal makes one export per account at a time); accounts run in parallel.
Progress goes to an observer; nothing here prints.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gzip
import io
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from osctl.addresses import segment_address
from osctl.config.model import (
    AudienceActivityOptions,
    Config,
    Export,
    ExportKind,
    MessageHistoryOptions,
    OutcomesOptions,
    SubscriptionsOptions,
)
from osctl.errors import (
    DownloadFailed,
    DownloadGaveUp,
    ExportFailed,
    ExportStopped,
    NotReadyInTime,
    OsctlError,
    describe_bug,
)
from osctl.exports import download as dl
from osctl.exports import naming
from osctl.exports.destinations import Destinations, Published
from osctl.exports.due import is_per_message
from osctl.exports.fetching import fetch_when_ready
from osctl.exports.polling import PollPolicy, clip
from osctl.exports.retention import to_prune
from osctl.onesignal.api import ExportClients, ExportsApi
from osctl.plan.model import ExportRun
from osctl.schedule import format_time, parse_time
from osctl.state.model import ExportRecord, FileRecord, InFlight, PrunedFile, State
from osctl.state.store import StateAccess

if TYPE_CHECKING:
    import httpx

URL_LIFETIME = timedelta(days=3)  # docs/onesignal-api.md#exports
# An in-flight URL this close to its expiry is not resumed: the download might not make it.
RESUME_MARGIN = timedelta(minutes=10)
LOST_ANSWER_ATTEMPTS = 3


class ExportObserver(Protocol):
    def export_started(self, run: ExportRun) -> None: ...
    def export_step(self, run: ExportRun, text: str) -> None: ...
    def export_progress(self, run: ExportRun, done: int, total: int | None, rows: int) -> None: ...
    def export_finished(self, run: ExportRun, detail: str) -> None: ...
    def export_failed(self, run: ExportRun, error: str) -> None: ...


class NullObserver:
    def export_started(self, run: ExportRun) -> None: pass
    def export_step(self, run: ExportRun, text: str) -> None: pass
    def export_progress(self, run: ExportRun, done: int, total: int | None, rows: int) -> None: pass
    def export_finished(self, run: ExportRun, detail: str) -> None: pass
    def export_failed(self, run: ExportRun, error: str) -> None: pass


@dataclass
class ExportsResult:
    succeeded: list[tuple[ExportRun, str]] = field(default_factory=list)
    failed: list[tuple[ExportRun, str]] = field(default_factory=list)
    stopped: list[tuple[ExportRun, str]] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)  # of internal errors (bugs), for -v
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ok(self, run: ExportRun, detail: str) -> None:
        with self._lock:
            self.succeeded.append((run, detail))

    def fail(self, run: ExportRun, error: str) -> None:
        with self._lock:
            self.failed.append((run, error))

    def stop(self, run: ExportRun, why: str) -> None:
        with self._lock:
            self.stopped.append((run, why))


@dataclass
class Runner:
    config: Config
    store: StateAccess
    clients: ExportClients
    http: httpx.Client  # for file URLs (download_client)
    config_dir: Path
    now: Callable[[], datetime]  # wall clock (UTC): timestamps, URL expiry
    observer: ExportObserver = field(default_factory=NullObserver)
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic  # timeouts and poll timing
    rng: Callable[[], float] = random.random
    policy: PollPolicy = field(default_factory=PollPolicy)
    stop_reason: Callable[[], str | None] = lambda: None  # e.g. "stopped by SIGTERM"
    # local files and the config's storage options
    destinations: Destinations = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.destinations = Destinations(self.config_dir, self.config.storage)

    # -- many exports ------------------------------------------------------------
    def run_all(self, runs: Iterable[ExportRun], *,
                failed_segments: AbstractSet[str] = frozenset()) -> ExportsResult:
        """Exports of one account one after another, accounts in parallel."""
        result = ExportsResult()
        by_account: dict[str, list[ExportRun]] = {}
        for run in runs:
            export = self.config.export(run.name)
            app = self.config.apps.get(export.app) if export is not None else None
            by_account.setdefault(app.account if app else "", []).append(run)

        def serve(queue: list[ExportRun]) -> None:
            for run in queue:
                if self.stop_reason():
                    result.stop(run, f"not started: {self.stop_reason()}")
                    continue
                if run.after_segment and run.after_segment in failed_segments:
                    error = f"not run: {run.after_segment}, which it exports, was not created"
                    self.observer.export_failed(run, error)
                    result.fail(run, error)
                    continue
                self.run_one(run, result)

        if len(by_account) <= 1:
            for queue in by_account.values():
                serve(queue)
            return result
        with ThreadPoolExecutor(max_workers=len(by_account), thread_name_prefix="osctl-export") as pool:
            list(pool.map(serve, by_account.values()))
        return result

    def run_one(self, run: ExportRun, result: ExportsResult) -> None:
        self.observer.export_started(run)
        try:
            detail = self._run(run)
        except ExportStopped as exc:
            self.observer.export_failed(run, str(exc))
            result.stop(run, str(exc))
            return
        except OsctlError as exc:
            self._failed(run, str(exc))
            result.fail(run, str(exc))
            return
        except Exception as exc:  # a bug: report it, keep going with other exports
            message = describe_bug(exc)
            self._failed(run, message)
            result.fail(run, message)
            result.tracebacks.append(traceback.format_exc())  # for -v
            return
        self.observer.export_finished(run, detail)
        result.ok(run, detail)

    def _failed(self, run: ExportRun, error: str) -> None:
        self.observer.export_failed(run, error)
        with contextlib.suppress(OsctlError):
            self.store.update(lambda s: _failed_with(s, run.name, error))

    # -- one export --------------------------------------------------------------
    def _run(self, run: ExportRun) -> str:
        export = self.config.export(run.name)
        if export is None:
            raise ExportFailed(f"export {run.name!r} is no longer declared in the configuration")
        if export.app not in self.clients:
            raise ExportFailed(f"export {run.name!r}: app '{export.app}' is not configured")
        started = self.now()
        tick = parse_time(run.due_tick) if run.due_tick else started
        self.store.update(lambda s: _start(s, run.name, format_time(started)))
        done = set(self.store.view(lambda s: list(_record(s, run.name).messages_done)))
        errors: list[str] = []
        files: list[FileRecord] = []
        if export.kind == ExportKind.OUTCOMES:
            files.append(self._outcomes(run, export, tick))
        elif is_per_message(export):
            for message_id in run.messages:
                if message_id in done:
                    continue  # exported since the plan was made
                if self.stop_reason():
                    raise ExportStopped(f"{self.stop_reason()} after {len(files)} file(s); the next run "
                                        f"exports the messages left")
                try:
                    files.append(self._file(run, export, tick, message_id))
                except ExportStopped:
                    raise
                except OsctlError as exc:
                    errors.append(f"message {message_id}: {exc}")
                    self.observer.export_step(run, f"message {message_id} failed: {exc}")
        else:
            files.append(self._file(run, export, tick, None))
        if errors:
            written = f"{len(files)} file(s) written, " if files else ""
            raise ExportFailed(f"{written}{len(errors)} failed: " + "; ".join(errors))
        finished = format_time(self.now())
        self.store.update(lambda s: _succeeded(s, run.name, finished, run.due_tick))
        pruned = self._prune(run, export, files)
        if not files:
            return "no new messages: nothing to export" + pruned
        rows = sum(f.rows for f in files)
        names = ", ".join(f.path for f in files[:3]) + (f", … ({len(files)} files)" if len(files) > 3 else "")
        return f"{names} ({rows:,} rows){pruned}"

    def _prune(self, run: ExportRun, export: Export, written: list[FileRecord]) -> str:
        """Delete the recorded files beyond the export's retention; record each one deleted.
        A file that cannot be deleted stays recorded and is tried again after the next run."""
        if export.keep is None:
            return ""
        now = self.now()
        files = self.store.view(lambda s: list(_record(s, run.name).files))
        doomed = to_prune(files, keep_files=export.keep_files, keep_seconds=export.keep_seconds, now=now,
                          protected={f.path for f in written})
        pruned, failed = 0, []
        for file in doomed:
            try:
                self.destinations.delete(file.path)
            except OsctlError as exc:
                failed.append(str(exc))
                self.observer.export_step(run, f"could not delete {file.path} (retention): {exc}")
                continue
            gone = PrunedFile(path=file.path, sha256=file.sha256, tick=file.tick, written_at=file.written_at,
                              pruned_at=format_time(now))
            self.store.update(functools.partial(_pruned, name=run.name, file=file, gone=gone))
            self.observer.export_step(run, f"deleted {file.path} (keep: {export.keep})")
            pruned += 1
        text = f"; {pruned} old file(s) deleted (keep: {export.keep})" if pruned else ""
        return text + (f"; {len(failed)} old file(s) could not be deleted" if failed else "")

    def _file(self, run: ExportRun, export: Export, tick: datetime, message_id: str | None) -> FileRecord:
        unit_started = self.monotonic()
        deadline = unit_started + export.timeout_seconds
        client = self.clients[export.app]
        app_id = self.config.apps[export.app].app_id
        records = self._estimate(export, client, app_id, message_id)
        flight = self._resumable(run, export, message_id)
        if flight is not None:
            url = flight.url
            waited = max((self.now() - parse_time(flight.requested_at)).total_seconds(), 0.0)
            self.observer.export_step(run, f"resuming the export requested at {flight.requested_at} "
                                           f"({dl.mask_url(url)})")
        else:
            url = self._request(run, export, client, app_id, message_id, tick, deadline)
            waited = 0.0
        destination = self._destination(export, tick, message_id)
        origin = self.monotonic() - waited  # when OneSignal started making the file
        published = self._poll_and_fetch(run, export, url, origin, records, deadline, destination)
        record = _file_record(published, tick, message_id, format_time(self.now()),
                              round(self.monotonic() - unit_started, 3))
        self.store.update(lambda s: _file_written(s, run.name, record, export.kind, message_id))
        return record

    # -- requesting ---------------------------------------------------------------
    def _resumable(self, run: ExportRun, export: Export, message_id: str | None) -> InFlight | None:
        """The recorded request for this file, if its URL is still good; stale ones are dropped."""
        now = self.now()
        flights = self.store.view(lambda s: [f for f in _record(s, run.name).in_flight
                                            if f.kind == export.kind and f.message_id == message_id])
        usable = None
        for flight in flights:
            fresh = parse_time(flight.expires_at) - RESUME_MARGIN > now
            # a snapshot requested before the tick it must satisfy is too old (per-message files never are)
            recent = message_id is not None or run.due_tick is None \
                or parse_time(flight.requested_at) >= parse_time(run.due_tick)
            if fresh and recent and usable is None:
                usable = flight
        stale = [f for f in flights if f is not usable]
        if stale:
            self.store.update(lambda s: _drop_flights(s, run.name, stale))
            if any(parse_time(f.expires_at) - RESUME_MARGIN <= now for f in stale):
                self.observer.export_step(run, "the export requested earlier has expired: requesting it again")
        return usable

    def _request(self, run: ExportRun, export: Export, client: ExportsApi, app_id: str, message_id: str | None,
                 tick: datetime, deadline: float) -> str:
        from osctl.errors import AccountBusy, OutcomeUnknown

        busy = lost = 0
        while True:
            requested = self.now()
            try:
                url = self._send_request(export, client, app_id, message_id, requested)
            except AccountBusy:
                busy += 1
                remaining = deadline - self.monotonic()
                if remaining <= 0:
                    raise ExportFailed(
                        f"account '{self.config.apps[export.app].account}' is busy: another export is running "
                        f"for it (OneSignal makes one at a time) and it did not finish within the "
                        f"{_seconds(export.timeout_seconds)} timeout") from None
                wait = clip(self.policy.busy_delay(busy, self.rng), self.monotonic(), deadline)
                self.observer.export_step(run, f"account busy with another export; asking again in {wait:.0f} s")
                self.sleep(wait)
                self._unless_stopped("while the account was busy; nothing was requested")
                continue
            except OutcomeUnknown:
                # the export may have started; asking again is the only way to get a URL
                lost += 1
                if lost >= LOST_ANSWER_ATTEMPTS or self.monotonic() >= deadline:
                    raise
                self.sleep(clip(self.policy.busy_delay(lost, self.rng), self.monotonic(), deadline))
                continue
            flight = InFlight(kind=export.kind, requested_at=format_time(requested), url=url,
                              expires_at=format_time(requested + URL_LIFETIME), message_id=message_id,
                              tick=format_time(tick))
            self.store.update(functools.partial(_add_flight, name=run.name, flight=flight))
            self.observer.export_step(run, f"requested{' message ' + message_id if message_id else ''}; "
                                           f"file will be at {dl.mask_url(url)}")
            return url

    def _send_request(self, export: Export, client: ExportsApi, app_id: str, message_id: str | None,
                      now: datetime) -> str:
        options = export.options
        if isinstance(options, SubscriptionsOptions):
            within = options.last_active_within_seconds
            return client.request_subscriptions_export(
                app_id, extra_fields=options.extra_fields, segment_name=options.segment,
                last_active_since=int(now.timestamp()) - within if within else None,
                include_unsubscribed=options.include_unsubscribed if options.segment else None)
        assert message_id is not None, f"{export.kind} is a per-message kind: _run passes each message"
        if isinstance(options, AudienceActivityOptions):
            return client.request_audience_activity_export(app_id, message_id)
        if isinstance(options, MessageHistoryOptions):
            return client.request_message_history(app_id, message_id, events=options.events, email=options.email)
        raise ExportFailed(f"export kind '{export.kind}' has no file to request")

    def _estimate(self, export: Export, client: ExportsApi, app_id: str, message_id: str | None) -> int | None:
        """Rows OneSignal will write, when the API tells: the message's counts, the segment's size."""
        try:
            if message_id is not None:
                message = client.get_message(app_id, message_id)
                if message is None:
                    return None
                if isinstance(export.options, MessageHistoryOptions) and export.options.events == "clicked":
                    return message.converted
                return message.recipients
            if export.segment:
                address = segment_address(export.app, export.segment)
                segment_id = self.store.view(lambda s: getattr(s.segments.get(address), "id", None))
                if segment_id is None:
                    segment_id = next((s.id for s in client.list_segments(app_id) if s.name == export.segment), None)
                if segment_id is not None:
                    detail = client.get_segment(app_id, segment_id, detail=False)
                    return detail.subscriber_count if detail is not None else None
        except OsctlError:
            return None  # the estimate only times the first look
        return None

    # -- polling and downloading --------------------------------------------------------
    def _poll_and_fetch(self, run: ExportRun, export: Export, url: str, origin: float, records: int | None,
                        deadline: float, destination: str) -> Published:
        waiting = "while OneSignal made the file; the request is kept in state and the next run resumes it"

        def ready(looks: int) -> None:
            self.observer.export_step(run, f"file ready after {looks} look(s); downloading")

        def retry(failure: DownloadFailed) -> None:
            self.observer.export_step(run, f"download failed ({failure}); fetching it again")

        def receive(response: httpx.Response) -> Published:
            return self._fetch(run, export, url, response, destination)

        try:
            return fetch_when_ready(self.http, url, receive, policy=self.policy, records=records, origin=origin,
                                    deadline=deadline, sleep=self.sleep, monotonic=self.monotonic, rng=self.rng,
                                    on_ready=ready, on_retry=retry,
                                    after_sleep=lambda: self._unless_stopped(waiting))
        except DownloadGaveUp as exc:
            raise ExportFailed(f"download failed {exc.attempts} time(s): {exc.failure}") from None
        except NotReadyInTime as exc:
            raise ExportFailed(
                f"the file was not ready within the {_seconds(export.timeout_seconds)} timeout "
                f"({exc.looks} look(s) at {exc.masked_url}, last: {exc.last}); the request is kept in state "
                f"and the next run resumes it while its link is valid") from None

    def _unless_stopped(self, when: str) -> None:
        reason = self.stop_reason()
        if reason:
            raise ExportStopped(f"{reason} {when}")

    def _fetch(self, run: ExportRun, export: Export, url: str, response: httpx.Response,
               destination: str) -> Published:
        """Stream the ready file to its destination, verifying it (fetch_when_ready closes the answer)."""
        total = _content_length(response)

        def progress(done: int, size: int | None, rows: int) -> None:
            self.observer.export_progress(run, done, size, rows)

        def fill(sink: dl.Sink) -> dl.Received:
            return dl.receive(dl.response_chunks(response, url), sink, kind=export.kind,
                              options=export.options, total=total, progress=progress)

        return self.destinations.publish(destination, fill, total)

    def _outcomes(self, run: ExportRun, export: Export, tick: datetime) -> FileRecord:
        started = self.monotonic()
        options = export.options
        assert isinstance(options, OutcomesOptions), f"{export.kind} is not outcomes"
        client = self.clients[export.app]
        app_id = self.config.apps[export.app].app_id
        answer = client.outcomes(app_id, options.names, time_range=options.time_range,
                                 platforms=options.platforms, attribution=options.attribution)
        data = outcomes_csv(answer)
        destination = self._destination(export, tick, None)
        published = self.destinations.publish(destination, lambda sink: dl.receive([data], sink, kind=ExportKind.OUTCOMES),
                                              len(data))
        record = _file_record(published, tick, None, format_time(self.now()),
                              round(self.monotonic() - started, 3))
        self.store.update(lambda s: _file_written(s, run.name, record, export.kind, None))
        return record

    # -- paths --------------------------------------------------------------------
    def _destination(self, export: Export, tick: datetime, message_id: str | None) -> str:
        """The rendered destination: a path relative to the config dir, or an object URL."""
        app = self.config.apps[export.app]
        values = naming.placeholders(app=export.app, app_id=app.app_id, export=export.name, kind=export.kind,
                                     tick=tick, timezone=export.timezone, message_id=message_id)
        return naming.render(export.destination, values)


def _file_record(published: Published, tick: datetime, message_id: str | None, written_at: str,
                 duration: float) -> FileRecord:
    received = published.received
    return FileRecord(path=published.location, bytes=received.bytes, rows=received.rows, sha256=received.sha256,
                      tick=format_time(tick), message_id=message_id, written_at=written_at,
                      duration_seconds=duration, etag=published.etag, version=published.version)


def outcomes_csv(outcomes: list[dict]) -> bytes:
    """OneSignal's outcomes answer as a gzip-compressed CSV: outcome,aggregation,value."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["outcome", "aggregation", "value"])
    for item in outcomes:
        writer.writerow([item.get("id", ""), item.get("aggregation", ""), item.get("value", "")])
    return gzip.compress(text.getvalue().encode(), mtime=0)


# -- state changes (run under the store's lock): each puts a new record into the state ---


def _record(state: State, name: str) -> ExportRecord:
    """The export's record, or an empty one if it has none yet (not put into the state)."""
    record = state.exports.get(name)
    return record if record is not None else ExportRecord(name=name)


def _put(state: State, record: ExportRecord) -> None:
    state.exports[record.name] = record


def _start(state: State, name: str, stamp: str) -> None:
    _put(state, replace(_record(state, name), last_attempt=stamp))


def _add_flight(state: State, name: str, flight: InFlight) -> None:
    record = _record(state, name)
    _put(state, replace(record, in_flight=[*record.in_flight, flight]))


def _drop_flights(state: State, name: str, flights: list[InFlight]) -> None:
    record = _record(state, name)
    _put(state, replace(record, in_flight=[f for f in record.in_flight if f not in flights]))


def _file_written(state: State, name: str, file: FileRecord, kind: str, message_id: str | None) -> None:
    record = _record(state, name)
    done = record.messages_done
    _put(state, replace(
        record, files=[*record.files, file],
        in_flight=[f for f in record.in_flight if not (f.kind == kind and f.message_id == message_id)],
        messages_done=[*done, message_id] if message_id is not None and message_id not in done else done))


def _pruned(state: State, name: str, file: FileRecord, gone: PrunedFile) -> None:
    record = _record(state, name)
    _put(state, replace(record, files=[f for f in record.files if f != file], pruned=[*record.pruned, gone]))


def _succeeded(state: State, name: str, stamp: str, tick: str | None) -> None:
    record = _record(state, name)
    satisfied = record.satisfied_tick
    if tick is not None and (satisfied is None or parse_time(tick) > parse_time(satisfied)):
        satisfied = tick
    # requests whose links expired are of no use to anyone
    _put(state, replace(record, last_success=stamp, last_error=None, satisfied_tick=satisfied,
                        in_flight=[f for f in record.in_flight if parse_time(f.expires_at) > parse_time(stamp)]))


def _failed_with(state: State, name: str, error: str) -> None:
    _put(state, replace(_record(state, name), last_error=error))


def _content_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers.get("Content-Length"))
    except (TypeError, ValueError):
        return None


def _seconds(seconds: int) -> str:
    from osctl.durations import format_duration

    return format_duration(int(seconds))
