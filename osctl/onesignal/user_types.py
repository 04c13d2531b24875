"""OneSignal's answers about users, checked for shape and parsed. Pure.

Like every answer osctl reads, a user answer of the wrong shape must never be read as
"no tags" or "no subscriptions": a plan would then rewrite the user. Each answer has a
small JSON Schema holding osctl to what it relies on (identity, tags, language, timezone,
subscription ids, types and tokens) and letting everything else vary; those schemas
live with every other answer's in osctl.onesignal.shapes, whose problems name a place
and a type, never a value: answers hold email addresses and phone numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from osctl.onesignal.shapes import check
from osctl.users.model import RESERVED_ALIAS_LABELS, LiveSubscription


@dataclass(frozen=True)
class LiveUser:
    """A user as GET /apps/{app_id}/users/by/external_id/{id} shows it."""

    onesignal_id: str | None
    external_id: str | None
    aliases: dict[str, str] = field(default_factory=dict)  # custom labels only
    tags: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    timezone_id: str | None = None
    country: str | None = None
    subscriptions: tuple[LiveSubscription, ...] = ()
    data: dict = field(default_factory=dict, compare=False, repr=False)  # the checked JSON, for users.model.diff

    @classmethod
    def from_json(cls, data: Any) -> LiveUser:
        check("user", data)
        identity = data["identity"]
        properties = data.get("properties") or {}
        return cls(
            onesignal_id=identity.get("onesignal_id"),
            external_id=identity.get("external_id"),
            aliases={k: v for k, v in identity.items() if k not in RESERVED_ALIAS_LABELS},
            tags={k: _text(v) for k, v in (properties.get("tags") or {}).items()},
            language=properties.get("language"),
            timezone_id=properties.get("timezone_id"),
            country=properties.get("country"),
            subscriptions=tuple(LiveSubscription(s["id"], s["type"], s.get("token") or "")
                                for s in data.get("subscriptions") or ()),
            data=data,
        )


@dataclass(frozen=True)
class CreatedUser:
    """The answer to a create: the user's identity (onesignal_id included) and whether it is applied yet."""

    identity: dict[str, str]
    accepted_only: bool  # 202: OneSignal applies it later; a view may not show it yet
    subscriptions: tuple[LiveSubscription, ...] = ()  # those the answer names with their ids

    @property
    def onesignal_id(self) -> str | None:
        return self.identity.get("onesignal_id")


def created_user(data: Any, *, status: int) -> CreatedUser:
    check("user created", data)
    named = tuple(LiveSubscription(s["id"], s["type"], s.get("token") or "")
                  for s in data.get("subscriptions") or () if s.get("id"))
    return CreatedUser(dict(data["identity"]), accepted_only=status == 202, subscriptions=named)


def identity(data: Any) -> dict[str, str]:
    check("identity", data)
    return dict(data["identity"])


def added_subscription(data: Any) -> LiveSubscription | None:
    """The new subscription; None when the 202 answer does not carry its id yet."""
    check("subscription added", data)
    sub = data["subscription"]
    if not sub.get("id"):
        return None
    return LiveSubscription(sub["id"], sub["type"], sub.get("token") or "")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
