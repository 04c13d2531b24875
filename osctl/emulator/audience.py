"""A synthetic, deterministic audience of subscriptions for one app.

The same (seed, app_id, size, anchor) always yields the same subscriptions, in
the same order. Small audiences are generated once and kept; large ones (a
million rows for the export benchmark) are regenerated on every pass so that
no pass ever holds the whole audience in memory.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import threading
from collections.abc import Iterator
from typing import Any

# Audiences up to this size are kept in memory after the first pass.
CACHE_LIMIT = 20_000

DAY = 86_400.0

# OneSignal device_type codes (docs/onesignal-api.md#subscriptions-csv-export) with their share of the audience.
DEVICE_TYPES = [(0, 30), (1, 40), (5, 12), (8, 4), (17, 4), (11, 7), (14, 3)]
PUSH_TYPES = frozenset({0, 1, 2, 5, 7, 8, 17})
EMAIL_TYPE, SMS_TYPE = 11, 14

# country, weight, language, latitude, longitude, timezone id, utc offset (s)
COUNTRIES = [
    ("US", 34, "en", 39.8, -98.6, "America/Chicago", -21600),
    ("GB", 10, "en", 54.0, -2.0, "Europe/London", 0),
    ("DE", 9, "de", 51.2, 10.4, "Europe/Berlin", 3600),
    ("FR", 8, "fr", 46.6, 2.2, "Europe/Paris", 3600),
    ("BR", 8, "pt", -14.2, -51.9, "America/Sao_Paulo", -10800),
    ("IN", 7, "en", 21.0, 78.0, "Asia/Kolkata", 19800),
    ("JP", 6, "ja", 36.2, 138.3, "Asia/Tokyo", 32400),
    ("CA", 5, "en", 56.1, -106.3, "America/Toronto", -18000),
    ("ES", 5, "es", 40.5, -3.7, "Europe/Madrid", 3600),
    ("MX", 4, "es", 23.6, -102.5, "America/Mexico_City", -21600),
    ("AU", 4, "en", -25.3, 133.8, "Australia/Sydney", 36000),
]
PLANS = [("free", 70), ("pro", 22), ("enterprise", 8)]
DEVICE_MODELS = {0: ("iPhone15,2", "17.4"), 1: ("Pixel 8", "14"), 5: ("Chrome", "124"),
                 8: ("Firefox", "125"), 17: ("Safari", "17.4"), 11: ("Email", ""), 14: ("SMS", "")}


def _cumulative(weights: list[int]) -> list[float]:
    total, acc, out = sum(weights), 0, []
    for w in weights:
        acc += w
        out.append(acc / total)
    return out


_DEVICE_CDF = _cumulative([w for _, w in DEVICE_TYPES])
_COUNTRY_CDF = _cumulative([c[1] for c in COUNTRIES])
_PLAN_CDF = _cumulative([w for _, w in PLANS])


class Subscription:
    """One subscription (a device, email address or phone number) of the app."""

    __slots__ = (
        "index", "id", "onesignal_id", "identifier", "device_type", "external_id", "email",
        "country", "language", "timezone", "timezone_id", "lat", "long", "tags",
        "session_count", "session_time", "first_session", "last_session", "app_version",
        "device_os", "device_model", "amount_spent", "purchases", "subscribed",
        "unsubscribed_at", "rooted", "ip", "badge_count", "u", "tags_json",
    )
    # The slots' types (annotations only: a class value would clash with the slot).
    index: int
    id: str
    onesignal_id: str
    identifier: str
    device_type: int
    external_id: str | None
    email: str | None
    country: str | None
    language: str
    timezone: int
    timezone_id: str
    lat: float | None
    long: float | None
    tags: dict[str, str]
    session_count: int
    session_time: int
    first_session: float  # unix seconds; whole for generated rows
    last_session: float
    app_version: str
    device_os: str
    device_model: str
    amount_spent: float
    purchases: dict[str, float]
    subscribed: bool
    unsubscribed_at: float | None
    rooted: bool
    ip: str
    badge_count: int
    u: float  # a stable random number in [0, 1) per subscription
    tags_json: str  # the CSV export's tags column

    def __init__(self, **fields: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, fields.get(name))


_new = object.__new__


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    # version 4 with the RFC 4122 variant, like the ids OneSignal hands out
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def generate(seed: int, app_id: str, size: int, anchor: float) -> Iterator[Subscription]:
    """Yield `size` subscriptions; every timestamp lies before `anchor`."""
    digest = hashlib.sha256(f"{seed}:{app_id}:audience".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    rand = rng.random
    for i in range(size):
        device_type = DEVICE_TYPES[bisect.bisect(_DEVICE_CDF, rand())][0]
        country, _, language, clat, clong, tz_id, tz = COUNTRIES[bisect.bisect(_COUNTRY_CDF, rand())]
        if rand() < 0.1:
            language = "es" if language != "es" else "en"
        first = anchor - rand() * 365 * DAY
        # recent activity is common: a cubic skew towards the anchor
        last = anchor - (rand() ** 3) * (anchor - first)
        sessions = 1 + int(rand() ** 2 * 200)
        subscribed = rand() >= 0.08
        sub_id = _uuid(rng)
        onesignal_id = _uuid(rng)
        external_id = f"user-{i:07d}" if rand() < 0.7 else None
        if device_type == EMAIL_TYPE:
            identifier = email = f"user{i}@example.com"
        elif device_type == SMS_TYPE:
            identifier, email = f"+1555{i:07d}", None
        else:
            identifier, email = f"{rng.getrandbits(128):032x}", None
        plan, level = PLANS[bisect.bisect(_PLAN_CDF, rand())][0], str(1 + int(rand() * 50))
        tags = {"plan": plan, "level": level}
        # the CSV's tags column, built here because these values never need JSON escaping
        tags_json = f'{{"plan":"{plan}","level":"{level}"'
        if rand() < 0.15:
            tags["vip"] = "true"
            tags_json += ',"vip":"true"'
        if rand() < 0.6:
            tags["signup_ts"] = str(int(first))
            tags_json += f',"signup_ts":"{tags["signup_ts"]}"'
        tags_json += "}"
        spent = round(rand() * 200, 2) if rand() < 0.2 else 0.0
        model, os_version = DEVICE_MODELS[device_type]
        has_location = device_type in (0, 1) and rand() < 0.6
        s = _new(Subscription)
        s.index, s.id, s.onesignal_id, s.identifier = i, sub_id, onesignal_id, identifier
        s.device_type, s.external_id, s.email = device_type, external_id, email
        s.country, s.language, s.timezone, s.timezone_id = country, language, tz, tz_id
        s.lat = round(clat + (rand() - 0.5) * 6, 5) if has_location else None
        s.long = round(clong + (rand() - 0.5) * 6, 5) if has_location else None
        s.tags, s.tags_json, s.session_count = tags, tags_json, sessions
        s.session_time = sessions * (30 + int(rand() * 300))
        s.first_session, s.last_session = int(first), int(last)
        s.app_version = f"2.{int(rand() * 6)}.{int(rand() * 4)}"
        s.device_os, s.device_model, s.amount_spent = os_version, model, spent
        s.purchases = {"premium_pack": 1} if spent else {}
        s.subscribed = subscribed
        s.unsubscribed_at = None if subscribed else int(last + rand() * (anchor - last))
        s.rooted = rand() < 0.01
        s.ip = f"203.0.113.{int(rand() * 254) + 1}"
        s.badge_count = int(rand() * 5) if device_type == 0 else 0
        s.u = rand()
        yield s


_TEXT, _WHOLE, _NUMBER, _FLAG, _MAP = (str,), (int,), (int, float), (bool,), (dict,)
FIELD_TYPES: dict[str, tuple[type[Any], ...]] = {
    "id": _TEXT, "onesignal_id": _TEXT, "identifier": _TEXT, "device_type": _WHOLE, "external_id": _TEXT,
    "email": _TEXT, "country": _TEXT, "language": _TEXT, "timezone": _WHOLE, "timezone_id": _TEXT,
    "lat": _NUMBER, "long": _NUMBER, "tags": _MAP, "session_count": _WHOLE, "session_time": _WHOLE,
    "first_session": _NUMBER, "last_session": _NUMBER, "app_version": _TEXT, "device_os": _TEXT,
    "device_model": _TEXT, "amount_spent": _NUMBER, "purchases": _MAP, "subscribed": _FLAG,
    "unsubscribed_at": _NUMBER, "rooted": _FLAG, "ip": _TEXT, "badge_count": _WHOLE,
}
NULLABLE = {"onesignal_id", "external_id", "email", "country", "lat", "long", "unsubscribed_at"}
NUMBER_LIMIT = 1e15  # unix seconds, counts and amounts; larger would overflow float arithmetic


def _check_types(data: dict) -> None:
    """Refuse a field of the wrong JSON type before it can break a request later."""
    for key, value in data.items():
        if value is None and key in NULLABLE:
            continue
        kinds = FIELD_TYPES[key]
        if (isinstance(value, bool) and kinds != _FLAG) or not isinstance(value, kinds):
            raise ValueError(f"subscription field {key} must be of type {'/'.join(k.__name__ for k in kinds)}")
        if kinds in (_WHOLE, _NUMBER) and not -NUMBER_LIMIT <= value <= NUMBER_LIMIT:
            raise ValueError(f"subscription field {key} must lie between -1e15 and 1e15")
        if key == "tags" and not all(isinstance(v, str | int | float) for v in value.values()):
            raise ValueError("subscription field tags must map names to strings or numbers")
        if key == "purchases" and not all(isinstance(v, int | float) and not isinstance(v, bool)
                                          and -NUMBER_LIMIT <= v <= NUMBER_LIMIT for v in value.values()):
            raise ValueError("subscription field purchases must map SKUs to amounts")


def from_dict(index: int, data: dict, anchor: float) -> Subscription:
    """A hand-written subscription (control API); unspecified fields get plain defaults."""
    defaults: dict[str, Any] = dict(
        id=data.get("id") or f"00000000-0000-4000-8000-{index:012d}", onesignal_id=None,
        identifier=f"token-{index}", device_type=1, external_id=None, email=None, country=None,
        language="en", timezone=0, timezone_id="UTC", lat=None, long=None, tags={},
        session_count=1, session_time=0, first_session=int(anchor - DAY), last_session=int(anchor - DAY),
        app_version="1.0.0", device_os="14", device_model="Pixel 8", amount_spent=0.0, purchases={},
        subscribed=True, unsubscribed_at=None, rooted=False, ip="203.0.113.1", badge_count=0,
        u=(index * 0.618033988749895) % 1.0,
    )
    unknown = set(data) - set(FIELD_TYPES)
    if unknown:
        raise ValueError(f"unknown subscription fields: {', '.join(sorted(unknown))}")
    _check_types(data)
    defaults.update(data)
    defaults["onesignal_id"] = defaults["onesignal_id"] or defaults["id"]
    defaults["tags"] = {str(k): str(v) for k, v in (defaults["tags"] or {}).items()}
    defaults["tags_json"] = json.dumps(defaults["tags"], separators=(",", ":"))
    return Subscription(index=index, **{k: v for k, v in defaults.items() if k != "index"})


class Audience:
    """The subscriptions of one app, iterable any number of times in the same order."""

    def __init__(self, seed: int, app_id: str, size: int, anchor: float,
                 explicit: list[dict] | None = None):
        self.seed, self.app_id, self.anchor = seed, app_id, anchor
        self._rows: list[Subscription] | None = None
        if explicit is not None:
            self._rows = [from_dict(i, d, anchor) for i, d in enumerate(explicit)]
            size = len(self._rows)
        self.size = size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Subscription]:
        if self._rows is not None:
            return iter(self._rows)
        if self.size > CACHE_LIMIT:
            return generate(self.seed, self.app_id, self.size, self.anchor)
        with self._lock:
            if self._rows is None:
                self._rows = list(generate(self.seed, self.app_id, self.size, self.anchor))
        return iter(self._rows)
