"""Messages (notifications) and who received them.

A message targets the subscriptions of one channel that matched its segment
when it was queued. Each recipient's fate (errored, failed, sent, delivered,
clicked) and event times come from a cheap integer hash of the message's salt
and the subscription, so the counts in the message view, the audience activity
export, the message history export and the outcomes all agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from osctl.emulator.audience import EMAIL_TYPE, PUSH_TYPES, SMS_TYPE, Audience, Subscription
from osctl.emulator.filtering import Predicate

KIND_DASHBOARD, KIND_API, KIND_AUTOMATED = 0, 1, 3

PLATFORM_KEYS = {0: "ios", 1: "android", 2: "android", 5: "chrome_web_push", 8: "firefox_web_push",
                 7: "safari_web_push", 17: "safari_web_push", 11: "email", 14: "sms"}
CHANNEL_TYPES = {"push": PUSH_TYPES, "email": frozenset({EMAIL_TYPE}), "sms": frozenset({SMS_TYPE})}
FAILURE_MESSAGES = ("Invalid or expired token", "Provider temporarily unavailable", "Message too large")

_MASK = (1 << 64) - 1


def mix(x: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def fraction(x: int) -> float:
    return (x >> 11) / 9007199254740992.0  # top 53 bits -> [0, 1)


@dataclass
class Fate:
    """What happened to one recipient; times are unix seconds or None."""

    sent: int | None = None
    delivered: int | None = None
    clicked: int | None = None
    failed: int | None = None
    errored: int | None = None
    failure_message: str = ""


@dataclass
class Message:
    id: str
    app_id: str
    name: str
    kind: int
    channel: str
    queued_at: int
    completed_at: int | None
    salt: int
    target: Predicate
    included_segments: list[str]
    contents: dict = field(default_factory=dict)
    headings: dict = field(default_factory=dict)
    url: str | None = None
    _stats: dict | None = field(default=None, repr=False)

    def fate(self, sub: Subscription) -> Fate:
        h = mix(self.salt ^ (sub.index * 0x100000001B3) ^ int(sub.u * 2**52))
        roll = fraction(h)
        span = max(1, (self.completed_at or self.queued_at + 600) - self.queued_at)
        at = self.queued_at + int(fraction(mix(h)) * span)
        if roll < 0.01:
            return Fate(errored=at, failure_message=FAILURE_MESSAGES[h % len(FAILURE_MESSAGES)])
        if roll < 0.03:
            return Fate(failed=at, failure_message="Unsubscribed")
        fate = Fate(sent=at)
        if roll < 0.93:
            fate.delivered = at + 1 + h % 30
            if roll < 0.11:
                fate.clicked = fate.delivered + 60 + (h >> 8) % 7200
        return fate

    def recipients(self, audience: Audience) -> Iterator[tuple[Subscription, Fate]]:
        types = CHANNEL_TYPES[self.channel]
        when = self.queued_at
        for sub in audience:
            if (sub.device_type in types and sub.first_session <= when
                    and (sub.unsubscribed_at is None or sub.unsubscribed_at > when)
                    and self.target(sub, when)):
                yield sub, self.fate(sub)

    def stats(self, audience: Audience) -> dict:
        """Counts overall and per platform key; computed once (the audience never changes)."""
        if self._stats is None:
            totals = _zero()
            platforms: dict[str, dict] = {}
            for sub, fate in self.recipients(audience):
                for bucket in (totals, platforms.setdefault(PLATFORM_KEYS.get(sub.device_type, "android"), _zero())):
                    bucket["recipients"] += 1
                    bucket["successful"] += fate.sent is not None
                    bucket["failed"] += fate.failed is not None
                    bucket["errored"] += fate.errored is not None
                    bucket["received"] += fate.delivered is not None
                    bucket["converted"] += fate.clicked is not None
            self._stats = {"totals": totals, "platforms": platforms}
        return self._stats

    def to_json(self, audience: Audience) -> dict[str, Any]:
        stats = self.stats(audience)
        totals = stats["totals"]
        return {
            "id": self.id,
            "app_id": self.app_id,
            "name": self.name,
            "contents": self.contents,
            "headings": self.headings,
            "included_segments": self.included_segments,
            "excluded_segments": [],
            "url": self.url,
            "successful": totals["successful"],
            "failed": totals["failed"],
            "errored": totals["errored"],
            "converted": totals["converted"],
            "received": totals["received"],
            "remaining": 0,
            "queued_at": self.queued_at,
            "send_after": self.queued_at,
            "completed_at": self.completed_at,
            "canceled": False,
            "throttle_rate_per_minute": None,
            "platform_delivery_stats": {
                key: {k: v for k, v in counts.items() if k != "recipients"}
                for key, counts in stats["platforms"].items()
            },
        }


def _zero() -> dict[str, int]:
    return {"recipients": 0, "successful": 0, "failed": 0, "errored": 0, "received": 0, "converted": 0}
