"""The state document: what osctl manages and what it has done. Pure: no I/O.

    {"format": 1, "lineage": "<uuid>", "serial": N, "osctl_version": "...",
     "segments": {"segment.<app>.<name>": {...}}, "exports": {"<name>": {...}},
     "users": {"user.<app>.<external_id>": {...}}}

`users` (test users) is written only when there are some, so a state without test users
keeps the shape older osctl wrote and read.

`lineage` is fixed when a state is created and never changes; `serial` grows by
one on every write, so a saved plan can tell whether state moved under it.

Every record is immutable (frozen): change one by building a new one
(`dataclasses.replace`) and putting it into the state's mapping. The lists inside
export and user records are never changed in place either: a change builds new ones.

Encoding is built for a state of thousands of segments written after every
operation: a SegmentRecord encodes its JSON line once and `encode_state`
re-serialises only the records that were replaced. That cached line can never
disagree with the record: a SegmentRecord's filters are deep-frozen when it is
built (a tuple of read-only dicts, copies of what it was given), so neither the
caller's dicts nor what `.filters` returns can change it. They are still dicts:
they compare, `dict()`-copy and JSON-encode as the plain ones do (a list inside an
entry, which canonical filters never have, becomes a tuple: the same JSON).
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any, ClassVar, NoReturn, Protocol

from osctl import __version__
from osctl.addresses import export_address, segment_address, user_address
from osctl.errors import StateError
from osctl.exports.links import is_masked_url, mask_url

STATE_FORMAT = 1
SEGMENT_STATUSES = ("created", "pending_create")
USER_STATUSES = SEGMENT_STATUSES


class _FrozenDict(dict):
    """A dict that refuses every change: what a SegmentRecord's filters are made of.

    A dict still (json, ==, dict(...) and copy treat it as one), so code that reads
    filters needs no change; code that would edit a record's filters in place gets a
    TypeError instead of a state line that no longer says what the record holds.
    """

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("a state record's filters cannot be changed in place: build a new record "
                        "(dataclasses.replace) with new filters")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[type[_FrozenDict], tuple[dict]]:  # copy, deepcopy, pickle
        return _FrozenDict, (dict(self),)


def _frozen(value: Any) -> Any:
    """`value` (JSON data) copied with every dict a _FrozenDict and every list a tuple."""
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, (dict, list, tuple)):  # nested: canonical filters never are
                return _FrozenDict({key: _frozen(item) for key, item in value.items()})
        return _FrozenDict(value)  # a filter entry: flat, copied in one go
    if isinstance(value, (list, tuple)):
        return tuple(map(_frozen, value))
    return value


@dataclass(frozen=True)
class SegmentRecord:
    app: str  # app alias
    app_id: str
    name: str
    id: str | None  # OneSignal segment id; None while a create is pending
    filters: tuple[dict, ...]  # canonical filters that were sent; frozen (_FrozenDict) when built
    digest: str  # filters digest (osctl.filters.filters_digest)
    description: str | None = None
    created_at: str | None = None  # ISO 8601 UTC when osctl created or imported it
    status: str = "created"  # "pending_create": intent recorded before the request was sent
    updated_at: str | None = None  # ISO 8601 UTC of the last update in place, if any

    def __post_init__(self) -> None:
        # a copy the caller cannot reach, and nothing can change: `encoded` stays true
        object.__setattr__(self, "filters", _frozen(self.filters))

    @property
    def address(self) -> str:
        return segment_address(self.app, self.name)

    def to_dict(self) -> dict:
        return {"app": self.app, "app_id": self.app_id, "name": self.name, "id": self.id,
                "filters": list(self.filters), "digest": self.digest, "description": self.description,
                "created_at": self.created_at, "status": self.status,
                **({"updated_at": self.updated_at} if self.updated_at else {})}

    @cached_property
    def encoded(self) -> bytes:
        """This record's line in the state document (computed once: the record never changes)."""
        return _line(self.address, self.to_dict())


@dataclass(frozen=True)
class UserSubscriptionRecord:
    type: str  # Email | SMS
    token: str  # the address or number osctl added
    id: str | None = None  # OneSignal's subscription id, once known (a 202 may not give it yet)


@dataclass(frozen=True)
class UserRecord:
    """A test user osctl created or adopted, and what it last applied to it.

    Frozen like SegmentRecord: change one by building a new one (`dataclasses.replace`).
    """

    app: str  # app alias
    app_id: str
    external_id: str
    onesignal_id: str | None  # None until OneSignal has named the user
    tags: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    timezone_id: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)  # custom labels only
    subscriptions: list[UserSubscriptionRecord] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)  # push subscription ids osctl attached
    created_at: str | None = None  # ISO 8601 UTC when osctl created or imported it
    status: str = "created"  # "pending_create": intent recorded before the request was sent

    @property
    def address(self) -> str:
        return user_address(self.app, self.external_id)

    def to_dict(self) -> dict:
        plain = _plain(self)
        plain["subscriptions"] = [_plain(s) for s in self.subscriptions]
        return plain


@dataclass(frozen=True)
class FileRecord:
    path: str  # relative to the config dir, or an object-store URL (s3://bucket/key)
    bytes: int
    rows: int
    sha256: str
    tick: str | None
    message_id: str | None = None
    written_at: str | None = None
    duration_seconds: float | None = None
    etag: str | None = None  # object stores: the ETag the store gave the object
    version: str | None = None  # object stores with versioning: the object's version id

    def to_dict(self) -> dict:
        plain = _plain(self)
        for key in _OPTIONAL_FILE_KEYS:  # written only when set: older readers never saw them
            if plain[key] is None:
                del plain[key]
        return plain


_OPTIONAL_FILE_KEYS = ("etag", "version")


@dataclass(frozen=True)
class PrunedFile:
    """A file osctl deleted under the export's retention (keep:)."""

    path: str
    sha256: str
    tick: str | None
    written_at: str | None
    pruned_at: str


@dataclass(frozen=True)
class InFlight:
    kind: str
    requested_at: str
    url: str  # a bearer link to the export file: never print it in full
    expires_at: str
    message_id: str | None = None
    tick: str | None = None


@dataclass(frozen=True)
class ExportRecord:
    """What an export has done: its attempts, files and requests in flight.

    Frozen like SegmentRecord: change one by building a new one (`dataclasses.replace`,
    with new lists) and putting it into `State.exports`.
    """

    name: str
    last_attempt: str | None = None
    last_success: str | None = None
    satisfied_tick: str | None = None  # ISO time of the schedule tick the last success satisfied
    messages_done: list[str] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    in_flight: list[InFlight] = field(default_factory=list)
    last_error: str | None = None
    pruned: list[PrunedFile] = field(default_factory=list)  # deleted under retention, newest last

    @property
    def address(self) -> str:
        return export_address(self.name)

    def to_dict(self) -> dict:
        data = {"name": self.name, "last_attempt": self.last_attempt, "last_success": self.last_success,
                "satisfied_tick": self.satisfied_tick, "messages_done": list(self.messages_done),
                "files": [f.to_dict() for f in self.files], "in_flight": [_plain(f) for f in self.in_flight],
                "last_error": self.last_error}
        if self.pruned:
            data["pruned"] = [_plain(p) for p in self.pruned]
        return data


@dataclass
class State:
    lineage: str
    serial: int
    osctl_version: str
    segments: dict[str, SegmentRecord] = field(default_factory=dict)  # by address
    exports: dict[str, ExportRecord] = field(default_factory=dict)  # by export name
    users: dict[str, UserRecord] = field(default_factory=dict)  # test users, by address

    @classmethod
    def new(cls) -> State:
        return cls(lineage=str(uuid.uuid4()), serial=0, osctl_version=__version__)

    def to_dict(self) -> dict:
        data = {"format": STATE_FORMAT, "lineage": self.lineage, "serial": self.serial,
                "osctl_version": self.osctl_version,
                "segments": {address: self.segments[address].to_dict() for address in sorted(self.segments)},
                "exports": {name: self.exports[name].to_dict() for name in sorted(self.exports)}}
        if self.users:
            data["users"] = {address: self.users[address].to_dict() for address in sorted(self.users)}
        return data

    @classmethod
    def from_dict(cls, data: Any) -> State:
        return _parse_state(data)

    def copy(self) -> State:
        return State(self.lineage, self.serial, self.osctl_version,
                     dict(self.segments),  # immutable records: shared, not copied
                     {name: copy.deepcopy(record) for name, record in self.exports.items()},
                     {address: copy.deepcopy(record) for address, record in self.users.items()})


def encode_state(state: State) -> bytes:
    """The state document as UTF-8 JSON, one record per line (readable, diffable).

    Equal to json.dumps(state.to_dict()) as data; only changed segment records
    are serialised again (see the module docstring). Exports are few and keep
    nested lists, so they are always serialised afresh.
    """
    head = json.dumps({"format": STATE_FORMAT, "lineage": state.lineage, "serial": state.serial,
                       "osctl_version": state.osctl_version}, ensure_ascii=False)[:-1]
    pieces = [head.encode(), b',\n"segments": {']
    _add_lines(pieces, [_segment_line(address, state.segments[address]) for address in sorted(state.segments)])
    pieces.append(b'},\n"exports": {')
    _add_lines(pieces, [_line(name, state.exports[name].to_dict()) for name in sorted(state.exports)])
    if state.users:  # test users are few: serialised afresh, like exports
        pieces.append(b'},\n"users": {')
        _add_lines(pieces, [_line(address, state.users[address].to_dict()) for address in sorted(state.users)])
    pieces.append(b"}}\n")
    return b"".join(pieces)  # one copy of the megabytes, not one per nesting level


def decode_state(document: bytes | str) -> State:
    """Parse a state document; StateError (never a traceback) when it is not one."""
    try:
        data = json.loads(document)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateError(f"state is not valid JSON: {exc}") from None
    return State.from_dict(data)


def _segment_line(address: str, record: SegmentRecord) -> bytes:
    return record.encoded if address == record.address else _line(address, record.to_dict())


def _line(key: str, value: dict) -> bytes:
    return (json.dumps(key, ensure_ascii=False) + ": "
            + json.dumps(value, ensure_ascii=False, separators=(",", ":"))).encode()


def _add_lines(pieces: list[bytes], lines: list[bytes]) -> None:
    for index, line in enumerate(lines):
        pieces += (b",\n" if index else b"\n", line)
    if lines:
        pieces.append(b"\n")


class _Dataclass(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]


def _plain(record: _Dataclass) -> dict:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def masked(state: State) -> State:
    """A copy of `state` whose in-flight export URLs are masked."""
    twin = state.copy()
    for name, record in list(twin.exports.items()):
        twin.exports[name] = replace(record, in_flight=[replace(flight, url=mask_url(flight.url))
                                                        for flight in record.in_flight])
    return twin


def drop_masked_in_flight(state: State) -> list[str]:
    """Remove in-flight exports whose URL was masked (it cannot be polled); their addresses."""
    dropped = []
    for name, record in list(state.exports.items()):
        kept = [flight for flight in record.in_flight if not is_masked_url(flight.url)]
        if len(kept) != len(record.in_flight):
            dropped.append(record.address)
            state.exports[name] = replace(record, in_flight=kept)
    return dropped


# -- parsing: every problem is a StateError that says where ------------------------


def _parse_state(data: Any) -> State:
    if not isinstance(data, dict):
        raise StateError("state is malformed: the document must be a JSON object")
    fmt = data.get("format")
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        raise StateError("state is malformed: \"format\" must be an integer (is this an osctl state file?)")
    if fmt > STATE_FORMAT:
        raise StateError(f"state was written by a newer osctl (format {fmt}); upgrade osctl")
    if fmt < 1:
        raise StateError(f"state is malformed: unknown format {fmt}")
    reader = _Reader("state")
    lineage = reader.text(data, "lineage")
    serial = reader.integer(data, "serial")
    version = reader.text(data, "osctl_version")
    segments = {address: _parse_segment(address, raw)
                for address, raw in reader.mapping(data, "segments").items()}
    exports = {name: _parse_export(name, raw) for name, raw in reader.mapping(data, "exports").items()}
    users = {address: _parse_user(address, raw) for address, raw in reader.mapping(data, "users").items()}
    if not lineage:
        raise StateError("state is malformed: \"lineage\" is empty")
    if serial < 0:
        raise StateError("state is malformed: \"serial\" is negative")
    return State(lineage, serial, version, segments, exports, users)


def _parse_segment(address: str, raw: Any) -> SegmentRecord:
    reader = _Reader(f"segments[{json.dumps(address)}]")
    raw = reader.require_object(raw)
    filters = reader.array(raw, "filters")
    if not all(isinstance(f, dict) for f in filters):
        raise reader.fail("filters", "must be a list of objects")
    record = SegmentRecord(
        app=reader.text(raw, "app"), app_id=reader.text(raw, "app_id"), name=reader.text(raw, "name"),
        id=reader.text(raw, "id", optional=True), filters=tuple(filters), digest=reader.text(raw, "digest"),
        description=reader.text(raw, "description", optional=True),
        created_at=reader.text(raw, "created_at", optional=True),
        status=reader.text(raw, "status", optional=True) or "created",
        updated_at=reader.text(raw, "updated_at", optional=True))
    if record.status not in SEGMENT_STATUSES:
        raise reader.fail("status", f"must be one of {', '.join(SEGMENT_STATUSES)}")
    if record.address != address:
        raise StateError(f"state is malformed: {reader.where} holds {record.address}")
    if record.status == "created" and record.id is None:
        raise reader.fail("id", "is missing for a created segment")
    return record


def _parse_user(address: str, raw: Any) -> UserRecord:
    reader = _Reader(f"users[{json.dumps(address)}]")
    raw = reader.require_object(raw)
    subscriptions = []
    for index, item in enumerate(reader.array(raw, "subscriptions", optional=True)):
        nested = reader.nested("subscriptions", index)
        item = nested.require_object(item)
        subscriptions.append(UserSubscriptionRecord(type=nested.text(item, "type"), token=nested.text(item, "token"),
                                                    id=nested.text(item, "id", optional=True)))
    devices = reader.array(raw, "devices", optional=True)
    if not all(isinstance(d, str) for d in devices):
        raise reader.fail("devices", "must be a list of strings")
    record = UserRecord(
        app=reader.text(raw, "app"), app_id=reader.text(raw, "app_id"),
        external_id=reader.text(raw, "external_id"), onesignal_id=reader.text(raw, "onesignal_id", optional=True),
        tags=reader.strings(raw, "tags"), language=reader.text(raw, "language", optional=True),
        timezone_id=reader.text(raw, "timezone_id", optional=True), aliases=reader.strings(raw, "aliases"),
        subscriptions=subscriptions, devices=devices, created_at=reader.text(raw, "created_at", optional=True),
        status=reader.text(raw, "status", optional=True) or "created")
    if record.status not in USER_STATUSES:
        raise reader.fail("status", f"must be one of {', '.join(USER_STATUSES)}")
    if record.address != address:
        raise StateError(f"state is malformed: {reader.where} holds {record.address}")
    return record


def _parse_export(name: str, raw: Any) -> ExportRecord:
    reader = _Reader(f"exports[{json.dumps(name)}]")
    raw = reader.require_object(raw)
    if reader.text(raw, "name") != name:
        raise reader.fail("name", f"must be {json.dumps(name)}")
    messages = reader.array(raw, "messages_done", optional=True)
    if not all(isinstance(m, str) for m in messages):
        raise reader.fail("messages_done", "must be a list of strings")
    files = [_parse_file(reader.nested("files", i), item)
             for i, item in enumerate(reader.array(raw, "files", optional=True))]
    in_flight = [_parse_in_flight(reader.nested("in_flight", i), item)
                 for i, item in enumerate(reader.array(raw, "in_flight", optional=True))]
    pruned = [_parse_pruned(reader.nested("pruned", i), item)
              for i, item in enumerate(reader.array(raw, "pruned", optional=True))]
    optional = {key: reader.text(raw, key, optional=True)
                for key in ("last_attempt", "last_success", "satisfied_tick", "last_error")}
    return ExportRecord(name=name, messages_done=messages, files=files, in_flight=in_flight, pruned=pruned,
                        **optional)


def _parse_file(reader: _Reader, raw: Any) -> FileRecord:
    raw = reader.require_object(raw)
    duration = raw.get("duration_seconds")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, (int, float))):
        raise reader.fail("duration_seconds", "must be a number")
    return FileRecord(path=reader.text(raw, "path"), bytes=reader.integer(raw, "bytes"),
                      rows=reader.integer(raw, "rows"), sha256=reader.text(raw, "sha256"),
                      tick=reader.text(raw, "tick", optional=True),
                      message_id=reader.text(raw, "message_id", optional=True),
                      written_at=reader.text(raw, "written_at", optional=True),
                      duration_seconds=duration, etag=reader.text(raw, "etag", optional=True),
                      version=reader.text(raw, "version", optional=True))


def _parse_pruned(reader: _Reader, raw: Any) -> PrunedFile:
    raw = reader.require_object(raw)
    return PrunedFile(path=reader.text(raw, "path"), sha256=reader.text(raw, "sha256"),
                      tick=reader.text(raw, "tick", optional=True),
                      written_at=reader.text(raw, "written_at", optional=True),
                      pruned_at=reader.text(raw, "pruned_at"))


def _parse_in_flight(reader: _Reader, raw: Any) -> InFlight:
    raw = reader.require_object(raw)
    return InFlight(kind=reader.text(raw, "kind"), requested_at=reader.text(raw, "requested_at"),
                    url=reader.text(raw, "url"), expires_at=reader.text(raw, "expires_at"),
                    message_id=reader.text(raw, "message_id", optional=True),
                    tick=reader.text(raw, "tick", optional=True))


class _Reader:
    """Typed field access that names the offending place in its error."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, problem: str) -> StateError:
        return StateError(f"state is malformed: {self.where}.{key} {problem}")

    def nested(self, key: str, index: int) -> _Reader:
        return _Reader(f"{self.where}.{key}[{index}]")

    def require_object(self, raw: Any) -> dict:
        if not isinstance(raw, dict):
            raise StateError(f"state is malformed: {self.where} must be an object")
        return raw

    def text(self, raw: dict, key: str, *, optional: bool = False) -> Any:
        value = raw.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(key, "is missing" if value is None else "must be a string")
        return value

    def integer(self, raw: dict, key: str) -> int:
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "is missing" if value is None else "must be an integer")
        return value

    def array(self, raw: dict, key: str, *, optional: bool = False) -> list:
        value = raw.get(key)
        if value is None and optional:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "is missing" if value is None else "must be a list")
        return value

    def strings(self, raw: dict, key: str) -> dict[str, str]:
        """An optional object of string values (tags, aliases)."""
        value = self.mapping(raw, key)
        if not all(isinstance(v, str) for v in value.values()):
            raise self.fail(key, "must map names to strings")
        return dict(value)

    def mapping(self, raw: dict, key: str) -> dict:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be an object")
        return value
