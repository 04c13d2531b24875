from __future__ import annotations

from pathlib import Path

import click

from osctl.cli.options import Settings, global_options, pass_settings
from osctl.cli.planning import PLAN_FORMATS, render_plan
from osctl.errors import OsctlError


@click.command()
@global_options
@click.argument("planfile", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True,
              help="text for people, markdown for a pull-request comment, json for scripts.")
@pass_settings
def show(settings: Settings, planfile: str, fmt: str) -> int:
    """Render a saved plan."""
    from osctl.plan import planfile as planfiles

    try:
        text = Path(planfile).read_text(encoding="utf-8")
    except OSError as exc:
        raise OsctlError(f"cannot read saved plan {planfile}: {exc.strerror}") from None
    click.echo(render_plan(settings, planfiles.loads(text, planfile), fmt), nl=False)
    return 0
