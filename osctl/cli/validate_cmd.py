from __future__ import annotations

import json

import click

from osctl.cli.options import Settings, global_options, pass_settings
from osctl.config.loader import Analysis, load
from osctl.errors import ConfigError


@click.command()
@global_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the same problems as objects, for scripts.")
@pass_settings
def validate(settings: Settings, fmt: str) -> int:
    """Check the configuration offline and report every problem at once."""
    try:
        analysis = load(settings.config_path)
    except ConfigError as exc:  # no directory to read: still answer in the format asked for
        if fmt != "json":
            raise
        analysis = Analysis(None, exc.diagnostics)
    if fmt == "json":
        click.echo(json.dumps({
            "valid": analysis.config is not None,
            "error_count": len(analysis.errors),
            "warning_count": len(analysis.diagnostics) - len(analysis.errors),
            "diagnostics": [d.to_dict() for d in analysis.diagnostics],
        }, indent=2))
        return 0 if analysis.config is not None else 1
    if analysis.config is None:
        raise ConfigError(analysis.diagnostics)
    if settings.quiet:  # -q: only errors
        return 0
    for diagnostic in analysis.diagnostics:  # warnings only at this point
        click.echo(diagnostic.format(), err=True)
    config = analysis.config
    users = f", {len(config.test_users)} test user(s)" if config.test_users else ""
    click.echo(f"Configuration is valid: {len(config.apps)} app(s), {len(config.segments)} segment(s), "
               f"{len(config.exports)} export(s){users}.")
    return 0
