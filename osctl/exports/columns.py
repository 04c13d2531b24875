"""The CSV header each export kind is documented to have (docs/onesignal-api.md#exports), checked after
download. Pure.

Columns the sources disagree on (badge_count, and timezone/ad_id which the current docs
mark deprecated) are not required; extra columns are always allowed, since OneSignal
adds columns over time and per channel.
"""

from __future__ import annotations

from osctl.config.model import (
    ExportKind,
    ExportOptions,
    MessageHistoryOptions,
    SubscriptionsOptions,
)

SUBSCRIPTION_COLUMNS = (
    "id", "identifier", "session_count", "language", "game_version", "device_os", "device_type",
    "device_model", "tags", "last_active", "playtime", "amount_spent", "created_at", "invalid_identifier",
)
AUDIENCE_ACTIVITY_COLUMNS = (
    "external_user_id", "subscription_id", "device_type", "sent", "delivered", "clicked", "onesignal_id",
    "failed", "unsubscribed", "failure_message",
)
MESSAGE_HISTORY_COLUMNS = ("player_id", "onesignal_id", "external_id", "target_channel")
OUTCOME_COLUMNS = ("outcome", "aggregation", "value")


def required_columns(kind: str, options: ExportOptions | None = None) -> tuple[str, ...]:
    if kind == ExportKind.SUBSCRIPTIONS:
        extra = [f for f in _extra_fields(options) if f != "location"]
        return SUBSCRIPTION_COLUMNS + tuple(extra)
    if kind == ExportKind.AUDIENCE_ACTIVITY:
        return AUDIENCE_ACTIVITY_COLUMNS
    if kind == ExportKind.MESSAGE_HISTORY:
        clicked = isinstance(options, MessageHistoryOptions) and options.events == "clicked"
        return MESSAGE_HISTORY_COLUMNS + (("timestamp",) if clicked else ())
    if kind == ExportKind.OUTCOMES:
        return OUTCOME_COLUMNS
    raise ValueError(f"unknown export kind '{kind}'")


def header_problem(kind: str, options: ExportOptions | None, header: list[str] | None) -> str | None:
    """Why `header` is not what `kind` documents, or None when it fits."""
    if header is None:
        return "the file holds no CSV header (empty file)"
    names = [h.strip().lstrip("\ufeff") for h in header]
    present = set(names)
    missing = [c for c in required_columns(kind, options) if c not in present]
    if kind == ExportKind.SUBSCRIPTIONS and "location" in _extra_fields(options) \
            and not ({"lat", "long"} <= present or "location" in present):
        missing.append("lat/long (extra field location)")
    if not missing:
        return None
    shown = ",".join(names[:20]) + (",…" if len(names) > 20 else "")
    return f"the CSV header lacks {', '.join(missing)} documented for {kind} exports (header: {shown})"


def _extra_fields(options: ExportOptions | None) -> tuple[str, ...]:
    return options.extra_fields if isinstance(options, SubscriptionsOptions) else ()
