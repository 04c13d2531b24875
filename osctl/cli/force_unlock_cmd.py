"""`osctl force-unlock LOCK_ID`: remove a lock left by an osctl that died."""

from __future__ import annotations

import click

from osctl.cli.options import Settings, global_options, pass_settings


@click.command("force-unlock")
@global_options
@click.argument("lock_id")
@pass_settings
def force_unlock(settings: Settings, lock_id: str) -> int:
    """Remove the state lock LOCK_ID (shown in the "state is locked" message).

    A local lock file that cannot be read (left empty by a full disk or a killed
    osctl) is removed with LOCK_ID `unreadable`.

    Only for a lock whose holder is gone: removing the lock of a running osctl
    lets two writers change state at once.
    """
    from osctl.config.loader import load_or_fail
    from osctl.state import open_backend

    backend = open_backend(load_or_fail(settings.config_path))
    removed = backend.force_unlock(lock_id) or f"lock {lock_id}"
    if not settings.quiet:
        click.echo(f"Removed {removed} from {backend.description}.")
    return 0
