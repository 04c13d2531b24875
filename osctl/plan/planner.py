"""(config, state, live, now) -> Plan: the table in docs/design.md#planning-a-segment, no I/O.

`live` is what the OneSignal API showed, per app alias; with `--refresh none`
there is none and state is trusted. Only segments osctl created or imported
(those in state) are ever deleted or replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from osctl import __version__
from osctl.addresses import segment_address
from osctl.config.model import Config, Import, Segment
from osctl.errors import PlanError
from osctl.filters import filters_digest, try_canonical
from osctl.onesignal.types import LiveSegment, SegmentDetail
from osctl.plan.filterdiff import diff_lines
from osctl.plan.identity import created_after_intent, in_the_way
from osctl.plan.model import (
    Action,
    Plan,
    Provenance,
    Reason,
    SegmentChange,
    UserChange,
    sort_changes,
)
from osctl.plan.safety import check_safety
from osctl.schedule import format_time
from osctl.shell import osctl_command
from osctl.state.model import SegmentRecord, State
from osctl.users.planner import LiveUsers, plan_users


@dataclass(frozen=True)
class AppLive:
    """One app as the API showed it. `segments` is None when it was not listed (refresh none)."""

    segments: tuple[LiveSegment, ...] | None
    details: dict[str, SegmentDetail] = field(default_factory=dict)  # by segment id: the segments viewed
    users: LiveUsers = LiveUsers()  # test users viewed and token owners looked up, if any


@dataclass(frozen=True)
class PlanOptions:
    refresh: str = "full"  # full | list | none
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    include_exports: bool = True


def matches(address: str, patterns: tuple[str, ...]) -> bool:
    """An address matches a pattern equal to it or a prefix ending at a dot: segment.prod matches segment.prod.X."""
    return any(address == p or address.startswith(p + ".") for p in patterns)


def selected(address: str, options: PlanOptions) -> bool:
    if options.targets and not matches(address, options.targets):
        return False
    return not matches(address, options.excludes)


@dataclass(frozen=True)
class WholePlan:
    """Every change the configuration calls for, before --target/--exclude select some.
    `problems` stop any plan made from it; `select` makes the plan for a selection."""

    changes: tuple[SegmentChange, ...]  # sorted: deletes before creates
    user_changes: tuple[UserChange, ...]
    problems: tuple[str, ...]
    dropped: tuple[str, ...]  # unfinished creates whose name another segment holds
    warnings: tuple[str, ...]
    provenance: Provenance

    def left_out_creates(self, options: PlanOptions) -> frozenset[str]:
        """The segments this plan creates or replaces that `options` leave out."""
        return frozenset(c.address for c in self.changes
                         if c.action.creates_segment and not selected(c.address, options))


def plan_everything(config: Config, state: State | None, live: dict[str, AppLive], now: datetime,
                    refresh: str = "full") -> WholePlan:
    problems: list[str] = []
    warnings: list[str] = []
    dropped: list[str] = []
    records = state.segments if state else {}
    managed_ids = {r.id: r.address for r in records.values() if r.id}
    changes: list[SegmentChange] = []
    for alias, app in config.apps.items():
        app_live = live.get(alias, AppLive(None))
        declared = {s.name: s for s in config.segments if s.app == alias}
        managed = {r.name: r for r in records.values() if r.app == alias}
        planner = _AppPlanner(config, alias, app.app_id, app_live, problems, dropped, managed_ids)
        moved = _renames(declared, managed, problems, warnings)
        for name, segment in declared.items():
            change = planner.declared(segment, managed.get(name) or moved.get(name))
            if change:
                changes.append(change)
        taken = {record.name for record in moved.values()}
        for name, record in managed.items():
            if name not in declared and name not in taken:
                change = planner.undeclared(record)
                if change:
                    changes.append(change)
    for record in records.values():
        if record.app not in config.apps:
            problems.append(
                f"{record.address} is in state but app '{record.app}' is no longer configured; "
                f"declare the app again to delete its segments, or drop them from state with: "
                f"{osctl_command('state', 'rm', record.address)}")
    user_changes = plan_users(config, state, {alias: app_live.users for alias, app_live in live.items()}, problems)
    provenance = Provenance(
        config_digest=config.digest,
        state_lineage=state.lineage if state else None,
        state_serial=state.serial if state else 0,
        live_ids={alias: sorted(s.id for s in (app_live.segments or ())) for alias, app_live in live.items()
                  if app_live.segments is not None},
        refresh=refresh,
        created_at=format_time(now),
        osctl_version=__version__,
    )
    return WholePlan(changes=sort_changes(changes), user_changes=tuple(user_changes), problems=tuple(problems),
                     dropped=tuple(dropped), warnings=tuple(warnings), provenance=provenance)


def select(whole: WholePlan, config: Config, state: State | None, live: dict[str, AppLive],
           options: PlanOptions) -> Plan:
    """The plan of the changes `options` select; raises PlanError for what stops it (including
    a read-only segment among the selected changes, and only among those)."""
    changes = tuple(c for c in whole.changes if selected(c.address, options))  # stays sorted
    user_changes = tuple(c for c in whole.user_changes if selected(c.address, options))
    warnings = whole.warnings
    if options.targets or options.excludes:
        warnings += ("the plan is partial (--target/--exclude): other changes may be pending",)
    problems = list(whole.problems)
    _check_untouchable(changes, live, problems)
    if problems:
        raise PlanError(problems, dropped_intents=whole.dropped)
    # due exports are added by the caller (osctl.exports.plan_exports reads messages: effects)
    return Plan(changes=changes, exports=(), violations=check_safety(config, state, changes),
                provenance=whole.provenance, warnings=warnings, user_changes=user_changes)


def make_plan(config: Config, state: State | None, live: dict[str, AppLive], now: datetime,
              options: PlanOptions = PlanOptions()) -> Plan:
    return select(plan_everything(config, state, live, now, options.refresh), config, state, live, options)


def _renames(declared: dict[str, Segment], managed: dict[str, SegmentRecord], problems: list[str],
             warnings: list[str]) -> dict[str, SegmentRecord]:
    """Declared name -> the record its renamed_from finds: state holds the old name, not the new."""
    moved: dict[str, SegmentRecord] = {}
    for name, segment in declared.items():
        if not segment.renamed_from or name in managed:
            continue
        # an unfinished create under an old name stays what it is (adopted or forgotten as undeclared)
        found = [managed[old] for old in segment.renamed_from
                 if old in managed and old not in declared and managed[old].id is not None]
        if len(found) > 1:
            problems.append(f"{segment.address}: renamed_from matches {len(found)} segments in state ("
                            + ", ".join(r.address for r in found) + "); keep the one this segment was, and "
                            "remove the others from renamed_from (they are then deleted) or from state "
                            "('osctl state rm')")
        elif found:
            moved[name] = found[0]
        else:
            warnings.append(f"{segment.address}: renamed_from ({', '.join(segment.renamed_from)}) matches "
                            f"nothing in state, so it has no effect: the segment is planned by its name")
    return moved


class _AppPlanner:
    def __init__(self, config: Config, alias: str, app_id: str, live: AppLive, problems: list[str],
                 dropped: list[str], managed_ids: dict[str, str]):
        self.config, self.alias, self.app_id, self.live, self.problems = config, alias, app_id, live, problems
        self.dropped = dropped
        self.managed_ids = managed_ids  # segment id -> the address state manages it under
        self.imports = {i.segment: i for i in config.imports if i.app == alias}
        listed = live.segments
        self.by_id = {s.id: s for s in listed} if listed is not None else None
        self.by_name: dict[str, list] = {}
        for s in listed or ():
            self.by_name.setdefault(s.name, []).append(s)

    # -- helpers -----------------------------------------------------------------
    def _exports_using(self, name: str) -> tuple[str, ...]:
        return tuple(sorted(e.name for e in self.config.exports if e.app == self.alias and e.segment == name))

    def _count(self, segment_id: str | None) -> int | None:
        detail = self.live.details.get(segment_id) if segment_id else None
        return getattr(detail, "subscriber_count", None) if detail else None

    def _live_filters(self, segment_id: str) -> list | None:
        detail = self.live.details.get(segment_id)
        if detail is None:
            return None
        return try_canonical(list(detail.filters))

    def _is_live(self, segment_id: str | None) -> TypeGuard[str]:
        if segment_id is None:
            return False
        return True if self.by_id is None else segment_id in self.by_id

    def _change(self, action: Action, reason: Reason, name: str, **kw: Any) -> SegmentChange:
        return SegmentChange(address=segment_address(self.alias, name), action=action, reason=reason,
                             app=self.alias, app_id=self.app_id, name=name,
                             used_by_exports=self._exports_using(name), **kw)

    def _create(self, segment: Segment, reason: Reason, before: list | None = None, segment_id: str | None = None,
                action: Action = Action.CREATE, live_name: str | None = None, moved_from: str | None = None,
                importing: str | None = None) -> SegmentChange:
        return self._change(
            action, reason, segment.name, segment_id=segment_id, before=before, after=list(segment.filters),
            after_digest=segment.digest, description=segment.description,
            filter_diff=diff_lines(before, list(segment.filters)) if before is not None else (),
            subscriber_count=self._count(segment_id) if action.is_destructive else None,
            prevent_destroy=segment.prevent_destroy, live_name=live_name, moved_from=moved_from,
            importing=importing)

    def _live_name(self, record: SegmentRecord) -> str:
        """The name OneSignal shows for a managed id; state's when the app was not listed."""
        listed = self.by_id.get(record.id) if self.by_id is not None and record.id else None
        return listed.name if listed is not None else record.name

    def _name_taken(self, segment: Segment, own_id: str | None) -> bool:
        """Another live segment holds the declared name: renaming ours to it would fail."""
        others = [s.id for s in self.by_name.get(segment.name, []) if s.id != own_id]
        if others:
            self.problems.append(in_the_way(segment.address, segment.name, others,
                                            "osctl cannot give its segment that name back", app=self.alias))
        return bool(others)

    # -- the table in docs/design.md#planning-a-segment ----------------------------------
    def declared(self, segment: Segment, record: SegmentRecord | None) -> SegmentChange | None:
        moved_from = record.address if record is not None and record.name != segment.name else None
        if record is None or (record.id is None and record.status == "pending_create"):
            return self._unrecorded(segment, record)
        block = self.imports.get(segment.name)
        if block is not None and block.id != record.id:
            self.problems.append(
                f"{_where(block)}{segment.address}: the imports: block names segment {block.id}, but osctl "
                f"already manages "
                f"this segment as {record.id}; remove the block (or first: "
                f"{osctl_command('state', 'rm', record.address)})")
            return None
        if not self._is_live(record.id):
            found = self.by_name.get(segment.name, [])
            if found:  # deleted outside, and another segment took the name since
                self.problems.append(in_the_way(
                    segment.address, segment.name, [s.id for s in found],
                    f"the segment osctl managed under that name (id {record.id}) was deleted outside osctl",
                    app=self.alias))
                return None
            return self._create(segment, Reason.DELETED_OUTSIDE, moved_from=moved_from)
        # a change to the segment itself is an update: in place (PATCH) or by replace, as configured
        change = Action.UPDATE if self.config.update_strategy(segment) == "in_place" else Action.REPLACE
        live_name = self._live_name(record)
        live_filters = self._live_filters(record.id)
        before = live_filters if live_filters is not None else list(record.filters)
        if live_name != segment.name:
            if self._name_taken(segment, record.id):
                return None
            reason = Reason.RENAMED_FROM if moved_from else Reason.RENAMED_OUTSIDE
            return self._create(segment, reason, before=before, segment_id=record.id, action=change,
                                live_name=live_name, moved_from=moved_from)
        if record.digest != segment.digest:
            return self._create(segment, Reason.FILTERS_CHANGED, before=list(record.filters),
                                segment_id=record.id, action=change, moved_from=moved_from)
        if live_filters is not None and filters_digest(live_filters) != record.digest:
            return self._create(segment, Reason.EDITED_OUTSIDE, before=live_filters,
                                segment_id=record.id, action=change, moved_from=moved_from)
        if moved_from or (record.description or None) != (segment.description or None):
            # a rename OneSignal already shows (its answer was lost): only state moves
            reason = Reason.RENAMED_FROM if moved_from else Reason.DESCRIPTION_CHANGED
            return self._change(Action.UPDATE_STATE, reason, segment.name,
                                segment_id=record.id, description=segment.description,
                                after=list(segment.filters), after_digest=segment.digest, moved_from=moved_from)
        return None

    def _unrecorded(self, segment: Segment, record: SegmentRecord | None) -> SegmentChange | None:
        """Declared but not (or only as an unfinished intent) in state."""
        found = self.by_name.get(segment.name, []) if self.by_id is not None else []
        if record is None:
            if segment.name in self.imports:
                return self._imported(segment, self.imports[segment.name])
            if found and self._unmanageable(segment, found[0]):
                return None
            if found:
                self.problems.append(in_the_way(segment.address, segment.name, [s.id for s in found],
                                                app=self.alias))
                return None
            return self._create(segment, Reason.NEW)
        # an intent without an answer: the create may or may not have happened
        if not found:
            return self._create(segment, Reason.CREATE_INTERRUPTED)
        ours = self._created_by(record, found)
        if ours is None:
            self.dropped.append(record.address)
            self.problems.append(in_the_way(
                segment.address, segment.name, [s.id for s in found],
                "an earlier create by osctl did not finish, but that segment is not the one it sent (other "
                "filters, or created before osctl tried): osctl drops its unfinished create and never "
                "adopts a segment it cannot prove it made", app=self.alias))
            return None
        # record what was sent; a configuration changed since then shows in the next plan
        return self._change(Action.ADOPT, Reason.CREATE_INTERRUPTED, segment.name, segment_id=ours.id,
                            after=list(record.filters), after_digest=record.digest,
                            description=segment.description)

    def _imported(self, segment: Segment, block: Import) -> SegmentChange | None:
        """An imports: block adopts a live segment as `segment`: recorded in state without a
        write request, then updated (or replaced) if its filters differ."""
        segment_id = block.id

        def refuse(why: str) -> None:
            self.problems.append(f"{_where(block)}{segment.address}: the imports: block cannot adopt "
                                 f"segment {segment_id}: {why}")

        if self.by_id is None:
            refuse("imports need the live app; plan without --refresh none")
            return None
        managed_as = self.managed_ids.get(segment_id)
        if managed_as is not None:
            refuse(f"it is already managed as {managed_as}")
            return None
        live = self.by_id.get(segment_id)
        if live is None:
            refuse(f"app '{self.alias}' has no segment with that id")
            return None
        if live.name != segment.name:
            refuse(f"it is named {live.name!r} in OneSignal, not {segment.name!r}; declare it under its name "
                   f"(and rename it afterwards with renamed_from)")
            return None
        from osctl.plan.unmanageable import why_unmanageable

        reason = why_unmanageable(live, self.live.details.get(segment_id))
        if reason is not None:
            refuse(f"it {reason}; osctl never manages such a segment: remove the block and rename yours")
            return None
        live_filters = self._live_filters(segment_id)
        if live_filters is None:
            refuse("its filters could not be read")
            return None
        if filters_digest(live_filters) == segment.digest:
            return self._change(Action.IMPORT, Reason.IMPORT_BLOCK, segment.name, segment_id=segment_id,
                                before=live_filters, after=list(segment.filters), after_digest=segment.digest,
                                description=segment.description, importing=segment_id)
        change = Action.UPDATE if self.config.update_strategy(segment) == "in_place" else Action.REPLACE
        return self._create(segment, Reason.IMPORT_BLOCK, before=live_filters, segment_id=segment_id,
                            action=change, importing=segment_id)

    def _unmanageable(self, segment: Segment, live: LiveSegment) -> bool:
        """A read-only or dashboard-only segment in the way: importing it cannot work."""
        from osctl.plan.unmanageable import why_unmanageable

        reason = why_unmanageable(live, self.live.details.get(live.id))
        if reason is not None:
            self.problems.append(f"{segment.address}: a segment named '{segment.name}' already exists in "
                                 f"OneSignal (id {live.id}) and {reason}; osctl cannot "
                                 f"manage it: rename yours")
        return reason is not None

    def _created_by(self, record: SegmentRecord, found: list[LiveSegment]) -> LiveSegment | None:
        """The live segment an unfinished create made: exactly the filters it sent, created after
        its intent was recorded (when the API tells when it was created). None if there is none."""
        for live in found:
            filters = self._live_filters(live.id)
            if filters is None or filters_digest(filters) != record.digest:
                continue
            detail = self.live.details.get(live.id)
            created = live.created_at if live.created_at is not None else getattr(detail, "created_at", None)
            if created_after_intent(created, record.created_at) is not False:
                return live
        return None

    def undeclared(self, record: SegmentRecord) -> SegmentChange | None:
        segment_id = record.id
        if segment_id is None and self.by_id is not None:
            # an unfinished create: delete what it made only if that is provably osctl's
            found = self._created_by(record, self.by_name.get(record.name, []))
            segment_id = found.id if found else None
        if not self._is_live(segment_id):
            return self._change(Action.FORGET, Reason.NOT_DECLARED, record.name, segment_id=record.id,
                                before=list(record.filters))
        listed = self.by_id.get(segment_id) if self.by_id is not None else None
        live_name = listed.name if listed is not None and listed.name != record.name else None
        return self._change(Action.DELETE, Reason.NOT_DECLARED, record.name, segment_id=segment_id,
                            before=list(record.filters), subscriber_count=self._count(segment_id),
                            description=record.description, live_name=live_name)


def _where(block: Import) -> str:
    """`file:line: ` of an imports: block, for messages about it."""
    return f"{block.location.file}:{block.location.line}: " if block.location else ""


def _check_untouchable(changes: tuple[SegmentChange, ...], live: dict[str, AppLive], problems: list[str]) -> None:
    """Read-only segments and segments with dashboard-only filters are never deleted, replaced or updated."""
    for change in changes:
        if not change.action.changes_live_segment or change.segment_id is None:
            continue
        app_live = live.get(change.app)
        if app_live is None:
            continue
        listed = {s.id: s for s in app_live.segments or ()}
        seg = listed.get(change.segment_id)
        if seg is not None and getattr(seg, "read_only", False):
            problems.append(f"{change.address}: segment {change.segment_id} is read-only in OneSignal; "
                            f"osctl cannot {change.action.value} it (remove it from state with: "
                            f"{osctl_command('state', 'rm', change.address)})")
        detail = app_live.details.get(change.segment_id)
        if detail is not None and getattr(detail, "unsupported", False):
            problems.append(f"{change.address}: its live filters include kinds the API does not support "
                            f"(unsupported_in_api, e.g. message or custom events); edit it in the dashboard, "
                            f"osctl will not {change.action.value} it")
