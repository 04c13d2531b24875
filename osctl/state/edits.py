"""Edits to the state that commands make outside a plan: importing a segment or a test user,
forgetting records (`state rm`), moving a segment to another address or a test user to a
renamed app alias (`state mv`), pushing a state document, copying the state to another backend.

Each takes what it needs as arguments; the caller holds the lock(s) and says the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from osctl.addresses import export_address, export_name, parse_segment_address
from osctl.errors import StateError, UsageError
from osctl.onesignal.user_types import LiveUser
from osctl.state.backend import StateBackend
from osctl.state.model import ExportRecord, SegmentRecord, State, UserRecord, UserSubscriptionRecord


def find_record(state: State, address: str) -> SegmentRecord | UserRecord | ExportRecord | None:
    """The record at `address` (segment.APP.NAME, user.APP.EXTERNAL_ID or export.NAME), or None."""
    if address in state.segments:
        return state.segments[address]
    if address in state.users:
        return state.users[address]
    name = export_name(address)
    return state.exports.get(name) if name is not None else None


def not_in_state(addresses: Iterable[str]) -> StateError:
    return StateError(f"not in state: {', '.join(addresses)} (`osctl state list` shows what is)")


def forget(state: State | None, addresses: Iterable[str]) -> State:
    """`state` without the records at `addresses`, as its next serial (OneSignal and files
    on disk are not touched). Refused, naming them, if any of them is not in state."""
    wanted = list(dict.fromkeys(addresses))
    missing = [a for a in wanted if state is None or find_record(state, a) is None]
    if state is None or missing:
        raise not_in_state(missing)
    gone = set(wanted)
    return _next_serial(state, segments={a: r for a, r in state.segments.items() if a not in gone},
                        exports={n: r for n, r in state.exports.items() if export_address(n) not in gone},
                        users={a: r for a, r in state.users.items() if a not in gone})


def move_target(source: str, destination: str, app_aliases: Iterable[str]) -> str:
    """The segment name `destination` gives the segment at `source`: both are segment
    addresses of the same configured app (a segment belongs to one app)."""
    aliases = list(app_aliases)
    source_app, _ = parse_segment_address(source, aliases)
    target_app, target_name = parse_segment_address(destination, aliases)
    if source_app != target_app:
        raise UsageError(f"{source} and {destination} are in different apps; a segment belongs to one app")
    return target_name


def move_segment(state: State | None, source: str, destination: str, *, name: str) -> State:
    """`state` with the segment record at `source` kept at `destination` under `name`, as
    its next serial (OneSignal is not touched: the next plan renames the segment there)."""
    from osctl.shell import osctl_command

    record = state.segments.get(source) if state else None
    if state is None or record is None:
        raise not_in_state([source])
    if destination in state.segments:
        raise StateError(f"{destination} is already in state; {osctl_command('state', 'rm', destination)} "
                         f"first if it should go")
    segments = {a: r for a, r in state.segments.items() if a != source}
    segments[destination] = dataclasses.replace(record, name=name)
    return _next_serial(state, segments=segments)


def move_user(state: State | None, source: str, destination: str, *, app: str, app_id: str,
              external_id: str) -> State:
    """`state` with the test user at `source` kept at `destination` (user.<app>.<external_id>), as
    its next serial. Only the app's alias may change: the external id is the user's identity in
    OneSignal and the app id says which app holds it, so a move to another of either would
    manage a user osctl never created."""
    from osctl.shell import osctl_command

    record = state.users.get(source) if state else None
    if state is None or record is None:
        raise not_in_state([source])
    if external_id != record.external_id:
        raise StateError(f"{source} is the user with external id {record.external_id!r} in OneSignal; "
                         f"`state mv` cannot make it another user. To manage {external_id!r} instead, run "
                         f"{osctl_command('state', 'rm', source)} then {osctl_command('import', destination)}")
    if app_id != record.app_id:
        raise StateError(f"{source} is a user of app id {record.app_id}, but app '{app}' is {app_id}; "
                         f"`state mv` only follows a renamed app alias")
    if destination in state.users:
        raise StateError(f"{destination} is already in state; {osctl_command('state', 'rm', destination)} "
                         f"first if it should go")
    users = {a: r for a, r in state.users.items() if a != source}
    users[destination] = dataclasses.replace(record, app=app)
    return _next_serial(state, users=users)


def _next_serial(state: State, *, segments: dict[str, SegmentRecord] | None = None,
                 exports: dict[str, ExportRecord] | None = None, users: dict[str, UserRecord] | None = None) -> State:
    """A new state: `state` with the record tables given, one serial on, stamped with this
    osctl's version. Unchanged records are shared with `state`, not copied."""
    from osctl import __version__

    return dataclasses.replace(
        state, serial=state.serial + 1, osctl_version=__version__,
        segments=dict(state.segments) if segments is None else segments,
        exports=dict(state.exports) if exports is None else exports,
        users=dict(state.users) if users is None else users)


def record_import(state: State, address: str, *, app: str, app_id: str, name: str, segment_id: str,
                  filters: list[dict], description: str | None, now: datetime) -> None:
    """Record the existing segment `segment_id` (its canonical live `filters`) as managed at
    `address`, as the next serial of `state`."""
    from osctl.filters import filters_digest
    from osctl.schedule import format_time

    state.segments[address] = SegmentRecord(
        app=app, app_id=app_id, name=name, id=segment_id, filters=tuple(filters),
        digest=filters_digest(filters), description=description,
        created_at=format_time(now), status="created")
    state.serial += 1


def record_user_import(state: State, live: LiveUser, *, app: str, app_id: str, external_id: str,
                       now: datetime, devices: Iterable[str] = ()) -> UserRecord:
    """Record the live test user `external_id` as managed at user.<app>.<external_id>, as the next
    serial of `state`: what it has now (tags, language, timezone, custom aliases, Email and SMS
    subscriptions with their ids) stands for what osctl last applied. Of its push subscriptions,
    only those among `devices` (the declared ones) are recorded: osctl records the devices it
    attaches, and one the user already holds is attached as far as osctl is concerned."""
    from osctl.schedule import format_time
    from osctl.users.guards import GUARDED_TYPES

    held = {s.id for s in live.subscriptions}
    record = UserRecord(
        app=app, app_id=app_id, external_id=external_id, onesignal_id=live.onesignal_id,
        tags=dict(live.tags), language=live.language, timezone_id=live.timezone_id, aliases=dict(live.aliases),
        subscriptions=[UserSubscriptionRecord(s.type, s.token, s.id) for s in live.subscriptions
                       if s.type in GUARDED_TYPES],
        devices=[d for d in dict.fromkeys(devices) if d in held],
        created_at=format_time(now), status="created")
    state.users[record.address] = record
    state.serial += 1
    return record


@dataclass(frozen=True)
class Pushed:
    written: bool  # False when the state already held the same content
    dropped: tuple[str, ...] = ()  # in-flight exports dropped because their URL was masked


def push_state(backend: StateBackend, pushed: State, *, force: bool, source: str) -> Pushed:
    """Replace the state in `backend` with `pushed` (read from `source`, named in messages):
    refused for another lineage or a serial that is not newer, unless `force`. `pushed` gets
    the serial it is written as."""
    from osctl import __version__
    from osctl.state.model import drop_masked_in_flight

    try:
        current, unreadable = backend.read(), False
    except StateError as exc:
        if not force:
            raise StateError(f"{exc}; `osctl state push --force` replaces it") from None
        current, unreadable = None, True
    if current is not None and same_content(pushed, current):
        return Pushed(written=False)
    if current is not None and not force:
        _check_push(source, pushed, current)
    dropped = drop_masked_in_flight(pushed)
    # a new serial for this write; past an unreadable state, one past the file's own
    pushed.serial = current.serial + 1 if current else (pushed.serial + 1 if unreadable else 1)
    pushed.osctl_version = __version__
    backend.write(pushed, force=current is None or current.lineage != pushed.lineage)
    return Pushed(written=True, dropped=tuple(dropped))


def same_content(a: State, b: State) -> bool:
    ignore = {"osctl_version": ""}
    return a.to_dict() | ignore == b.to_dict() | ignore


def _check_push(source: str, pushed: State, current: State) -> None:
    if pushed.lineage != current.lineage:
        raise StateError(f"{source} belongs to another state (lineage {pushed.lineage}; the current state's "
                         f"lineage is {current.lineage}); use --force to replace the current state with it")
    if pushed.serial <= current.serial:
        raise StateError(f"{source} is at serial {pushed.serial} but the state is at serial {current.serial}: "
                         f"pushing it could undo newer changes. If you edited a copy pulled at serial "
                         f"{current.serial}, set its serial to {current.serial + 1}; or use --force")


@dataclass(frozen=True)
class Migrated:
    state: State  # the state copied (or found already there)
    copied: bool  # False when the target already held this state


def migrate_state(source: StateBackend, target: StateBackend, *, force: bool) -> Migrated:
    """Copy the state of `source` to `target` as it is (same lineage, same serial); a different
    state already in `target` is replaced only with `force`."""
    current = source.read()
    if current is None:
        raise StateError(f"nothing to migrate: {source.description} holds no state yet")
    try:
        existing = target.read()
    except StateError as exc:
        if not force:
            raise StateError(f"{exc}; `osctl state migrate --force` replaces it") from None
        existing = None
    if existing is not None and same_content(existing, current) and existing.serial == current.serial:
        return Migrated(current, copied=False)
    if existing is not None and not force:
        raise StateError(f"{target.description} already holds a state (lineage {existing.lineage}, serial "
                         f"{existing.serial}, {record_counts(existing)}); refusing to overwrite it. Use --force "
                         "to replace it with this one")
    target.write(current, force=True)  # as it is: same lineage, same serial
    return Migrated(current, copied=True)


def record_counts(state: State) -> str:
    """'N segments, M exports', for messages."""
    segments, exports = len(state.segments), len(state.exports)
    return f"{segments} segment{'s' if segments != 1 else ''}, {exports} export{'s' if exports != 1 else ''}"
