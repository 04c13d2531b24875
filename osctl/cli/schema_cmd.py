from __future__ import annotations

import json

import click

from osctl.cli.options import global_options
from osctl.config.schema import load_schema


@click.command()
@global_options
@click.argument("which", type=click.Choice(["config", "plan"]), default="config")
def schema(which: str) -> int:
    """Print the JSON Schema of the config files or of the JSON plan."""
    click.echo(schema_text(which), nl=False)
    return 0


def schema_text(which: str) -> str:
    """The schema as `osctl schema` prints it (and `osctl init` writes it)."""
    return json.dumps(load_schema("osctl" if which == "config" else "plan"), indent=2) + "\n"
