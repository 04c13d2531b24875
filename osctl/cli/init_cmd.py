from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from osctl.cli.options import Settings, global_options, pass_settings
from osctl.cli.schema_cmd import schema_text
from osctl.config.loader import config_files
from osctl.errors import OsctlError
from osctl.fileio import write_atomic
from osctl.shell import osctl_command

CONFIG_NAME = "osctl.yaml"
# The config's JSON Schema, beside it for editors: the template's first line points here
# (relative to the YAML file, so it works offline). Not *.yaml, so never read as config.
SCHEMA_NAME = "osctl.schema.json"
# Local state (.osctl/state.json and its backup and lock) and downloaded export files.
GITIGNORE_HEADER = "# osctl: local state and export files"
GITIGNORE_LINES = (".osctl/", "exports/")


@click.command()
@global_options
@click.argument("directory", required=False, metavar="[DIR]")
@pass_settings
def init(settings: Settings, directory: str | None) -> int:
    """Write a commented starter config and .gitignore lines into DIR (default: -c or .)."""
    target = Path(directory) if directory else settings.config_path
    config = target / CONFIG_NAME
    if config.exists():
        raise OsctlError(f"{config} already exists; init never overwrites a config "
                         "(edit it, or run 'osctl init NEW_DIR')")
    if target.is_dir():
        others = [p.name for p in config_files(target)]
        if others:
            raise OsctlError(f"{target} already holds YAML files ({', '.join(others)}); osctl reads every "
                             "*.yaml there as config, so init only writes into a directory without any "
                             "(try 'osctl init osctl/')")
    try:
        template = resources.files("osctl.templates").joinpath(CONFIG_NAME).read_text(encoding="utf-8")
        target.mkdir(parents=True, exist_ok=True)
        added = _extend_gitignore(target / ".gitignore")  # first: a failure here leaves no config behind
        write_atomic(target / SCHEMA_NAME, schema_text("config"))  # osctl's own file: refreshed if there
        with open(config, "x", encoding="utf-8") as handle:  # "x": never clobber, even in a race
            handle.write(template)
    except OSError as exc:
        raise OsctlError(f"cannot write into {target}: {exc.strerror or exc}") from exc
    if not settings.quiet:
        click.echo(f"Wrote {config} and {target / SCHEMA_NAME} (the schema editors check it against)")
        if added:
            click.echo(f"Added {', '.join(added)} to {target / '.gitignore'}")
        validate = osctl_command("validate", *(() if target == Path(".") else ("-c", str(target))))
        click.echo(f"Next: put your App ID in {config}, export ONESIGNAL_API_KEY, then run: {validate}")
    return 0


def _extend_gitignore(path: Path) -> list[str]:
    """Append the lines .gitignore lacks (`/.osctl` counts as `.osctl/`); return those added."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.strip().strip("/") for line in existing.splitlines()}
    missing = [line for line in GITIGNORE_LINES if line.strip("/") not in present]
    if not missing:
        return []
    addition = "\n" if existing and not existing.endswith("\n") else ""
    if GITIGNORE_HEADER not in present:
        addition += ("\n" if existing else "") + GITIGNORE_HEADER + "\n"
    addition += "".join(line + "\n" for line in missing)
    with open(path, "a", encoding="utf-8") as handle:  # append: the user's lines are never rewritten
        handle.write(addition)
    return missing
