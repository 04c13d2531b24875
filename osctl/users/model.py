"""A declared test user and how it differs from the live one. Pure.

What osctl manages of a test user: its aliases, tags, language and timezone, its Email
and SMS subscriptions (the declared set is the whole set: others are removed), and the
push devices it should own (attached when missing; other push subscriptions the app's
SDK gave the user are left alone, since they come from real devices logging in).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from osctl.addresses import user_address
from osctl.users.guards import GUARDED_TYPES
from osctl.users.ownership import token_key

RESERVED_ALIAS_LABELS = ("external_id", "onesignal_id")
# Tag keys OneSignal keeps for its own template variables (docs/onesignal-api.md#users-and-subscriptions)
RESERVED_TAG_KEYS = ("message", "notification", "subscription", "user", "template", "app", "org",
                     "dynamic_content", "data_feed", "journey", "custom_data")
MAX_ALIASES = 20  # custom labels per user
MAX_SUBSCRIPTIONS = 20  # per user, push devices included


@dataclass(frozen=True)
class DeclaredUser:
    app: str
    external_id: str
    aliases: Mapping[str, str] = field(default_factory=dict)  # custom labels only
    tags: Mapping[str, str] = field(default_factory=dict)
    language: str | None = None
    timezone_id: str | None = None
    subscriptions: tuple[tuple[str, str], ...] = ()  # (type, token): Email and SMS
    devices: tuple[str, ...] = ()  # ids of existing push subscriptions to attach

    @property
    def address(self) -> str:
        return user_address(self.app, self.external_id)

    def to_dict(self) -> dict:
        """Plain JSON, as saved plans carry it."""
        return {"app": self.app, "external_id": self.external_id, "aliases": dict(self.aliases),
                "tags": dict(self.tags), "language": self.language, "timezone_id": self.timezone_id,
                "subscriptions": [{"type": kind, "token": token} for kind, token in self.subscriptions],
                "devices": list(self.devices)}

    @classmethod
    def from_dict(cls, data: Mapping) -> DeclaredUser:
        return cls(app=data["app"], external_id=data["external_id"], aliases=dict(data.get("aliases") or {}),
                   tags=dict(data.get("tags") or {}), language=data.get("language"),
                   timezone_id=data.get("timezone_id"),
                   subscriptions=tuple((s["type"], s["token"]) for s in data.get("subscriptions") or ()),
                   devices=tuple(data.get("devices") or ()))

    def create_body(self) -> dict:
        """The body of POST /apps/{app_id}/users for this user.

        The identity is the external_id alone: OneSignal looks a create's aliases up, so an
        alias another user holds would turn the create into an update of that user (a real
        person, outside the prefix). The custom aliases follow the create through the
        identity endpoint, which answers 409 when another user holds one."""
        properties: dict = {"tags": dict(self.tags)}
        if self.language:
            properties["language"] = self.language
        if self.timezone_id:
            properties["timezone_id"] = self.timezone_id
        return {"identity": {"external_id": self.external_id}, "properties": properties,
                "subscriptions": [{"type": kind, "token": token} for kind, token in self.subscriptions]}


@dataclass(frozen=True)
class LiveSubscription:
    id: str
    type: str
    token: str


@dataclass(frozen=True)
class UserDiff:
    tags_set: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)  # key -> (old, new)
    tags_removed: Mapping[str, str] = field(default_factory=dict)  # key -> old value
    language: tuple[str | None, str] | None = None
    timezone_id: tuple[str | None, str] | None = None
    aliases_set: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)
    aliases_removed: Mapping[str, str] = field(default_factory=dict)
    subscriptions_added: tuple[tuple[str, str], ...] = ()
    subscriptions_removed: tuple[LiveSubscription, ...] = ()
    devices_attached: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.tags_set or self.tags_removed or self.language or self.timezone_id or self.aliases_set
                    or self.aliases_removed or self.subscriptions_added or self.subscriptions_removed
                    or self.devices_attached)

    def to_dict(self) -> dict:
        """Plain JSON, as saved plans carry it; from_dict reads it back."""
        return {
            "tags_set": {k: list(v) for k, v in self.tags_set.items()},
            "tags_removed": dict(self.tags_removed),
            "language": list(self.language) if self.language else None,
            "timezone_id": list(self.timezone_id) if self.timezone_id else None,
            "aliases_set": {k: list(v) for k, v in self.aliases_set.items()},
            "aliases_removed": dict(self.aliases_removed),
            "subscriptions_added": [{"type": kind, "token": token} for kind, token in self.subscriptions_added],
            "subscriptions_removed": [{"id": s.id, "type": s.type, "token": s.token}
                                      for s in self.subscriptions_removed],
            "devices_attached": list(self.devices_attached),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> UserDiff:
        def pair(value: object) -> tuple[str | None, str] | None:
            return (value[0], value[1]) if isinstance(value, list) else None

        return cls(
            tags_set={k: (v[0], v[1]) for k, v in (data.get("tags_set") or {}).items()},
            tags_removed=dict(data.get("tags_removed") or {}),
            language=pair(data.get("language")),
            timezone_id=pair(data.get("timezone_id")),
            aliases_set={k: (v[0], v[1]) for k, v in (data.get("aliases_set") or {}).items()},
            aliases_removed=dict(data.get("aliases_removed") or {}),
            subscriptions_added=tuple((s["type"], s["token"]) for s in data.get("subscriptions_added") or ()),
            subscriptions_removed=tuple(LiveSubscription(s["id"], s["type"], s["token"])
                                        for s in data.get("subscriptions_removed") or ()),
            devices_attached=tuple(data.get("devices_attached") or ()),
        )

    def properties_patch(self) -> dict | None:
        """The body of PATCH .../users/by/external_id/{id} (a removed tag is sent as ""), or None."""
        properties: dict = {}
        tags = {k: new for k, (_, new) in self.tags_set.items()} | {k: "" for k in self.tags_removed}
        if tags:
            properties["tags"] = tags
        if self.language:
            properties["language"] = self.language[1]
        if self.timezone_id:
            properties["timezone_id"] = self.timezone_id[1]
        return {"properties": properties} if properties else None

    def within(self, sent: UserDiff) -> UserDiff:
        """The part of this difference that touches what `sent` changed (the same tag, alias,
        language, time zone, address, subscription or device); the rest is what `sent` left alone."""
        tags = set(sent.tags_set) | set(sent.tags_removed)
        aliases = set(sent.aliases_set) | set(sent.aliases_removed)
        added = {token_key(kind, token) for kind, token in sent.subscriptions_added}
        removed = {token_key(s.type, s.token) for s in sent.subscriptions_removed}
        return UserDiff(
            tags_set={k: v for k, v in self.tags_set.items() if k in tags},
            tags_removed={k: v for k, v in self.tags_removed.items() if k in tags},
            language=self.language if sent.language else None,
            timezone_id=self.timezone_id if sent.timezone_id else None,
            aliases_set={k: v for k, v in self.aliases_set.items() if k in aliases},
            aliases_removed={k: v for k, v in self.aliases_removed.items() if k in aliases},
            subscriptions_added=tuple(s for s in self.subscriptions_added if token_key(*s) in added),
            subscriptions_removed=tuple(s for s in self.subscriptions_removed if token_key(s.type, s.token) in removed),
            devices_attached=tuple(d for d in self.devices_attached if d in sent.devices_attached),
        )

    def lines(self) -> list[str]:
        """What changes, one line each, as plans show it: `tags.cohort: "spring" → "summer"`."""
        out = [f"tags.{k}: {show_value(old)} → {show_value(new)}" for k, (old, new) in sorted(self.tags_set.items())]
        out += [f"tags.{k}: {show_value(old)} → (removed)" for k, old in sorted(self.tags_removed.items())]
        for name, change in (("language", self.language), ("timezone_id", self.timezone_id)):
            if change:
                out.append(f"{name}: {show_value(change[0])} → {show_value(change[1])}")
        out += [f"aliases.{k}: {show_value(old)} → {show_value(new)}" for k, (old, new) in sorted(self.aliases_set.items())]
        out += [f"aliases.{k}: {show_value(old)} → (removed)" for k, old in sorted(self.aliases_removed.items())]
        out += [f"+ subscription {kind} {token}" for kind, token in self.subscriptions_added]
        # an id osctl has not learnt yet (state only, --refresh list/none) is not shown as "(id )"
        out += [f"- subscription {s.type} {s.token}" + (f" (id {s.id})" if s.id else "")
                for s in self.subscriptions_removed]
        out += [f"+ device {device}" for device in self.devices_attached]
        return out


def show_value(value: str | None) -> str:
    """A value as plans show it: JSON-quoted, or (none)."""
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def diff(declared: DeclaredUser, live: Mapping) -> UserDiff:
    """What must change for the live user (the JSON of GET .../users/by/external_id/{id}) to be `declared`."""
    properties = live.get("properties") or {}
    live_tags = {str(k): str(v) for k, v in (properties.get("tags") or {}).items()}
    identity = {k: str(v) for k, v in (live.get("identity") or {}).items() if k not in RESERVED_ALIAS_LABELS}
    subscriptions = [LiveSubscription(str(s.get("id")), str(s.get("type")), str(s.get("token")))
                     for s in live.get("subscriptions") or () if isinstance(s, dict)]
    guarded = [s for s in subscriptions if s.type in GUARDED_TYPES]
    # email addresses without regard to case, as everywhere (osctl.users.ownership.token_key): a change of
    # case alone is no change, not an add of the "new" address followed by a delete of the user's own
    have = {token_key(s.type, s.token) for s in guarded}
    wanted = {token_key(kind, token) for kind, token in declared.subscriptions}
    owned_ids = {s.id for s in subscriptions}
    return UserDiff(
        tags_set={k: (live_tags.get(k), v) for k, v in declared.tags.items() if live_tags.get(k) != v},
        tags_removed={k: v for k, v in live_tags.items() if k not in declared.tags},
        language=_changed(properties.get("language"), declared.language),
        timezone_id=_changed(properties.get("timezone_id"), declared.timezone_id),
        aliases_set={k: (identity.get(k), v) for k, v in declared.aliases.items() if identity.get(k) != v},
        aliases_removed={k: v for k, v in identity.items() if k not in declared.aliases},
        subscriptions_added=tuple(s for s in declared.subscriptions if token_key(*s) not in have),
        subscriptions_removed=tuple(s for s in guarded if token_key(s.type, s.token) not in wanted),
        devices_attached=tuple(d for d in declared.devices if d not in owned_ids),
    )


def _changed(live: object, declared: str | None) -> tuple[str | None, str] | None:
    """(old, new) when a declared value differs; an undeclared one is left as it is."""
    if declared is None or live == declared:
        return None
    return (None if live is None else str(live), declared)
