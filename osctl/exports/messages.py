"""Which messages a per-message export covers now (`messages` selectors, docs/design.md#exports).

    candidates(...) effects: reads the messages through the client -> (found, ids not found)
    select(...)     pure: candidates + bookmarks + now -> Selection (ids, oldest first, and warnings)

A listed id the app does not have is an error (unknown_ids_problem), never skipped.

The message list and view endpoints allow about one request per second per app; the
client paces them and honours 429 Retry-After, so resolving costs one request per page of
50 messages (`sent_within`) or per id (`ids`).

Bookmarks: every message an export has written a file for is in its `messages_done`, and
is never selected again for that export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from osctl.config.model import Export, ExportKind
from osctl.onesignal.api import ExportsApi
from osctl.onesignal.types import Message
from osctl.schedule import format_time

KIND_CODES = {"dashboard": 0, "api": 1, "automated": 3}  # docs/onesignal-api.md#messages
HISTORY_WINDOW_SECONDS = 7 * 86400  # history is served 7 days after a send (docs/onesignal-api.md#message-history)


@dataclass(frozen=True)
class Candidate:
    """What selection needs to know about a message (built from the client's Message)."""

    id: str
    queued_at: int  # unix seconds
    send_after: int | None = None
    completed_at: int | None = None  # None while delivery is still going on
    canceled: bool = False
    recipients: int | None = None

    @property
    def sent_at(self) -> int:
        return max(self.queued_at, self.send_after or 0)

    @classmethod
    def of(cls, message: Message) -> Candidate:
        return cls(id=message.id, queued_at=message.queued_at, send_after=message.send_after,
                   completed_at=message.completed_at, canceled=message.canceled,
                   recipients=message.recipients)


@dataclass(frozen=True)
class Selection:
    messages: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def select(export: Export, candidates: Iterable[Candidate], done: Iterable[str], now: datetime) -> Selection:
    """The messages `export` covers at `now`: not done yet, matching its selector, and (for
    message_history) sent within OneSignal's 7-day window."""
    selector = export.messages
    done_set = set(done)
    at = now.timestamp()
    warnings: list[str] = []
    chosen: list[Candidate] = []
    too_old: list[Candidate] = []
    for candidate in candidates:
        if candidate.id in done_set:
            continue
        if selector is not None and selector.sent_within_seconds is not None:
            if candidate.queued_at < at - selector.sent_within_seconds:
                continue
            if candidate.canceled or candidate.completed_at is None:
                continue  # still sending (or never sent): picked up once delivery completed
            if candidate.completed_at > at - selector.settle_seconds:
                continue  # not settled yet
        if export.kind == ExportKind.MESSAGE_HISTORY and candidate.sent_at < at - HISTORY_WINDOW_SECONDS:
            too_old.append(candidate)
            continue
        chosen.append(candidate)
    if too_old:
        ids = ", ".join(f"{c.id} (sent {format_time(datetime.fromtimestamp(c.sent_at, UTC))})"
                        for c in sorted(too_old, key=lambda c: (c.sent_at, c.id)))
        warnings.append(f"OneSignal serves message history only for 7 days after a send; skipped: {ids}")
    chosen.sort(key=lambda c: (c.sent_at, c.id))
    unique = tuple(dict.fromkeys(c.id for c in chosen))
    return Selection(messages=unique, warnings=tuple(warnings))


def candidates(client: ExportsApi, app_id: str, export: Export, done: Iterable[str],
               now: datetime) -> tuple[list[Candidate], list[str]]:
    """(candidates, ids not found) read through the message list/view endpoints."""
    selector = export.messages
    if selector is None:
        return [], []
    done_set = set(done)
    if selector.ids:
        found, missing = [], []
        for message_id in dict.fromkeys(selector.ids):
            if message_id in done_set:
                continue
            message = client.get_message(app_id, message_id)
            if message is None:
                missing.append(message_id)
            else:
                found.append(Candidate.of(message))
        return found, missing
    newer_than = int(now.timestamp()) - int(selector.sent_within_seconds or 0)
    kind = KIND_CODES.get(selector.kind) if selector.kind else None
    return [Candidate.of(m) for m in client.iter_messages(app_id, kind=kind, newer_than=newer_than)], []


def unknown_ids_problem(export: Export, app_id: str, missing: Iterable[str]) -> str:
    """Why listed ids the app does not have stop the plan: skipping them would report
    "nothing to export" for what is usually a typo or a message of another app."""
    missing = sorted(missing)
    where = f" ({export.location.file}:{export.location.line})" if export.location else ""
    s, verb, them = ("s", "do", "them") if len(missing) > 1 else ("", "does", "it")
    return (f"{export.address}{where}: message{s} {', '.join(missing)} {verb} not exist in app "
            f"'{export.app}' ({app_id}); remove {them} from messages.ids (OneSignal may have deleted {them}, "
            f"or no longer keeps {them})")
