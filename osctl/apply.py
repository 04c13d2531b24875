"""Carries out a plan's segment changes (effects: API calls and state writes).

Order and safety:
- every delete (a plain delete, or the first half of a replace) runs before any
  create, so a rename or a replace never trips over its own name;
- before a create is sent its intent is recorded durably in state (status
  pending_create): all plain creates' intents in one write before the workers
  start, a replace's right after its delete. If the answer is lost — timeout,
  reset, kill — the next plan finds the segment by name and adopts it instead
  of creating a duplicate;
- every result is handed to the StateStore as soon as it is known and rides
  along with the next group-committed write (wait=False): a state write of a
  few MB costs 15-25 ms, so waiting for each one would double a 300-segment
  apply. A kill in that window loses only results whose intents are already
  durable (pending_create, or an id that is gone), which the next plan adopts
  or forgets; the store is flushed before apply returns;
- once `stop_reason()` says why (SIGINT/SIGTERM, see osctl.stopping), no new
  operation starts; those in flight finish and are recorded; the rest are listed
  as not attempted (plain creates' intents are taken back: they were never sent);
- a failure does not stop independent operations; the result lists what
  succeeded, what failed and why, and what was not attempted. An operation done
  in OneSignal whose state write failed is reported as exactly that (NotRecorded:
  what was done, and what the next plan will make of it), never as "failed".
The executor reports progress to an observer and never prints.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from osctl.errors import ApiError, NotRecorded, OsctlError, StateError, describe_bug
from osctl.filters import filters_digest, try_canonical
from osctl.onesignal.api import SegmentClients, SegmentsApi
from osctl.plan.identity import created_after_intent, in_the_way
from osctl.plan.model import Action, Change, Plan, SegmentChange
from osctl.schedule import format_time
from osctl.state.model import SegmentRecord, State
from osctl.state.store import StateAccess

CREATE_ATTEMPTS_AFTER_LOST_ANSWER = 3
UPDATE_ATTEMPTS_AFTER_LOST_ANSWER = 3


class ApplyObserver(Protocol):
    def started(self, change: Change, step: str) -> None: ...
    def finished(self, change: Change, step: str, detail: str) -> None: ...
    def failed(self, change: Change, step: str, error: str) -> None: ...


@dataclass
class ApplyResult:
    succeeded: list[tuple[Change, str]] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    not_attempted: list[tuple[Change, str]] = field(default_factory=list)
    state_incomplete: bool = False  # something done in OneSignal could not be recorded in state
    stopped: str | None = None  # why apply stopped early, e.g. "stopped by SIGTERM"
    tracebacks: list[str] = field(default_factory=list)  # of internal errors (bugs), for -v
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ok(self, change: Change, detail: str) -> None:
        with self._lock:
            self.succeeded.append((change, detail))

    def fail(self, change: Change, error: str) -> None:
        with self._lock:
            self.failed.append((change, error))

    def skip(self, change: Change, why: str) -> None:
        with self._lock:
            self.not_attempted.append((change, why))

    def unrecorded(self, change: Change, error: str) -> None:
        """A success whose state write turned out to have failed."""
        with self._lock:
            self.succeeded = [(c, d) for c, d in self.succeeded if c is not change]
            self.failed.append((change, error))
            self.state_incomplete = True

    @property
    def failed_addresses(self) -> set[str]:
        """Segments that did not reach their planned state: exports that need them wait."""
        return {c.address for c, _ in self.failed} | {c.address for c, _ in self.not_attempted}


class Executor:
    def __init__(self, *, store: StateAccess, clients: SegmentClients, observer: ApplyObserver, now: Callable[[], datetime],
                 parallelism: int = 10, stop_reason: Callable[[], str | None] = lambda: None):
        self.store, self.clients, self.observer, self.now = store, clients, observer, now
        self.parallelism = max(1, parallelism)
        self.stop_reason = stop_reason
        self._stopped: set[str] = set()  # addresses not started because of a stop
        self._unconfirmed: list[tuple[SegmentChange, int, str, str]] = []  # results written with wait=False
        self._not_recorded: set[str] = set()  # addresses done in OneSignal but not in state
        self._intents: dict[str, str] = {}  # address -> when its create intent was recorded

    def run(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        changes = self._import(list(plan.changes), result)
        deletes = [c for c in changes if c.action in (Action.DELETE, Action.REPLACE)]
        deleted_ok: set[str] = set()
        self._parallel(deletes, self._unless_stopped(result, lambda c: self._delete(c, result, deleted_ok)))
        # after the deletes (a rename may take a freed name), before the creates (one may take a
        # name a rename frees)
        updates = [c for c in changes if c.action == Action.UPDATE]
        self._parallel(updates, self._unless_stopped(result, lambda c: self._update(c, result)))
        plain_creates = [c for c in changes if c.action == Action.CREATE]
        before_intents: dict[str, SegmentRecord | None] = {}
        if plain_creates and not self.stop_reason():
            stamp = self._stamp()

            self._intents.update((c.address, stamp) for c in plain_creates)

            def intend(state: State) -> None:
                for c in plain_creates:
                    before_intents[c.address] = state.segments.get(c.address)
                    _put(state, _pending(c, stamp))

            try:
                self.store.update(intend)
            except StateError as exc:  # nothing is sent whose intent is not durable
                for change in plain_creates:
                    result.skip(change, f"not created: recording the intent in state failed: {exc}")
                plain_creates = []
        creates = []
        for change in changes:
            if change.action == Action.CREATE:
                if plain_creates:
                    creates.append(change)
            elif change.action == Action.REPLACE:
                if change.address in deleted_ok:
                    creates.append(change)
                elif change.address not in self._not_recorded | self._stopped:
                    result.skip(change, "not created: deleting the old segment failed")
        self._parallel(creates, self._unless_stopped(result, lambda c: self._create(c, result), old_deleted=True))
        self._take_back_intents(before_intents)
        state_only = [c for c in changes if c.action in (Action.FORGET, Action.ADOPT, Action.UPDATE_STATE)]
        for change in state_only:
            self._unless_stopped(result, lambda c: self._guard(c, "state", result, lambda: self._state_only(c)))(
                change)
        self._settle(result)
        return result

    def _import(self, changes: list[SegmentChange], result: ApplyResult) -> list[SegmentChange]:
        """Record every segment an imports: block adopts, in one durable write before any request:
        an update or replace of one runs only once state says osctl manages it. Returns the
        changes still to carry out."""
        imports = [c for c in changes if c.importing]
        if not imports:
            return changes
        reason = self.stop_reason()
        problem = f"not imported: {reason}" if reason else None
        if problem is None:
            stamp = self._stamp()

            def record(state: State) -> None:
                for change in imports:
                    _put(state, _imported(change, stamp))

            try:
                self.store.update(record)
            except StateError as exc:
                problem = f"not imported: recording it in state failed: {exc}"
        if problem is not None:
            result.stopped = result.stopped or reason
            for change in imports:
                result.skip(change, problem)
            return [c for c in changes if not c.importing]
        def imported(change: SegmentChange) -> Callable[[], str]:
            return lambda: f"imported id={change.importing}"

        for change in imports:
            if change.action == Action.IMPORT:
                self._guard(change, "import", result, imported(change))
        return [c for c in changes if c.action != Action.IMPORT]

    def _unless_stopped(self, result: ApplyResult, work: Callable[[SegmentChange], object], *,
                        old_deleted: bool = False) -> Callable[[SegmentChange], None]:
        """`work(change)`, unless a stop was asked for: then the change is listed as not
        started (`old_deleted`: a replace's create, after its delete)."""
        def run(change: SegmentChange) -> None:
            reason = self.stop_reason()
            if reason is None:
                work(change)
                return
            result.stopped = reason
            self._stopped.add(change.address)
            if old_deleted and change.action == Action.REPLACE:
                result.skip(change, f"not created: {reason} after the old segment was deleted; "
                                    f"the next apply creates it")
            else:
                result.skip(change, f"not started: {reason}")
        return run

    def _take_back_intents(self, before: dict[str, SegmentRecord | None]) -> None:
        """Plain creates a stop kept from being sent: their intents go (state says what happened)."""
        unsent = [address for address in before if address in self._stopped]
        if not unsent:
            return

        def take_back(state: State) -> None:
            for address in unsent:
                record = before[address]
                if record is None:
                    state.segments.pop(address, None)
                else:
                    state.segments[address] = record

        with contextlib.suppress(StateError):  # then the next plan sees the intents and creates them
            self.store.update(take_back, wait=False)

    def _settle(self, result: ApplyResult) -> None:
        """Make every result durable; one whose write failed is reported as not recorded."""
        try:
            self.store.flush()
        except StateError as exc:
            for change, sequence, done, then in self._unconfirmed:
                if not self.store.recorded(sequence):
                    message = f"{done}, but recording it in state failed: {exc}; {then}"
                    self.observer.failed(change, "record", message)
                    result.unrecorded(change, message)

    # -- plumbing -------------------------------------------------------------
    def _parallel(self, changes: list[SegmentChange], work: Callable[[SegmentChange], None]) -> None:
        if not changes:
            return
        with ThreadPoolExecutor(max_workers=min(self.parallelism, len(changes))) as pool:
            list(pool.map(work, changes))

    def _guard(self, change: SegmentChange, step: str, result: ApplyResult, work: Callable[[], str]) -> bool:
        # a replace's delete is half of the change: its create reports the result
        return run_step(self.observer, result, change, step, work,
                        report_ok=step != "delete" or change.action == Action.DELETE)

    def _client(self, change: SegmentChange) -> SegmentsApi:
        return self.clients[change.app]

    def _record(self, change: SegmentChange, mutate: Callable[[State], object], *, done: str, then: str, wait: bool) -> None:
        """Record in state what was just `done` in OneSignal; NotRecorded (saying `then`:
        what the next plan makes of it) if state cannot be written."""
        try:
            sequence = self.store.update(mutate, wait=wait)
        except StateError as exc:
            self._not_recorded.add(change.address)
            raise NotRecorded(f"{done}, but recording it in state failed: {exc}; {then}") from None
        if not wait:
            self._unconfirmed.append((change, sequence, done, then))

    def _stamp(self) -> str:
        return format_time(self.now())

    # -- operations -------------------------------------------------------------
    def _delete(self, change: SegmentChange, result: ApplyResult, deleted_ok: set[str]) -> None:
        def work() -> str:
            found = self._client(change).delete_segment(change.app_id, _live_id(change))
            done = f"deleted in OneSignal (id={change.segment_id})" if found \
                else f"already gone from OneSignal (id={change.segment_id})"
            if change.action == Action.REPLACE:
                # the old id is gone; what follows is a create whose intent must be durable first
                stamp = self._intents[change.address] = self._stamp()
                self._record(change, lambda s: _put(s, _pending(change, stamp), change.moved_from), done=done, wait=True,
                             then="the old segment is already gone from OneSignal and the next apply will create it")
            else:
                self._record(change, lambda s: s.segments.pop(change.address, None), done=done, wait=False,
                             then="the next plan will forget it")
            return f"deleted id={change.segment_id}" if found else f"already gone id={change.segment_id}"

        if self._guard(change, "delete", result, work):
            deleted_ok.add(change.address)

    def _create(self, change: SegmentChange, result: ApplyResult) -> None:
        def work() -> str:
            new_id, how = self._send_create(change)
            stamp = self._stamp()
            self._record(change, lambda s: _put(s, _created(change, new_id, stamp), change.moved_from), wait=False,
                         done=f"created in OneSignal (id={new_id})",
                         then="its intent is in state, so the next plan finds it by name and adopts it")
            return f"{how} id={new_id}"

        self._guard(change, "create", result, work)

    def _send_create(self, change: SegmentChange) -> tuple[str, str]:
        from osctl.errors import OutcomeUnknown, SegmentNameConflict

        client = self._client(change)
        for attempt in range(CREATE_ATTEMPTS_AFTER_LOST_ANSWER):
            try:
                return client.create_segment(change.app_id, change.name, _filters_to_send(change)), "created"
            except SegmentNameConflict as exc:
                existing = exc.existing_id or self._find_by_name(change)
                if existing and self._is_ours(change, existing):
                    return existing, "adopted (an earlier attempt had created it)"
                # someone else's segment holds the name: forget the intent now, so that no later
                # plan mistakes that segment for the one this create was meant to make
                self.store.update(lambda s: _drop_intent(s, change.address))
                raise ApiError(in_the_way(change.address, change.name, [existing] if existing else [],
                                          "the create was refused because the name is taken", app=change.app),
                               status=exc.status) from None
            except OutcomeUnknown:
                existing = self._find_by_name(change)
                if existing and self._is_ours(change, existing):
                    return existing, "adopted (the create answer was lost)"
                if attempt == CREATE_ATTEMPTS_AFTER_LOST_ANSWER - 1:
                    raise
        raise AssertionError("unreachable")

    def _find_by_name(self, change: SegmentChange) -> str | None:
        for segment in self._client(change).list_segments(change.app_id):
            if segment.name == change.name:
                return segment.id
        return None

    def _is_ours(self, change: SegmentChange, segment_id: str) -> bool:
        """Exactly the filters this create sent, and created after its intent (see plan.identity)."""
        detail = self._client(change).get_segment(change.app_id, segment_id, detail=True)
        if detail is None:
            return False
        live = try_canonical(list(detail.filters))
        if live is None or filters_digest(live) != change.after_digest:
            return False
        return created_after_intent(detail.created_at, self._intents.get(change.address)) is not False

    def _update(self, change: SegmentChange, result: ApplyResult) -> None:
        def work() -> str:
            how = self._send_update(change)
            stamp = self._stamp()
            # wait=False: lost in a crash, state still holds the old digest or name, and the next
            # plan sends the same (idempotent) update again
            self._record(change, lambda s: _put(s, _updated(s, change, stamp), change.moved_from), wait=False,
                         done=f"updated in place in OneSignal (id={change.segment_id})",
                         then="the next plan sends the same update again, which changes nothing more")
            return f"{how}, id kept {change.segment_id}"

        self._guard(change, "update", result, work)

    def _send_update(self, change: SegmentChange) -> str:
        from osctl.errors import (
            OutcomeUnknown,
            SegmentInUse,
            SegmentNameConflict,
            UpdateNotSupported,
        )

        client = self._client(change)
        for attempt in range(UPDATE_ATTEMPTS_AFTER_LOST_ANSWER):
            try:
                found = client.update_segment(change.app_id, _live_id(change), change.name, _filters_to_send(change))
            except OutcomeUnknown:
                # the same PATCH twice does what it does once: look, and send it again if needed
                if self._shows_update(change):
                    return "updated in place (checked by viewing it after the answer was lost)"
                if attempt == UPDATE_ATTEMPTS_AFTER_LOST_ANSWER - 1:
                    raise
                continue
            except SegmentInUse as exc:
                raise ApiError(
                    f"OneSignal refused to update segment {change.segment_id} in place: "
                    f"{('; '.join(exc.errors) or str(exc)).rstrip('.')}. An active Journey uses it: pause or "
                    f"edit that Journey in "
                    f"the OneSignal dashboard, then apply again. osctl does not replace it instead, because a "
                    f"new segment id would break the Journey", status=exc.status) from None
            except UpdateNotSupported as exc:
                raise ApiError(
                    f"{exc}. Set 'update: replace' on this segment (or 'segment_updates: replace' on app "
                    f"'{change.app}') to apply the change by delete and create (the segment gets a new id)",
                    status=exc.status) from None
            except SegmentNameConflict as exc:
                raise ApiError(in_the_way(change.address, change.name, [exc.existing_id] if exc.existing_id else [],
                                          "osctl cannot give its segment that name", app=change.app),
                               status=exc.status) from None
            if not found:
                raise ApiError(f"segment {change.segment_id} was deleted outside osctl, so it was not updated; "
                               f"the next plan creates it again", status=404)
            return "updated in place"
        raise AssertionError("unreachable")

    def _shows_update(self, change: SegmentChange) -> bool:
        detail = self._client(change).get_segment(change.app_id, _live_id(change), detail=True)
        if detail is None:
            raise ApiError(f"segment {change.segment_id} was deleted outside osctl, so it was not updated; "
                           f"the next plan creates it again", status=404)
        live = try_canonical(list(detail.filters))
        return detail.name == change.name and live is not None and filters_digest(live) == change.after_digest

    def _state_only(self, change: SegmentChange) -> str:
        if change.action == Action.FORGET:
            self.store.update(lambda s: s.segments.pop(change.address, None))
            return "removed from state"
        if change.action == Action.ADOPT:
            stamp = self._stamp()
            self.store.update(lambda s: _put(s, _created(change, _live_id(change), stamp)))
            return f"adopted id={change.segment_id}"

        def describe(state: State) -> None:
            record = state.segments.get(change.moved_from or change.address)
            if record is None:
                return
            # renamed: OneSignal already shows the new name
            name = change.name if change.moved_from else record.name
            _put(state, replace(record, name=name, description=change.description), change.moved_from)

        self.store.update(describe)
        return "moved in state" if change.moved_from else "description updated in state"


def run_step(observer: ApplyObserver, result: ApplyResult, change: Change, step: str, work: Callable[[], str], *,
             report_ok: bool = True) -> bool:
    """`work()` as one reported step of `change` (a segment's or a test user's): started, then
    finished with the detail it returns, or failed with the error; a bug is reported and
    apply goes on with independent operations (its traceback kept for -v)."""
    observer.started(change, step)
    try:
        detail = work()
    except OsctlError as exc:
        if isinstance(exc, NotRecorded):
            result.state_incomplete = True
        observer.failed(change, "record" if isinstance(exc, NotRecorded) else step, str(exc))
        result.fail(change, str(exc))
        return False
    except Exception as exc:  # a bug: keep going with independent operations; report it
        message = describe_bug(exc)
        observer.failed(change, step, message)
        result.fail(change, message)
        result.tracebacks.append(traceback.format_exc())  # for -v
        return False
    observer.finished(change, step, detail)
    if report_ok:
        result.ok(change, detail)
    return True


def _live_id(change: SegmentChange) -> str:
    """The id a delete, a replace's delete, an update or an adopt acts on: the planner always names it."""
    assert change.segment_id is not None, f"{change.address}: {change.action.value} without a segment id"
    return change.segment_id


def _filters_to_send(change: SegmentChange) -> list[dict]:
    """A create's, replace's or update's filters: the planner always sets them."""
    assert change.after is not None, f"{change.address}: {change.action.value} without filters"
    return change.after


def _pending(change: SegmentChange, stamp: str) -> SegmentRecord:
    return SegmentRecord(app=change.app, app_id=change.app_id, name=change.name, id=None,
                         filters=tuple(change.after or ()), digest=change.after_digest or "",
                         description=change.description, created_at=stamp, status="pending_create")


def _imported(change: SegmentChange, stamp: str) -> SegmentRecord:
    """The record of a segment an imports: block adopts: its live filters, as found."""
    live = list(change.before or [])
    return SegmentRecord(app=change.app, app_id=change.app_id, name=change.name, id=change.importing,
                         filters=tuple(live), digest=filters_digest(live), description=change.description,
                         created_at=stamp, status="created")


def _created(change: SegmentChange, segment_id: str, stamp: str) -> SegmentRecord:
    return replace(_pending(change, stamp), id=segment_id, status="created")


def _updated(state: State, change: SegmentChange, stamp: str) -> SegmentRecord:
    """The record after an update in place: same id and created_at; new name, filters, digest."""
    before = state.segments.get(change.moved_from or change.address)
    record = _created(change, _live_id(change), before.created_at if before and before.created_at else stamp)
    return replace(record, updated_at=stamp)


def _put(state: State, record: SegmentRecord, moved_from: str | None = None) -> None:
    """Record `record`; for a renamed segment, the record under its old address goes."""
    if moved_from and moved_from != record.address:
        state.segments.pop(moved_from, None)
    state.segments[record.address] = record


def _drop_intent(state: State, address: str) -> None:
    record = state.segments.get(address)
    if record is not None and record.status == "pending_create":
        del state.segments[address]
