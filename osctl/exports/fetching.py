"""Waiting for an export file and fetching it (effects: HTTP requests, sleeping).

Export runs (runner.py) and the lookup of who holds test users' addresses
(osctl.users.owners_lookup) both ask OneSignal for a file, then `fetch_when_ready`:

    1. sleeps until the first look (PollPolicy.first_delay: the estimated generation time)
    2. looks at the URL (download.look); "not ready" (403/404, 429, 5xx, no answer) is
       looked at again after PollPolicy.delay (a Retry-After is a floor)
    3. hands a ready answer to `receive`, which streams and verifies the body; a download
       that failed in a way fetching again may fix (truncated, corrupt) is fetched again,
       DOWNLOAD_ATTEMPTS times at most
    4. never waits past the deadline: the last look happens at it

Giving up raises NotReadyInTime (how many looks, the masked URL, the last answer) or
DownloadGaveUp (how many downloads, the last failure), which each caller words as its
own error. A DownloadFailed from the look itself (410: the link expired; another status)
passes through as it is. The answer is closed whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from osctl.errors import DownloadFailed, DownloadGaveUp, NotReadyInTime
from osctl.exports import download as dl
from osctl.exports.links import mask_url
from osctl.exports.polling import PollPolicy, clip

if TYPE_CHECKING:
    import httpx

DOWNLOAD_ATTEMPTS = 3  # a truncated or corrupt file is fetched this many times at most

T = TypeVar("T")


def _nothing(*_: object) -> None:
    pass


def fetch_when_ready(http: httpx.Client, url: str, receive: Callable[[httpx.Response], T], *,
                     policy: PollPolicy, records: int | None, origin: float, deadline: float,
                     sleep: Callable[[float], None], monotonic: Callable[[], float], rng: Callable[[], float],
                     on_ready: Callable[[int], None] = _nothing,
                     on_retry: Callable[[DownloadFailed], None] = _nothing,
                     after_sleep: Callable[[], None] = _nothing) -> T:
    """What `receive` made of the file at `url`, once it is ready.

    `origin` is when OneSignal started making the file and `deadline` when to give up
    (both on the `monotonic` clock); `records` the rows expected, if known (it times the
    first look). `on_ready(looks)` is called before each download, `on_retry(failure)`
    before a failed download is fetched again, `after_sleep()` after every wait (it may
    raise to end the wait early, e.g. on a stop)."""
    sleep(clip(origin + policy.first_delay(records) - monotonic(), monotonic(), deadline))
    after_sleep()
    looks = broken = 0
    last = "no answer yet"
    while True:
        looks += 1
        answer = dl.look(http, url)
        retry_after = None
        if isinstance(answer, dl.NotReady):
            retry_after = answer.retry_after
            last = f"answered {answer.status}" if answer.status else f"no answer ({answer.detail})"
        else:
            try:
                on_ready(looks)
                return receive(answer)
            except DownloadFailed as exc:
                failure = exc
            finally:
                answer.close()
            broken += 1
            if not failure.retryable or broken >= DOWNLOAD_ATTEMPTS:
                raise DownloadGaveUp(broken, failure)
            last = str(failure)
            on_retry(failure)
        now = monotonic()
        if now >= deadline:
            raise NotReadyInTime(looks, mask_url(url), last, waited=now - origin)
        sleep(clip(policy.delay(looks, now - origin, rng, retry_after), now, deadline))
        after_sleep()
