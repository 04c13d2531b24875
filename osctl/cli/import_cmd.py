from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from osctl.cli.options import Settings, global_options, lock_timeout_option, pass_settings
from osctl.cli.planning import load_config

if TYPE_CHECKING:
    from osctl.config.model import Config
    from osctl.onesignal.client import OneSignalClient
    from osctl.state.backend import StateBackend
    from osctl.state.model import State


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
    from osctl import importing, runtime
    from osctl.addresses import USER_PREFIX

    config = load_config(settings)
    if address.startswith(USER_PREFIX):
        user = importing.declared_user(config, address, segment_id)
        with _locked(settings, config, user.app, lock_timeout) as (backend, state, client):
            done = importing.import_user(config, state, client, user, runtime.now())
            backend.write(state)
        click.echo(f"Imported {address} (onesignal_id {done.live_id}). "
                   + ("It matches the configuration." if not done.differences else
                      f"It differs from the configuration: the next plan updates it "
                      f"({done.differences} change{'s' if done.differences != 1 else ''})."))
        return 0
    segment = importing.declared_segment(config, address, segment_id)
    assert segment_id is not None  # declared_segment refuses an import without one
    with _locked(settings, config, segment.app, lock_timeout) as (backend, state, client):
        done = importing.import_segment(config, state, client, segment, segment_id, runtime.now())
        backend.write(state)
    click.echo(f"Imported {address} (id {segment_id}). "
               + ("Its live filters match the configuration." if not done.differences else
                  "Its live filters differ from the configuration: the next plan replaces it."))
    return 0


@contextmanager
def _locked(settings: Settings, config: Config, app_alias: str,
            lock_timeout: float) -> Iterator[tuple[StateBackend, State, OneSignalClient]]:
    """The state backend under the import lock, its state (new if none yet) and the app's client."""
    from osctl import runtime
    from osctl.state import open_backend
    from osctl.state.model import State

    backend = open_backend(config)
    with backend.lock("import", lock_timeout), \
            runtime.clients(config, settings.resolved_api_url, apps=[app_alias],
                            verbose=settings.verbose > 0) as clients:
        yield backend, backend.read() or State.new(), clients[app_alias]
