"""Which exports run now and why: ExportRun values for the plan. Pure.

An export runs when its schedule is due (osctl.schedule.due: missed ticks coalesce into
one run for the newest), or when it is forced (`osctl exports run NAME`). Per-message
kinds carry the messages they will cover, resolved beforehand (osctl.exports.messages).

`due_tick` is the tick the run satisfies (None for a forced run that is not due: it
satisfies nothing, the schedule's bookmark stays where it was).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from osctl.config.model import PER_MESSAGE_KINDS, Config, Export, ExportKind
from osctl.exports.messages import Selection
from osctl.plan.model import ExportRun
from osctl.schedule import due, format_time
from osctl.state.model import State

NO_MESSAGES = "no new messages to export: the run only records that the schedule was served"


def is_per_message(export: Export) -> bool:
    return export.kind in PER_MESSAGE_KINDS


def runs_wanted(config: Config, state: State | None, now: datetime,
                forced: Iterable[str] = ()) -> dict[str, datetime | None]:
    """{export name: due tick or None (forced, not due)} for exports that run at `now`."""
    forced = set(forced)
    records = state.exports if state is not None else {}
    wanted: dict[str, datetime | None] = {}
    for export in config.exports:
        tick = due(export, records.get(export.name), now)
        if tick is not None or export.name in forced:
            wanted[export.name] = tick
    return wanted


def segment_dependency(config: Config, state: State | None, export: Export, changing: Iterable[str] | None) -> str | None:
    """The address of the segment this export reads if that segment is created or replaced
    first (so the export runs after it exists). `changing`: addresses the plan creates or
    replaces; without it, judged from config and state (declared, and not recorded with
    the declared filters)."""
    if export.kind != ExportKind.SUBSCRIPTIONS or not export.segment:
        return None
    segment = config.segment(export.app, export.segment)
    if segment is None:
        return None
    if changing is not None:
        return segment.address if segment.address in set(changing) else None
    record = state.segments.get(segment.address) if state is not None else None
    if record is None or record.id is None or record.digest != segment.digest:
        return segment.address
    return None


def make_runs(config: Config, state: State | None, wanted: Mapping[str, datetime | None],
              selections: Mapping[str, Selection], *, changing: Iterable[str] | None = None) -> tuple[ExportRun, ...]:
    records = state.exports if state is not None else {}
    changing = list(changing) if changing is not None else None
    runs = []
    for export in config.exports:
        if export.name not in wanted:
            continue
        tick = wanted[export.name]
        record = records.get(export.name)
        if tick is not None:
            reason = f"due since {format_time(tick)}"
        elif export.schedule:
            reason = "forced (not due)"
        else:
            reason = "on demand"
        selection = selections.get(export.name, Selection())
        warnings = list(selection.warnings)
        if is_per_message(export) and not selection.messages:
            warnings.append(NO_MESSAGES)
        runs.append(ExportRun(
            address=export.address, name=export.name, app=export.app, kind=export.kind, reason=reason,
            due_tick=format_time(tick) if tick is not None else None,
            last_success=record.last_success if record is not None else None,
            messages=selection.messages if is_per_message(export) else (),
            after_segment=segment_dependency(config, state, export, changing),
            warnings=tuple(warnings)))
    return tuple(sorted(runs, key=lambda r: r.name))
