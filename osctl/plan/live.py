"""Reading the live apps for a plan (effects: HTTP through OneSignalClient).

How much is read depends on --refresh:
- full: list every app's segments, and view every managed segment with its filters
  (include-segment-detail) to see drift and subscriber counts;
- list: only list segments (no filter drift), viewing just the segments the plan
  may delete or replace so it can show how many users they hold;
- none: no API call at all; state is trusted.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from osctl.config.model import Config
from osctl.plan.planner import AppLive
from osctl.state.model import State

REFRESH_MODES = ("full", "list", "none")


def _ids_to_view(config: Config, state: State | None, alias: str, listed, refresh: str) -> list[str]:
    records = [r for r in (state.segments.values() if state else ()) if r.app == alias]
    declared_by_name = {s.name: s for s in config.segments if s.app == alias}  # not config.segment(): O(n) each
    live_ids = {s.id for s in listed}
    by_name = {}
    for s in listed:
        by_name.setdefault(s.name, s.id)
    wanted: list[str] = []
    for record in records:
        segment_id = record.id or by_name.get(record.name)  # an unfinished create is found by name
        if segment_id not in live_ids:
            continue
        declared = declared_by_name.get(record.name)
        if refresh == "full" or record.id is None or declared is None or declared.digest != record.digest:
            wanted.append(segment_id)
    return wanted


def view_segments(client, app_id: str, ids: list[str], parallelism: int) -> dict:
    """{segment id: SegmentDetail} for the ids still live, `parallelism` views at a time."""
    if not ids:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        views = list(pool.map(lambda sid: client.get_segment(app_id, sid, detail=True), ids))
    return {sid: view for sid, view in zip(ids, views, strict=True) if view is not None}


def gather(config: Config, state: State | None, clients: dict, refresh: str, parallelism: int = 10,
           apps: list[str] | None = None) -> dict[str, AppLive]:
    """AppLive for every app (or just `apps`); clients maps app alias -> OneSignalClient."""
    if refresh == "none":
        return {alias: AppLive(None) for alias in config.apps}
    result: dict[str, AppLive] = {}
    for alias in apps or list(config.apps):
        app = config.apps[alias]
        client = clients[alias]
        listed = tuple(client.list_segments(app.app_id))
        wanted = _ids_to_view(config, state, alias, listed, refresh)
        result[alias] = AppLive(segments=listed, details=view_segments(client, app.app_id, wanted, parallelism))
    return result
