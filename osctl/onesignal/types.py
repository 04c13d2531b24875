"""OneSignal answers parsed into frozen dataclasses. Pure. Optional fields may be missing or null
(docs/onesignal-api.md notes fields the sources disagree on); an answer of the wrong shape
raises AnswerShapeError (osctl.onesignal.shapes) rather than being read as empty."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from osctl.onesignal.shapes import AnswerShapeError, check

__all__ = ["AnswerShapeError", "LiveSegment", "Message", "MessagePage", "SegmentDetail", "SegmentPage",
           "created_segment_id", "export_url", "outcome_rows"]


@dataclass(frozen=True)
class LiveSegment:
    """One row of GET /apps/{app_id}/segments (filters are not part of the list)."""

    id: str
    name: str
    app_id: str | None
    created_at: str | None  # ISO time as OneSignal sends it
    updated_at: str | None
    read_only: bool
    is_active: bool
    description: str | None = None  # only some API versions list it

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiveSegment:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            app_id=data.get("app_id"),
            created_at=_opt_str(data.get("created_at")),
            updated_at=_opt_str(data.get("updated_at")),
            read_only=bool(data.get("read_only", False)),
            is_active=bool(data.get("is_active", True)),
            description=data.get("description"),
        )


@dataclass(frozen=True)
class SegmentDetail:
    """GET /apps/{app_id}/segments/{id}: `{"subscriber_count": N, "payload": {...}}`.

    name, description and filters come only with include-segment-detail=true; without it,
    or when OneSignal refuses to show a segment whose filters the API does not support,
    they are None/empty. `unsupported` means osctl must never touch the segment."""

    id: str
    name: str | None
    description: str | None
    filters: list[dict] = field(default_factory=list)
    subscriber_count: int | None = None
    source: str | None = None  # default | custom | quickstart
    unsupported: bool = False
    created_at: int | None = None  # unix seconds (the view sends an int, unlike the list)

    @classmethod
    def from_json(cls, segment_id: str, data: dict[str, Any], *, detail: bool = False) -> SegmentDetail:
        """`detail`: include-segment-detail was asked for, so the payload and its filters must be there."""
        check("segment view with detail" if detail else "segment view", data)
        payload = data.get("payload") or {}
        filters = list(payload.get("filters") or [])
        return cls(
            id=str(payload.get("id") or segment_id),
            name=payload.get("name"),
            description=payload.get("description"),
            filters=filters,
            subscriber_count=_opt_int(data.get("subscriber_count")),
            source=payload.get("source"),
            unsupported=any(f.get("unsupported_in_api") for f in filters),
            created_at=_opt_int(payload.get("created_at")),
        )

    @classmethod
    def not_supported_by_api(cls, segment_id: str) -> SegmentDetail:
        """A segment the view refuses to describe (message-event or custom-event filters)."""
        return cls(id=segment_id, name=None, description=None, unsupported=True)


@dataclass(frozen=True)
class Message:
    """A message as GET /notifications and /notifications/{id} describe it (docs/onesignal-api.md#messages)."""

    id: str
    app_id: str | None
    name: str | None
    queued_at: int
    send_after: int | None
    completed_at: int | None  # None until delivery finished
    successful: int
    failed: int
    errored: int
    converted: int
    received: int
    remaining: int | None  # None while OneSignal still computes the audience
    canceled: bool
    platform_delivery_stats: dict = field(default_factory=dict)
    included_segments: list[str] = field(default_factory=list)
    excluded_segments: list[str] = field(default_factory=list)
    template_id: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def recipients(self) -> int:
        """Known audience size so far: what an export of this message has rows for, roughly."""
        return self.successful + self.failed + self.errored + (self.remaining or 0)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        check("message", data)
        return cls(
            id=str(data["id"]),
            app_id=data.get("app_id"),
            name=data.get("name"),
            queued_at=_opt_int(data.get("queued_at")) or 0,
            send_after=_opt_int(data.get("send_after")),
            completed_at=_opt_int(data.get("completed_at")),
            successful=_opt_int(data.get("successful")) or 0,
            failed=_opt_int(data.get("failed")) or 0,
            errored=_opt_int(data.get("errored")) or 0,
            converted=_opt_int(data.get("converted")) or 0,
            received=_opt_int(data.get("received")) or 0,
            remaining=_opt_int(data.get("remaining")),
            canceled=bool(data.get("canceled", False)),
            platform_delivery_stats=dict(data.get("platform_delivery_stats") or {}),
            included_segments=list(data.get("included_segments") or []),
            excluded_segments=list(data.get("excluded_segments") or []),
            template_id=data.get("template_id"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class MessagePage:
    total_count: int
    offset: int
    limit: int
    messages: list[Message]

    @classmethod
    def from_json(cls, data: dict[str, Any], *, offset: int, limit: int) -> MessagePage:
        check("message list", data)
        messages = [Message.from_json(m) for m in data["notifications"]]
        answered_offset = _opt_int(data.get("offset"))
        return cls(
            total_count=_opt_int(data.get("total_count")) or 0,
            offset=offset if answered_offset is None else answered_offset,
            limit=_opt_int(data.get("limit")) or limit,
            messages=messages,
        )


@dataclass(frozen=True)
class SegmentPage:
    """One page of the segment list; total_count means the app's total or this page's size,
    depending on the source (docs/onesignal-api.md#listing-segments), so callers must not trust it alone."""

    total_count: int | None
    offset: int
    limit: int
    segments: list[LiveSegment]

    @classmethod
    def from_json(cls, data: dict[str, Any], *, offset: int, limit: int) -> SegmentPage:
        check("segment list", data)
        return cls(
            total_count=_opt_int(data.get("total_count")),
            offset=offset,
            limit=limit,
            segments=[LiveSegment.from_json(s) for s in data["segments"]],
        )


def created_segment_id(data: Any) -> str:
    """The id in create's `{"success": true, "id": "..."}`."""
    check("segment created", data)
    return data["id"]


def export_url(data: Any, keys: tuple[str, ...]) -> str:
    """The first of `keys` the export answer holds (history may answer with either name)."""
    check("export requested", data)
    for key in keys:
        if data.get(key):
            return data[key]
    raise AnswerShapeError(f"the answer has no {' or '.join(repr(k) for k in keys)}")


def outcome_rows(data: Any) -> list[dict]:
    """[{"id", "value", "aggregation"}, ...] from `{"outcomes": [...]}`."""
    check("outcomes", data)
    return [dict(row) for row in data["outcomes"]]


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
