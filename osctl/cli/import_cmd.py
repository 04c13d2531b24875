from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from osctl.cli.options import Settings, global_options, lock_timeout_option, pass_settings
from osctl.cli.planning import load_config
from osctl.errors import OsctlError, UsageError
from osctl.shell import osctl_command


@click.command("import")
@global_options
@click.argument("address")
@click.argument("segment_id", metavar="[ID]", required=False)
@lock_timeout_option
@pass_settings
def import_segment(settings: Settings, address: str, segment_id: str | None, lock_timeout: float) -> int:
    """Start managing the existing segment ID as ADDRESS (segment.APP.NAME), or the
    existing test user ADDRESS (user.APP.EXTERNAL_ID; no ID needed).

    A segment's live filters are recorded in state; the next plan shows a change
    only if they differ from the declared ones. For adoption through review,
    prefer an imports: block in the configuration (osctl generate writes them):
    the plan shows the import and apply records it.

    A test user is viewed by its external id and recorded as it is (tags,
    language, time zone, aliases, Email and SMS subscriptions); the next plan
    changes it to match its declaration.
    """
    from osctl import runtime
    from osctl.addresses import USER_PREFIX, parse_segment_address
    from osctl.filters import filters_digest, try_canonical
    from osctl.state.edits import record_import

    config = load_config(settings)
    if address.startswith(USER_PREFIX):
        return _import_user(settings, config, address, segment_id, lock_timeout)
    if segment_id is None:
        raise UsageError(f"importing a segment needs its id: {osctl_command('import', address, 'SEGMENT_ID')} "
                         f"(osctl generate lists the app's segments with their ids)")
    app_alias, name = parse_segment_address(address, config.apps)
    declared = config.segment(app_alias, name)
    if declared is None:
        raise OsctlError(f"{address} is not declared in the configuration; declare the segment first, "
                         f"then import it")
    app = config.apps[app_alias]
    with _locked(settings, config, app_alias, lock_timeout) as (backend, state, client):
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
                      filters=filters, description=declared.description, now=runtime.now())
        backend.write(state)
    same = filters_digest(filters) == declared.digest
    click.echo(f"Imported {address} (id {segment_id}). "
               + ("Its live filters match the configuration." if same else
                  "Its live filters differ from the configuration: the next plan replaces it."))
    return 0


@contextmanager
def _locked(settings: Settings, config, app_alias: str, lock_timeout: float) -> Iterator[tuple]:
    """The state backend under the import lock, its state (new if none yet) and the app's client."""
    from osctl import runtime
    from osctl.state import open_backend
    from osctl.state.model import State

    backend = open_backend(config)
    with backend.lock("import", lock_timeout), \
            runtime.clients(config, settings.resolved_api_url, apps=[app_alias],
                            verbose=settings.verbose > 0) as clients:
        yield backend, backend.read() or State.new(), clients[app_alias]


def _import_user(settings: Settings, config, address: str, given_id: str | None, lock_timeout: float) -> int:
    """View the test user by its external id and record it as it is (docs/test-users.md#importing-a-test-user)."""
    from osctl import runtime
    from osctl.addresses import parse_user_address
    from osctl.state.edits import record_user_import
    from osctl.users.model import diff

    app_alias, external_id = parse_user_address(address, config.apps)
    if given_id is not None and given_id != external_id:
        raise UsageError(f"a test user is found by the external id in its address; leave out {given_id!r}: "
                         f"{osctl_command('import', address)}")
    declared = next((u for u in config.test_users if u.address == address), None)
    if declared is None:
        raise OsctlError(f"{address} is not declared in the configuration; declare the test user first "
                         f"(under test_users:), then import it")
    app = config.apps[app_alias]
    rails = app.test_users
    # validate refuses such a declaration; all the same, never read a user outside the rails
    if rails is None:
        raise OsctlError(f"{address}: app '{app_alias}' declares no test_users guard rails; osctl reads no user "
                         f"of an app without them (declare apps.{app_alias}.test_users)")
    if not rails.owns(external_id):
        raise OsctlError(f"{address}: external id {external_id!r} does not start with the app's "
                         f"external_id_prefix {rails.external_id_prefix!r}; osctl never reads such a user")
    with _locked(settings, config, app_alias, lock_timeout) as (backend, state, client):
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
        record = record_user_import(state, live, app=app_alias, app_id=app.app_id, external_id=external_id,
                                    now=runtime.now())
        backend.write(state)
    changes = diff(declared, live.data).lines()
    click.echo(f"Imported {address} (onesignal_id {record.onesignal_id}). "
               + ("It matches the configuration." if not changes else
                  f"It differs from the configuration: the next plan updates it "
                  f"({len(changes)} change{'s' if len(changes) != 1 else ''})."))
    return 0


def _refuse_unmanageable(client, app_id: str, segment_id: str, detail) -> None:
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
