"""`osctl state list|show|rm|mv|pull|push`: inspect and repair state."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from osctl.addresses import USER_PREFIX, export_address, export_name
from osctl.cli.options import Settings, global_options, lock_timeout_option, pass_settings
from osctl.errors import StateError, UsageError
from osctl.shell import osctl_command

if TYPE_CHECKING:
    from osctl.config.model import Config
    from osctl.state.backend import StateBackend
    from osctl.state.model import State


def _open(settings: Settings) -> tuple[Config, StateBackend]:
    from osctl.config.loader import load_or_fail
    from osctl.state import open_backend

    config = load_or_fail(settings.config_path)
    return config, open_backend(config)


def _read_existing(settings: Settings) -> State | None:
    """The current state, or None after saying on stderr that there is none yet."""
    _, backend = _open(settings)
    current = backend.read()
    if current is None and not settings.quiet:
        click.echo(f"No state yet ({backend.description}).", err=True)
    return current


@click.group("state")
@global_options
def state() -> None:
    """Inspect and repair osctl's state."""


@state.command("list")
@global_options
@pass_settings
def list_(settings: Settings) -> int:
    """Print the address of everything in state."""
    current = _read_existing(settings)
    if current is None:
        return 0
    for address in sorted(current.segments):
        click.echo(address)
    for address in sorted(current.users):
        click.echo(address)
    for name in sorted(current.exports):
        click.echo(export_address(name))
    return 0


@state.command("show")
@global_options
@click.argument("address")
@pass_settings
def show(settings: Settings, address: str) -> int:
    """Print one record of the state (export URLs masked)."""
    from osctl.state.describe import describe_export, describe_segment, describe_user
    from osctl.state.edits import find_record, not_in_state
    from osctl.state.model import ExportRecord, UserRecord

    _, backend = _open(settings)
    current = backend.read()
    record = find_record(current, address) if current else None
    if record is None:
        raise not_in_state([address])
    if isinstance(record, UserRecord):
        click.echo(describe_user(record))
        return 0
    click.echo(describe_export(record) if isinstance(record, ExportRecord) else describe_segment(record))
    return 0


@state.command("rm")
@global_options
@click.argument("addresses", nargs=-1, required=True)
@lock_timeout_option
@pass_settings
def rm(settings: Settings, addresses: tuple[str, ...], lock_timeout: float) -> int:
    """Stop managing ADDRESSES: drop them from state, leave OneSignal as it is."""
    from osctl.state.edits import forget

    config, backend = _open(settings)
    wanted = list(dict.fromkeys(addresses))
    with backend.lock("state rm", lock_timeout):
        backend.write(forget(backend.read(), wanted))
    if not settings.quiet:
        for address in wanted:
            click.echo(_removed_message(config, address))
    return 0


@state.command("mv")
@global_options
@click.argument("source")
@click.argument("destination")
@lock_timeout_option
@pass_settings
def mv(settings: Settings, source: str, destination: str, lock_timeout: float) -> int:
    """Manage the segment at SOURCE as DESTINATION (segment.APP.NAME): state only, OneSignal untouched.

    The next plan renames the segment in OneSignal when its name there differs
    (in place, or by replace, as its update strategy says). A test user
    (user.APP.EXTERNAL_ID) moves only to another alias of the same app."""
    from osctl.state.edits import move_segment, move_target

    config, backend = _open(settings)
    if source.startswith(USER_PREFIX) or destination.startswith(USER_PREFIX):
        return _mv_user(settings, config, backend, source, destination, lock_timeout)
    name = move_target(source, destination, config.apps)
    with backend.lock("state mv", lock_timeout):
        backend.write(move_segment(backend.read(), source, destination, name=name))
    if not settings.quiet:
        click.echo(f"Moved {source} to {destination} (state only; OneSignal is unchanged). The next plan "
                   f"renames the segment in OneSignal if its name there is not {name!r}.")
    return 0


def _mv_user(settings: Settings, config: Config, backend: StateBackend, source: str, destination: str, lock_timeout: float) -> int:
    from osctl.addresses import parse_user_address
    from osctl.state.edits import move_user

    if not (source.startswith(USER_PREFIX) and destination.startswith(USER_PREFIX)):
        raise UsageError(f"{source} and {destination}: a test user moves only to another user.APP.EXTERNAL_ID")
    app, external_id = parse_user_address(destination, config.apps)
    with backend.lock("state mv", lock_timeout):
        backend.write(move_user(backend.read(), source, destination, app=app, app_id=config.apps[app].app_id,
                                external_id=external_id))
    if not settings.quiet:
        click.echo(f"Moved {source} to {destination} (state only; OneSignal is unchanged).")
    return 0


def _removed_message(config: Config, address: str) -> str:
    name = export_name(address)
    if name is not None:
        declared = config.export(name) is not None
        return (f"osctl forgot the run history of {address}; files already written stay where they are."
                + (" It is still declared, so the next plan treats it as never run." if declared else ""))
    if address.startswith(USER_PREFIX):
        return _user_removed_message(config, address)
    declared = any(s.address == address for s in config.segments)
    return (f"osctl no longer manages {address}; it stays in OneSignal."
            + (" It is still declared: the next plan will ask you to import it or remove the declaration."
               if declared else ""))


def _user_removed_message(config: Config, address: str) -> str:
    declared = any(u.address == address for u in config.test_users)
    return (f"osctl no longer manages {address}; the user stays in OneSignal as it is."
            + (f" It is still declared: the next plan will ask you to import it "
               f"({osctl_command('import', address)}) or remove the declaration." if declared else ""))


@state.command("pull")
@global_options
@click.option("--reveal-urls", is_flag=True,
              help="Print in-flight export URLs in full (they are bearer links: anyone holding one "
                   "can download the export).")
@pass_settings
def pull(settings: Settings, reveal_urls: bool) -> int:
    """Print the state document as JSON."""
    from osctl.state.model import masked

    current = _read_existing(settings)
    if current is None:
        return 0
    document = (current if reveal_urls else masked(current)).to_dict()
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    return 0


@state.command("push")
@global_options
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--force", is_flag=True,
              help="Replace the state even if FILE belongs to another lineage or is not newer.")
@lock_timeout_option
@pass_settings
def push(settings: Settings, file: str, force: bool, lock_timeout: float) -> int:
    """Replace the state with FILE (a document from `osctl state pull`)."""
    from osctl.state.edits import push_state
    from osctl.state.model import decode_state

    try:
        text = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        pushed = decode_state(text)
    except StateError as exc:
        raise StateError(f"{file}: {exc}") from None
    _, backend = _open(settings)
    with backend.lock("state push", lock_timeout):
        result = push_state(backend, pushed, force=force, source=file)
    if not result.written:
        click.echo(f"The state already matches {file}; nothing written.", err=True)
        return 0
    if not settings.quiet:
        for address in result.dropped:
            click.echo(f"{address}: dropped an in-flight export whose URL was masked; it will be "
                       "requested again.", err=True)
        click.echo(f"Pushed {file}: state is at serial {pushed.serial} (lineage {pushed.lineage}).")
    return 0


@state.command("migrate")
@global_options
@click.option("--to", "to", type=click.Choice(["local", "postgres"]), required=True,
              help="The backend to copy the state to (the other one than the config's).")
@click.option("--workspace", metavar="NAME", default=None,
              help="With --to postgres: the workspace to copy into (default: the config's, else \"default\").")
@click.option("--force", is_flag=True, help="Replace a state the target already holds.")
@lock_timeout_option
@pass_settings
def migrate(settings: Settings, to: str, workspace: str | None, force: bool, lock_timeout: float) -> int:
    """Copy the state to another backend, keeping its lineage and serial; the source stays as it is."""
    from osctl.state.edits import migrate_state, record_counts

    config, source = _open(settings)
    if to == config.state.backend:
        raise UsageError(f"the config already keeps state in {to} ({source.description}); "
                         f"--to names the backend to move it to")
    if workspace is not None and to != "postgres":
        raise UsageError("--workspace only applies with --to postgres")
    target, block = _migration_target(config, to, workspace)
    with source.lock("state migrate", lock_timeout), target.lock("state migrate", lock_timeout):
        result = migrate_state(source, target, force=force)
    if not settings.quiet:
        current = result.state
        done = "Copied state" if result.copied else "Nothing to copy: the target already holds this state"
        click.echo(f"{done} (lineage {current.lineage}, serial {current.serial}, {record_counts(current)})\n"
                   f"  from {source.description}\n  to   {target.description}\n"
                   f"The source is unchanged. Now change the `state:` block of your configuration to:\n\n"
                   f"{block}\n\n"
                   f"{_after_migration(config, to)}")
    return 0


def _migration_target(config: Config, to: str, workspace: str | None) -> tuple[StateBackend, str]:
    from osctl.config.model import DEFAULT_STATE_PATH
    from osctl.state.local import LocalBackend
    from osctl.state.postgres import backend_from_env

    settings = config.state
    if to == "postgres":
        name = workspace or settings.workspace or "default"
        target = backend_from_env(settings.dsn_env, name)
        return target, f"state:\n  backend: postgres\n  dsn_env: {settings.dsn_env}\n  workspace: {name}"
    path = settings.path or DEFAULT_STATE_PATH
    return LocalBackend(Path(config.directory) / path), f"state:\n  backend: local\n  path: {path}"


def _after_migration(config: Config, to: str) -> str:
    if to == "postgres":
        return (f"and set {config.state.dsn_env} to the connection string wherever osctl runs (CI too). Until the "
                "config changes, osctl keeps using the local file; once `osctl plan` works with the new block, "
                "delete the local state so that nobody applies from it.")
    return ("(or remove the block: local is the default). Until the config changes, osctl keeps using "
            "PostgreSQL; keep the state file out of git (`osctl init` adds it to .gitignore).")
