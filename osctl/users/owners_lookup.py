"""Who holds an app's Email addresses and SMS numbers (effects: one export request, its download).

OneSignal moves an Email or SMS subscription another user holds to the user a create or an
add names, without an error, and has no lookup by address
(docs/onesignal-api.md#users-and-subscriptions). The one place that lists every address
with its user is the subscriptions CSV export of the whole app, asked for the extra field
`external_user_id` (docs/onesignal-api.md#subscriptions-csv-export). So one export per app:

    1. request it; a busy account (another export running) is waited for and asked again,
       as export runs do (osctl.exports.polling.PollPolicy.busy_delay);
    2. wait for its file and download it as export runs do (osctl.exports.fetching: the
       PollPolicy, 403/404 mean "being made", a damaged download is fetched again), into an
       anonymous temp file (gone when closed, whatever happens), verified as export files
       are (complete gzip, CSV header with external_user_id);
    3. read its rows into TokenOwners (osctl.users.ownership).

OneSignal makes the file at about 2,000 rows per second: seconds for a QA app, minutes
for an app with millions of subscriptions. The file URL is a bearer link: it is shown
only masked. The file holds real people's addresses: it never touches the disk by name
and nothing of it is kept but the owners of Email and SMS tokens.

`OwnersByApp` keeps what was looked up for the length of a command: the plan looks up
the apps whose plan adds addresses (--refresh full), and apply hands the same object to
the users executor as `token_owners` (app alias -> TokenOwners), which looks up an app
the plan did not (a saved plan, --refresh list/none).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import IO, TYPE_CHECKING

from osctl.config.model import ExportKind, SubscriptionsOptions
from osctl.errors import (
    AccountBusy,
    DownloadGaveUp,
    NotReadyInTime,
    OutcomeUnknown,
    OwnersLookupFailed,
)
from osctl.exports import download as dl
from osctl.exports.fetching import fetch_when_ready
from osctl.exports.polling import PollPolicy, clip
from osctl.progress import NO_PROGRESS, Progress
from osctl.users.ownership import TokenOwners

if TYPE_CHECKING:
    import httpx

    from osctl.config.model import Config
    from osctl.onesignal.api import ExportClients, ExportsApi

EXTRA_FIELDS = ("external_user_id",)
# the app's size is unknown: look early (a QA app's file is ready in a second), then back off
POLICY = PollPolicy(unknown_first_seconds=1.0)
TIMEOUT_SECONDS = 2 * 60 * 60.0  # 10 million subscriptions take about 85 minutes to make
LOST_ANSWER_ATTEMPTS = 3  # requests whose answer was lost, as export runs allow


def look_up_token_owners(client: ExportsApi, app_id: str, *, alias: str | None = None,
                         http: httpx.Client | None = None, policy: PollPolicy = POLICY,
                         timeout: float = TIMEOUT_SECONDS, sleep: Callable[[float], None] = time.sleep,
                         monotonic: Callable[[], float] = time.monotonic,
                         rng: Callable[[], float] = random.random) -> TokenOwners:
    """The owners of every Email and SMS token of the app, from one subscriptions export."""
    what = f"app '{alias}'" if alias else f"app {app_id}"
    deadline = monotonic() + timeout
    url = _request(client, app_id, what, policy, deadline, sleep, monotonic, rng)
    origin = monotonic()
    own_http = http is None
    http = http or dl.download_client()
    try:
        with tempfile.TemporaryFile() as sink:
            _download(http, url, sink, what, policy, origin, deadline, sleep, monotonic, rng)
            sink.seek(0)
            return TokenOwners.from_rows(_rows(sink))
    finally:
        if own_http:
            http.close()


def _request(client: ExportsApi, app_id: str, what: str, policy: PollPolicy, deadline: float,
             sleep: Callable[[float], None], monotonic: Callable[[], float], rng: Callable[[], float]) -> str:
    started = monotonic()
    busy = lost = 0
    while True:
        try:
            return client.request_subscriptions_export(app_id, extra_fields=EXTRA_FIELDS)
        except AccountBusy:
            busy += 1
            if monotonic() >= deadline:
                raise OwnersLookupFailed(
                    f"cannot check who holds the addresses to add in {what}: its account ran another export "
                    f"all the time osctl waited ({_minutes(monotonic() - started)}); try again later") from None
            sleep(clip(policy.busy_delay(busy, rng), monotonic(), deadline))
        except OutcomeUnknown:  # the export may have started (the account is busy then): ask again
            lost += 1
            if lost >= LOST_ANSWER_ATTEMPTS or monotonic() >= deadline:
                raise
            sleep(clip(policy.busy_delay(lost, rng), monotonic(), deadline))


def _download(http: httpx.Client, url: str, sink: IO[bytes], what: str, policy: PollPolicy, origin: float,
              deadline: float, sleep: Callable[[float], None], monotonic: Callable[[], float],
              rng: Callable[[], float]) -> None:
    def receive(response: httpx.Response) -> None:
        sink.seek(0)  # a download fetched again starts on an empty file
        sink.truncate()
        dl.receive(dl.response_chunks(response, url), sink, kind=ExportKind.SUBSCRIPTIONS,
                   options=SubscriptionsOptions(extra_fields=tuple(EXTRA_FIELDS)))

    try:
        fetch_when_ready(http, url, receive, policy=policy, records=None, origin=origin, deadline=deadline,
                         sleep=sleep, monotonic=monotonic, rng=rng)
    except DownloadGaveUp as exc:
        raise OwnersLookupFailed(f"cannot check who holds the addresses to add in {what}: the "
                                 f"subscriptions export could not be downloaded: {exc.failure}") from None
    except NotReadyInTime as exc:
        raise OwnersLookupFailed(
            f"cannot check who holds the addresses to add in {what}: the subscriptions export was not "
            f"ready within {_minutes(exc.waited)} ({exc.looks} look(s) at {exc.masked_url}, last: {exc.last})"
        ) from None


def _rows(sink: IO[bytes]) -> Iterator[dict[str, str]]:
    with gzip.GzipFile(fileobj=sink, mode="rb") as gz:
        text = io.TextIOWrapper(gz, encoding="utf-8", errors="replace", newline="")
        reader = csv.DictReader(text)
        reader.fieldnames = [f.strip().lstrip("\ufeff") for f in reader.fieldnames or ()]
        yield from reader


def _minutes(seconds: float) -> str:
    from osctl.durations import format_duration

    return format_duration(max(int(seconds), 1))


def _no_progress() -> AbstractContextManager[Progress]:
    return contextlib.nullcontext(NO_PROGRESS)


def checking(count: int | None, alias: str) -> str:
    """The progress line of a lookup (count: how many addresses are to be added, if known)."""
    addresses = "the addresses to add" if count is None else "1 address" if count == 1 else f"{count} addresses"
    return f"Checking who holds {addresses} in {alias} (one subscriptions export)"


class OwnersByApp:
    """app alias -> TokenOwners, each app looked up at most once per command; safe to share
    between threads. Called as `token_owners(alias)` it is what the users executor takes:
    the owners the plan looked up, or a lookup now (a saved plan, --refresh list/none)."""

    def __init__(self, config: Config, clients: ExportClients, *,
                 progress: Callable[[], AbstractContextManager[Progress]] = _no_progress):
        self._config = config
        self._clients = clients
        self._progress = progress
        self._found: dict[str, TokenOwners] = {}
        self._locks: dict[str, threading.Lock] = {alias: threading.Lock() for alias in config.apps}

    def known(self, alias: str) -> TokenOwners | None:
        """What was looked up for the app already, if anything."""
        return self._found.get(alias)

    def look_up(self, alias: str, count: int | None, progress: Progress) -> TokenOwners:
        """The app's owners, looked up now unless they were already; `count` addresses are to be added."""
        with self._locks[alias]:
            found = self._found.get(alias)
            if found is None:
                progress.start(checking(count, alias))
                found = look_up_token_owners(self._clients[alias], self._config.apps[alias].app_id, alias=alias)
                self._found[alias] = found
            return found

    def __call__(self, alias: str) -> TokenOwners | None:
        """For the users executor: the app's owners (looked up if the plan did not); None for an
        app this command has no client for."""
        if alias not in self._locks or alias not in self._clients:
            return None
        found = self._found.get(alias)
        if found is not None:
            return found
        with self._progress() as reporter:
            return self.look_up(alias, None, reporter)
