from __future__ import annotations

import signal
import threading
import uuid

import click

from osctl.cli.options import Settings, global_options, pass_settings


def _parse_app(value: str) -> tuple[str, str, str]:
    """APP_ID=KEY[@ACCOUNT]"""
    app_id, sep, rest = value.partition("=")
    if not sep or not rest:
        raise click.BadParameter(f"expected APP_ID=KEY[@ACCOUNT], got {app_id!r}=...")
    try:
        app_id = str(uuid.UUID(app_id))
    except ValueError:
        raise click.BadParameter(f"app id {app_id!r} is not a UUID") from None
    key, at, account = rest.rpartition("@") if "@" in rest else (rest, "", "default")
    if not key or (at and not account):
        raise click.BadParameter(f"expected APP_ID=KEY[@ACCOUNT] for app {app_id}")
    return app_id, key, account


@click.command()
@global_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4010, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--app", "apps", multiple=True, metavar="APP_ID=KEY[@ACCOUNT]",
              help="An app and its API key (repeatable). Without it, a demo app is created and printed.")
@click.option("--messages", default=5, show_default=True, type=click.IntRange(0), help="Seeded messages per app.")
@click.option("--audience", default=1000, show_default=True, type=click.IntRange(0),
              help="Synthetic subscriptions per app.")
@click.option("--export-rate", default=2000.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="CSV export generation speed, records per second of emulator time.")
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0),
              help="Delay added to every API answer.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the synthetic data.")
@pass_settings
def emulator(settings: Settings, host: str, port: int, apps: tuple[str, ...], messages: int, audience: int,
             export_rate: float, latency_ms: int, seed: int) -> int:
    """Serve a local, stateful OneSignal-compatible API until interrupted."""
    from osctl.emulator import Emulator  # imported here: `osctl --help` must stay light

    emu = Emulator(seed=seed, messages=messages, audience=audience, export_rate=export_rate,
                   latency_ms=latency_ms)
    for value in apps:
        app_id, key, account = _parse_app(value)
        emu.add_app(app_id, key, account=account)
    try:
        emu.start(host=host, port=port, verbose=settings.verbose > 0)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"listening on {emu.url}")
    if emu.demo_app is not None:
        # a throwaway key for the local emulator, printed so the demo can be used at once
        click.echo(f"demo app id:  {emu.demo_app.app_id}")
        click.echo(f"demo app key: {emu.demo_app.api_key}")
    if not settings.quiet:
        click.echo(f"control API:  {emu.url}/_emulator/  (Ctrl-C to stop)")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0
