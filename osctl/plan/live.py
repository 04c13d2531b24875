"""Reading the live apps for a plan (effects: HTTP through OneSignalClient).

How much is read depends on --refresh:
- full: list every app's segments, and view every managed segment with its filters
  (include-segment-detail) to see drift and subscriber counts;
- list: only list segments (no filter drift, but names: renames outside osctl show),
  viewing just the segments the plan may delete or replace so it can show how many
  users they hold;
- none: no API call at all; state is trusted.

Test users (docs/test-users.md#drift-and-refresh) are viewed only with full: every declared
and recorded test user the selection (--target/--exclude) can include, never one outside
its app's external_id_prefix. Views are paced by the client (~1 per second per app), so
apps are read side by side. When the plan would add Email or SMS addresses to an app's
users, one subscriptions export of that app tells who holds them (osctl.users.owners_lookup).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from osctl.config.model import Config
from osctl.onesignal.api import PlanClients, SegmentsApi
from osctl.onesignal.types import LiveSegment, SegmentDetail
from osctl.plan.planner import AppLive, PlanOptions, selected
from osctl.progress import NO_PROGRESS, Progress
from osctl.state.model import State
from osctl.users.ownership import tokens_to_add
from osctl.users.planner import LiveUsers

if TYPE_CHECKING:
    from osctl.onesignal.user_types import LiveUser
    from osctl.users.owners_lookup import OwnersByApp
    from osctl.users.ownership import TokenOwners

REFRESH_MODES = ("full", "list", "none")
EVERYTHING = PlanOptions()  # no --target/--exclude


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


def gather(config: Config, state: State | None, clients: PlanClients, refresh: str, parallelism: int = 10,
           apps: list[str] | None = None, progress: Progress = NO_PROGRESS, *,
           selection: PlanOptions = EVERYTHING, owners: OwnersByApp | None = None) -> dict[str, AppLive]:
    """AppLive for every app (or just `apps`), read through each app's client.
    `progress` hears what is being waited for (a hanging API must not look like a hung osctl);
    `selection` (--target/--exclude) limits the test users viewed; `owners` keeps the token
    owners looked up (apply reuses them)."""
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
    if refresh == "full":
        for alias, users in _read_users(config, state, clients, list(result), selection, progress, owners).items():
            result[alias] = dataclasses.replace(result[alias], users=users)
    return result


def users_to_view(config: Config, state: State | None, alias: str, selection: PlanOptions) -> list[str]:
    """The external ids of the app's declared and recorded test users that the plan may include,
    inside the app's external_id_prefix (the planner reports the others; they are never read)."""
    rails = config.apps[alias].test_users
    if rails is None:
        return []
    declared = [(u.external_id, u.address) for u in config.test_users if u.app == alias]
    recorded = [(r.external_id, r.address) for r in (state.users.values() if state else ()) if r.app == alias]
    wanted: dict[str, None] = {}
    for external_id, address in declared + recorded:
        if rails.owns(external_id) and selected(address, selection):
            wanted.setdefault(external_id)
    return list(wanted)


def _read_users(config: Config, state: State | None, clients: PlanClients, aliases: list[str],
                selection: PlanOptions, progress: Progress, owners: OwnersByApp | None) -> dict[str, LiveUsers]:
    """LiveUsers of each app that has test users (declared or recorded); the views of different apps
    run side by side (each app's are paced by its client)."""
    wanted = {alias: ids for alias in aliases if (ids := users_to_view(config, state, alias, selection))}
    if not wanted:
        return {}
    progress.start(f"Reading test users of {', '.join(wanted)}", sum(len(ids) for ids in wanted.values()))

    def read(alias: str) -> dict[str, LiveUser | None]:
        return clients[alias].get_users(config.apps[alias].app_id, wanted[alias], on_each=lambda _: progress.advance())

    with ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="osctl-users") as pool:
        viewed = dict(zip(wanted, pool.map(read, wanted), strict=True))
    if owners is None:
        from osctl.users.owners_lookup import OwnersByApp

        owners = OwnersByApp(config, clients)
    return {alias: LiveUsers(users=users, owners=_owners(config, alias, users, selection, progress, owners))
            for alias, users in viewed.items()}


def _owners(config: Config, alias: str, users: Mapping[str, LiveUser | None], selection: PlanOptions,
            progress: Progress, owners: OwnersByApp) -> TokenOwners | None:
    """Who holds the app's addresses, looked up only when the plan would add some."""
    declared = [u for u in config.test_users if u.app == alias and u.external_id in users
                and selected(u.address, selection)]
    held = {external_id: user.subscriptions for external_id, user in users.items() if user is not None}
    adding = tokens_to_add(declared, held)
    if not adding:
        return None
    return owners.look_up(alias, len(adding), progress)
