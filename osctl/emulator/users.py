"""Users, their aliases and subscriptions, as OneSignal's user model has them (docs/onesignal-api.md#users-and-subscriptions).

A user is identified by aliases (`external_id` and up to 20 custom labels) and its
assigned `onesignal_id`; it owns up to 20 subscriptions (push devices, email
addresses, phone numbers). What the emulator reproduces because osctl's guard rails
depend on it:
- aliases sent on create look up an existing user (the create then updates it);
- an Email or SMS token that belongs to another user is *transferred* to the user
  being created or extended, silently;
- writes are answered 202 and may become visible only after `write_delay` seconds
  of the emulator clock (0 by default), as OneSignal applies them asynchronously.

Users' subscriptions are part of the app's audience for segments (membership,
subscriber_count) and the subscriptions CSV export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from osctl.emulator.audience import DAY, Subscription, from_dict

MAX_ALIASES = 20  # custom labels, besides external_id and onesignal_id
MAX_SUBSCRIPTIONS = 20
READ_ONLY_LABELS = ("onesignal_id",)
SUBSCRIPTION_TYPES = {
    "iOSPush": 0, "AndroidPush": 1, "FireOSPush": 2, "ChromeExtensionPush": 4, "ChromePush": 5,
    "WindowsPush": 6, "SafariLegacyPush": 7, "FirefoxPush": 8, "macOSPush": 9, "HuaweiPush": 13,
    "SafariPush": 17, "Email": 11, "SMS": 14,
}
TRANSFERRED_TYPES = ("Email", "SMS")  # tokens that move to a new owner on create/add
PROPERTY_KEYS = ("tags", "language", "timezone_id", "country", "lat", "long", "first_active", "last_active",
                 "amount_spent", "ip")
# Rows of the users' subscriptions in the audience start far above the synthetic ones.
_ROW_BASE = 10_000_000


@dataclass
class UserSubscription:
    id: str
    type: str
    token: str
    enabled: bool = True

    def to_json(self) -> dict:
        return {"id": self.id, "type": self.type, "token": self.token, "enabled": self.enabled,
                "notification_types": 1 if self.enabled else -2}


@dataclass
class User:
    onesignal_id: str
    identity: dict[str, str]  # label -> id, onesignal_id included
    properties: dict = field(default_factory=dict)
    subscriptions: list[UserSubscription] = field(default_factory=list)
    created_at: float = 0.0

    def to_json(self) -> dict:
        props = {k: v for k, v in self.properties.items() if k != "tags"}
        props["tags"] = dict(self.properties.get("tags") or {})
        return {"properties": props, "identity": dict(self.identity),
                "subscriptions": [s.to_json() for s in self.subscriptions]}


class Users:
    """The users of one app. Callers hold the world lock."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self.new_id = new_id
        self.by_onesignal_id: dict[str, User] = {}
        self.version = 0  # bumped on every visible change: segment counts are cached by it
        self._pending: list[tuple[float, Callable[[], object]]] = []  # (visible at, change) for 202s
        self.write_delay = 0.0

    # -- lookups ----------------------------------------------------------------
    def find(self, label: str, value: str) -> User | None:
        if label == "onesignal_id":
            return self.by_onesignal_id.get(value)
        return next((u for u in self.by_onesignal_id.values() if u.identity.get(label) == value), None)

    def owner_of_token(self, kind: str, token: str) -> tuple[User, UserSubscription] | None:
        for user in self.by_onesignal_id.values():
            for sub in user.subscriptions:
                if sub.type == kind and sub.token == token:
                    return user, sub
        return None

    def subscription(self, subscription_id: str) -> tuple[User, UserSubscription] | None:
        for user in self.by_onesignal_id.values():
            for sub in user.subscriptions:
                if sub.id == subscription_id:
                    return user, sub
        return None

    # -- asynchronous writes --------------------------------------------------------
    def later(self, now: float, change: Callable[[], object]) -> None:
        """Apply `change` now, or once `write_delay` has passed on the emulator clock."""
        if self.write_delay <= 0:
            change()
            self.version += 1
        else:
            self._pending.append((now + self.write_delay, change))

    def settle(self, now: float) -> None:
        """Make visible every write whose time has come (called before each users request)."""
        due = [c for at, c in self._pending if at <= now]
        if due:
            self._pending = [(at, c) for at, c in self._pending if at > now]
            for change in due:
                change()
            self.version += 1

    # -- changes (applied through later()) --------------------------------------------
    def add(self, user: User) -> None:
        self.by_onesignal_id[user.onesignal_id] = user

    def remove(self, user: User) -> None:
        self.by_onesignal_id.pop(user.onesignal_id, None)

    def attach(self, user: User, kind: str, token: str, enabled: bool = True) -> UserSubscription:
        """Give `user` a subscription; an Email/SMS token owned by someone else moves to `user`."""
        found = self.owner_of_token(kind, token)
        if found is not None:
            owner, sub = found
            if owner is not user:
                owner.subscriptions.remove(sub)
                user.subscriptions.append(sub)
            return sub
        sub = UserSubscription(self.new_id(), kind, token, enabled)
        user.subscriptions.append(sub)
        return sub

    # -- the audience ----------------------------------------------------------------
    def row_count(self) -> int:
        return sum(len(u.subscriptions) for u in self.by_onesignal_id.values())

    def audience_rows(self, anchor: float) -> Iterator[Subscription]:
        """Each user's subscriptions as audience rows: tags and properties as segment filters see them."""
        for number, (user, sub) in enumerate(
                (u, s) for u in self.by_onesignal_id.values() for s in u.subscriptions):
            props = user.properties
            kind = SUBSCRIPTION_TYPES.get(sub.type, 1)
            first = int(props.get("first_active") or user.created_at or anchor - DAY)
            last = int(props.get("last_active") or user.created_at or anchor - DAY)
            yield from_dict(_ROW_BASE + number, {
                "id": sub.id, "onesignal_id": user.onesignal_id, "identifier": sub.token, "device_type": kind,
                "external_id": user.identity.get("external_id"),
                "email": sub.token if sub.type == "Email" else None,
                "country": props.get("country"), "language": props.get("language") or "en",
                "timezone_id": props.get("timezone_id") or "UTC", "tags": props.get("tags") or {},
                "first_session": first, "last_session": last, "subscribed": sub.enabled,
                "lat": props.get("lat"), "long": props.get("long"),
            }, anchor)
