"""`osctl import`: start managing an existing segment or test user (effects: reads through
the app's client; the caller holds the state lock and writes the state it gets back).

Each function checks what makes an import wrong (not declared, already managed, another
name, outside the guard rails, a segment osctl cannot manage), records the live object in
`state` as the next serial, and says whether it matches its declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from osctl.config.model import Config, Segment
from osctl.errors import OsctlError, UsageError
from osctl.onesignal.api import SegmentsApi, UserViewsApi
from osctl.onesignal.types import SegmentDetail
from osctl.shell import osctl_command
from osctl.state.model import State
from osctl.users.model import DeclaredUser


@dataclass(frozen=True)
class Imported:
    address: str
    live_id: str  # the segment id, or the user's onesignal_id
    differences: int  # 0: the live object matches its declaration


def declared_segment(config: Config, address: str, segment_id: str | None) -> Segment:
    """The declaration a segment import needs (checked before any lock or request)."""
    from osctl.addresses import parse_segment_address

    if segment_id is None:
        raise UsageError(f"importing a segment needs its id: {osctl_command('import', address, 'SEGMENT_ID')} "
                         f"(osctl generate lists the app's segments with their ids)")
    app_alias, name = parse_segment_address(address, config.apps)
    declared = config.segment(app_alias, name)
    if declared is None:
        raise OsctlError(f"{address} is not declared in the configuration; declare the segment first, "
                         f"then import it")
    return declared


def import_segment(config: Config, state: State, client: SegmentsApi, declared: Segment, segment_id: str,
                   now: datetime) -> Imported:
    from osctl.filters import filters_digest, try_canonical
    from osctl.state.edits import record_import

    address, app_alias, name = declared.address, declared.app, declared.name
    app = config.apps[app_alias]
    existing = state.segments.get(address)
    if existing is not None and existing.id:
        raise OsctlError(f"{address} is already managed (id {existing.id}); to import another segment, "
                         f"first run: {osctl_command('state', 'rm', address)}")
    detail = client.get_segment(app.app_id, segment_id, detail=True)
    if detail is None:
        raise OsctlError(f"segment {segment_id} does not exist in app '{app_alias}' ({app.app_id})")
    if detail.name and detail.name != name:
        raise OsctlError(f"segment {segment_id} is named {detail.name!r} in OneSignal, not {name!r}; "
                         f"import it under segment.{app_alias}.{detail.name}")
    _refuse_unmanageable(client, app.app_id, segment_id, detail)
    filters = try_canonical(list(detail.filters))
    if filters is None:
        raise OsctlError(f"segment {segment_id} has filters osctl cannot read")
    record_import(state, address, app=app_alias, app_id=app.app_id, name=name, segment_id=segment_id,
                  filters=filters, description=declared.description, now=now)
    return Imported(address, segment_id, 0 if filters_digest(filters) == declared.digest else 1)


def declared_user(config: Config, address: str, given_id: str | None) -> DeclaredUser:
    """The declaration a test-user import needs, inside its app's guard rails (checked before
    any lock or request: osctl never reads a user outside them)."""
    from osctl.addresses import parse_user_address

    app_alias, external_id = parse_user_address(address, config.apps)
    if given_id is not None and given_id != external_id:
        raise UsageError(f"a test user is found by the external id in its address; leave out {given_id!r}: "
                         f"{osctl_command('import', address)}")
    declared = next((u for u in config.test_users if u.address == address), None)
    if declared is None:
        raise OsctlError(f"{address} is not declared in the configuration; declare the test user first "
                         f"(under test_users:), then import it")
    rails = config.apps[app_alias].test_users
    # validate refuses such a declaration; all the same, never read a user outside the rails
    if rails is None:
        raise OsctlError(f"{address}: app '{app_alias}' declares no test_users guard rails; osctl reads no user "
                         f"of an app without them (declare apps.{app_alias}.test_users)")
    if not rails.owns(external_id):
        raise OsctlError(f"{address}: external id {external_id!r} does not start with the app's "
                         f"external_id_prefix {rails.external_id_prefix!r}; osctl never reads such a user")
    return declared


def import_user(config: Config, state: State, client: UserViewsApi, declared: DeclaredUser,
                now: datetime) -> Imported:
    """View the test user by its external id and record it as it is (docs/test-users.md#importing-a-test-user)."""
    from osctl.state.edits import record_user_import
    from osctl.users.model import diff

    address, app_alias, external_id = declared.address, declared.app, declared.external_id
    app = config.apps[app_alias]
    existing = state.users.get(address)
    if existing is not None:
        raise OsctlError(f"{address} is already in state"
                         + (" with an unfinished create; the next plan adopts or creates it"
                            if existing.status == "pending_create" else
                            f" (onesignal_id {existing.onesignal_id}); to import it again, first run: "
                            f"{osctl_command('state', 'rm', address)}"))
    live = client.get_user(app.app_id, external_id)
    if live is None:
        raise OsctlError(f"no user with external id {external_id!r} in app '{app_alias}' ({app.app_id}); "
                         f"the next plan creates it")
    record = record_user_import(state, live, app=app_alias, app_id=app.app_id, external_id=external_id, now=now,
                                devices=declared.devices)
    return Imported(address, record.onesignal_id or "unknown", len(diff(declared, live.data).lines()))


def _refuse_unmanageable(client: SegmentsApi, app_id: str, segment_id: str, detail: SegmentDetail) -> None:
    """Read-only segments (only the list tells) and dashboard-only filters cannot be managed:
    importing one would make every later plan fail."""
    from osctl.plan.unmanageable import READ_ONLY, why_unmanageable

    listed = next((s for s in client.list_segments(app_id) if s.id == segment_id), None)
    reason = why_unmanageable(listed, detail)
    if reason is None:
        return
    name = (listed.name if listed is not None else None) or detail.name
    named = f" ({name!r})" if name else ""
    hint = (f". To export it, name it in an export as segment: {{name: {name}, existing: true}}"
            if reason == READ_ONLY and name else "")
    raise OsctlError(f"segment {segment_id}{named} {reason}; osctl cannot manage it: rename yours{hint}")
