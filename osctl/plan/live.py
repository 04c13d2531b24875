"""Reading the live apps for a plan (effects: HTTP through OneSignalClient).

How much is read depends on --refresh:
- full: list every app's segments, and view every managed segment with its filters
  (include-segment-detail) to see drift and subscriber counts;
- list: only list segments (no filter drift, but names: renames outside osctl show),
  viewing just the segments the plan may delete or replace so it can show how many
  users they hold;
- none: no API call at all; state is trusted.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from osctl.config.model import Config
from osctl.onesignal.api import SegmentClients, SegmentsApi
from osctl.onesignal.types import LiveSegment, SegmentDetail
from osctl.plan.planner import AppLive
from osctl.progress import NO_PROGRESS, Progress
from osctl.state.model import State

REFRESH_MODES = ("full", "list", "none")


def _ids_to_view(config: Config, state: State | None, alias: str, listed: tuple[LiveSegment, ...],
                 refresh: str) -> list[str]:
    records = [r for r in (state.segments.values() if state else ()) if r.app == alias]
    declared_by_name = {s.name: s for s in config.segments if s.app == alias}  # not config.segment(): O(n) each
    live_ids = {s.id for s in listed}
    names = {s.id: s.name for s in listed}
    by_name: dict[str, str] = {}
    for s in listed:
        by_name.setdefault(s.name, s.id)
    wanted: list[str] = []
    for record in records:
        segment_id = record.id or by_name.get(record.name)  # an unfinished create is found by name
        if segment_id not in live_ids:
            continue
        declared = declared_by_name.get(record.name)
        renamed = names.get(segment_id) != record.name  # renamed outside
        # a delete or replace shows how many users the segment holds; an update in place loses none
        destroyed = declared is None or (config.update_strategy(declared) == "replace"
                                         and (declared.digest != record.digest or renamed))
        if refresh == "full" or record.id is None or destroyed:
            wanted.append(segment_id)
    # an unmanaged segment in the way of a declared one: the plan says whether it could be imported
    recorded = {r.name for r in records}
    wanted += [by_name[name] for name in declared_by_name if name in by_name and name not in recorded]
    # the segments imports: blocks adopt: the plan compares their filters with the declarations
    seen = set(wanted)
    wanted += [i.id for i in config.imports if i.app == alias and i.id in live_ids and i.id not in seen]
    return wanted


def view_segments(client: SegmentsApi, app_id: str, ids: list[str], parallelism: int,
                  progress: Progress = NO_PROGRESS) -> dict[str, SegmentDetail]:
    """{segment id: SegmentDetail} for the ids still live, `parallelism` views at a time."""
    if not ids:
        return {}

    def view(segment_id: str) -> SegmentDetail | None:
        detail = client.get_segment(app_id, segment_id, detail=True)
        progress.advance()
        return detail

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        views = list(pool.map(view, ids))
    return {sid: view for sid, view in zip(ids, views, strict=True) if view is not None}


def gather(config: Config, state: State | None, clients: SegmentClients, refresh: str, parallelism: int = 10,
           apps: list[str] | None = None, progress: Progress = NO_PROGRESS) -> dict[str, AppLive]:
    """AppLive for every app (or just `apps`), read through each app's client.
    `progress` hears what is being waited for (a hanging API must not look like a hung osctl)."""
    if refresh == "none":
        return {alias: AppLive(None) for alias in config.apps}
    result: dict[str, AppLive] = {}
    for alias in apps or list(config.apps):
        app = config.apps[alias]
        client = clients[alias]
        progress.start(f"Listing segments of {alias}")
        listed = tuple(client.list_segments(app.app_id))
        wanted = _ids_to_view(config, state, alias, listed, refresh)
        if wanted:
            progress.start(f"Reading segments of {alias}", len(wanted))
        details = view_segments(client, app.app_id, wanted, parallelism, progress)
        result[alias] = AppLive(segments=listed, details=details)
    return result
