"""The emulator's state: apps with their keys, audiences, segments and messages.

Everything seeded here is a pure function of (seed, app_id, anchor), where the
anchor is the emulator time the data was built at: the same seed gives the same
segments, messages and subscriptions, timestamps shifted with the anchor.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from osctl.emulator.audience import DAY, Audience, Subscription
from osctl.emulator.clock import iso
from osctl.emulator.filtering import Predicate, compile_filters
from osctl.emulator.messages import KIND_API, KIND_AUTOMATED, KIND_DASHBOARD, Message
from osctl.emulator.users import Users


def seeded_random(*parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def seeded_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Segment:
    id: str
    name: str
    filters: list[dict]          # exactly as stored, returned by include-segment-detail
    created_at: float
    updated_at: float
    description: str | None = None
    read_only: bool = False
    source: str = "custom"
    is_active: bool = True
    in_active_journey: bool = False  # set through the control API: PATCH is then refused
    predicate: Predicate = field(init=False, repr=False)  # compiled from filters by recompile()
    version: int = 0
    _listing: dict | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.recompile()

    def recompile(self) -> None:
        self.version += 1
        self._listing = None
        # a segment without filters (Subscribed Users) is everyone subscribed
        self.predicate = compile_filters(self.filters) if self.filters else (lambda s, now: True)

    def touch(self, now: float) -> None:
        self.updated_at = now
        self._listing = None

    def listing(self, app_id: str) -> dict:
        """The segment as the list endpoint shows it, formatted once per change."""
        if self._listing is None:
            self._listing = {"id": self.id, "name": self.name, "created_at": iso(self.created_at),
                             "updated_at": iso(self.updated_at), "app_id": app_id,
                             "read_only": self.read_only, "is_active": self.is_active}
        return self._listing


@dataclass
class App:
    app_id: str
    api_key: str
    account: str
    audience: Audience
    segments: dict[str, Segment] = field(default_factory=dict)   # kept in created_at order
    messages: list[Message] = field(default_factory=list)
    seeded_messages: int = 0
    users: Users = field(default_factory=lambda: Users(_random_id))  # World.add_app seeds it
    _counts: dict = field(default_factory=dict, repr=False)
    _by_name: dict[str, Segment] = field(default_factory=dict, repr=False)

    def subscriptions(self) -> Iterator[Subscription]:
        """The whole audience segments and the subscriptions export see: synthetic rows, then users'."""
        return itertools.chain(self.audience, self.users.audience_rows(self.audience.anchor))

    def segment_by_name(self, name: str) -> Segment | None:
        return self._by_name.get(name)

    def add_segment(self, segment: Segment) -> None:
        last = next(reversed(self.segments.values()), None)
        self.segments[segment.id] = segment
        self._by_name[segment.name] = segment
        if last is not None and segment.created_at < last.created_at:  # the clock was set back
            self.segments = dict(sorted(self.segments.items(), key=lambda item: item[1].created_at))

    def rename(self, segment: Segment, name: str) -> None:
        del self._by_name[segment.name]
        segment.name = name
        self._by_name[name] = segment

    def remove_segment(self, segment_id: str) -> None:
        segment = self.segments.pop(segment_id)
        del self._by_name[segment.name]

    def members(self, segment: Segment, now: float) -> Iterator[Subscription]:
        """Subscribed subscriptions the segment's filters select at `now`."""
        match = segment.predicate
        return (s for s in self.subscriptions() if s.subscribed and match(s, now))

    def subscriber_count(self, segment: Segment, now: float) -> int:
        # cached per second: views come in bursts; only users change the audience
        key = (segment.id, segment.version, self.users.version, int(now))
        if key not in self._counts:
            if len(self._counts) > 4096:
                self._counts.clear()
            self._counts[key] = sum(1 for _ in self.members(segment, now))
        return self._counts[key]

    def message(self, message_id: str) -> Message | None:
        return next((m for m in self.messages if m.id == message_id), None)


# name, filters, source, read_only, age in days: what a fresh OneSignal app shows
BUILTIN_SEGMENTS: list[tuple[str, list[dict[str, Any]], str, bool, int]] = [
    ("Subscribed Users", [], "default", True, 400),
    ("Active Users", [{"field": "last_session", "relation": "<", "hours_ago": "24"}], "default", False, 400),
    ("Engaged Users", [{"field": "session_count", "relation": ">", "value": "10"}], "default", False, 400),
    ("Inactive Users", [{"field": "last_session", "relation": ">", "hours_ago": "168"}], "default", False, 400),
    # made in the dashboard with a filter kind the API cannot express
    ("Clicked Last Campaign", [{"field": "message_event", "relation": "=", "value": "clicked",
                                "unsupported_in_api": True}], "custom", False, 30),
]

CAMPAIGNS = [
    ("Weekly digest", KIND_API, "push", "Subscribed Users"),
    ("Spring sale", KIND_DASHBOARD, "push", "Active Users"),
    ("Order shipped", KIND_API, "push", "Subscribed Users"),
    ("Welcome series", KIND_AUTOMATED, "email", "Subscribed Users"),
    ("Feature launch", KIND_DASHBOARD, "push", "Engaged Users"),
]


def build_app(seed: int, app_id: str, api_key: str, account: str, audience_size: int,
              message_count: int, anchor: float, subscriptions: list[dict] | None = None) -> App:
    app = App(app_id, api_key, account, Audience(seed, app_id, audience_size, anchor, subscriptions))
    rng = seeded_random(seed, app_id, "segments")
    for position, (name, filters, source, read_only, age) in enumerate(BUILTIN_SEGMENTS):
        created = anchor - age * DAY + position * 60
        segment = Segment(seeded_uuid(rng), name, copy.deepcopy(filters), created, created,
                          read_only=read_only, source=source)
        app.add_segment(segment)
    for _ in range(message_count):
        add_seeded_message(app, seed, anchor)
    return app


def add_seeded_message(app: App, seed: int, anchor: float, queued_at: float | None = None) -> Message:
    k = app.seeded_messages
    app.seeded_messages += 1
    rng = seeded_random(seed, app.app_id, "message", k)
    title, kind, channel, segment_name, = CAMPAIGNS[k % len(CAMPAIGNS)]
    if queued_at is None:
        # spread over the last few days, newest first, all inside the 7-day history window
        queued_at = anchor - (k % 7 + 1) * 20 * 3600 - rng.randrange(3600)
    return add_message(app, rng, name=f"{title} #{k + 1}", kind=kind, channel=channel,
                       queued_at=int(queued_at), completed_at=int(queued_at) + 300 + rng.randrange(1500),
                       segment_name=segment_name)


def add_message(app: App, rng: random.Random, *, name: str, kind: int, channel: str, queued_at: int,
                completed_at: int | None, segment_name: str, message_id: str | None = None) -> Message:
    segment = app.segment_by_name(segment_name)
    if segment is None:
        raise ValueError(f"no segment named {segment_name!r} in app {app.app_id}")
    message = Message(
        id=message_id or seeded_uuid(rng), app_id=app.app_id, name=name, kind=kind, channel=channel,
        queued_at=queued_at, completed_at=completed_at, salt=rng.getrandbits(64),
        target=segment.predicate, included_segments=[segment_name],
        contents={"en": f"{name}: news for you"}, headings={"en": name},
        url="https://example.com/" + name.split(" #")[0].lower().replace(" ", "-"),
    )
    app.messages.append(message)
    return message


def _random_id() -> str:
    return str(uuid.uuid4())


class World:
    """All apps, guarded by one lock (requests are short; contention is low)."""

    def __init__(self, seed: int, anchor: float) -> None:
        self.seed = seed
        self.anchor = anchor
        self.apps: dict[str, App] = {}
        self.lock = threading.RLock()
        self.ids = seeded_random(seed, "ids")
        self.user_write_delay = 0.0

    def set_user_write_delay(self, seconds: float) -> None:
        with self.lock:
            self.user_write_delay = seconds
            for app in self.apps.values():
                app.users.write_delay = seconds

    def add_app(self, app_id: str, api_key: str, account: str, audience: int, messages: int,
                subscriptions: list[dict] | None = None) -> App:
        with self.lock:
            if app_id in self.apps:
                raise ValueError(f"app {app_id} already exists")
            app = build_app(self.seed, app_id, api_key, account, audience, messages, self.anchor, subscriptions)
            app.users = Users(self.new_id)
            app.users.write_delay = self.user_write_delay
            self.apps[app_id] = app
            return app

    def new_id(self) -> str:
        with self.lock:
            return seeded_uuid(self.ids)

    def describe(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"app_id": a.app_id, "account": a.account, "audience": len(a.audience),
                     "segments": len(a.segments), "messages": len(a.messages)} for a in self.apps.values()]
