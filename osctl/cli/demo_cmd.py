from __future__ import annotations

import click

from osctl.cli.options import global_options


@click.command()
@global_options
@click.option("--keep", is_flag=True, help="Keep the temporary config directory and state.")
def demo(keep: bool) -> int:
    """Walk through validate, plan, apply and a replace against a built-in emulator."""
    from osctl.demo import run_demo

    return run_demo(keep=keep)
