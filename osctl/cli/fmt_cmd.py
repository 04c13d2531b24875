from __future__ import annotations

import difflib
from pathlib import Path

import click

from osctl.cli.options import Settings, global_options, pass_settings
from osctl.config.fmt import format_yaml
from osctl.config.loader import config_files
from osctl.diagnostics import Diagnostic
from osctl.errors import ConfigError, FormatError, OsctlError
from osctl.fileio import write_atomic


@click.command()
@global_options
@click.option("--check", is_flag=True, help="Change nothing; exit 1 and list the files that are not canonical.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of the changes.")
@pass_settings
def fmt(settings: Settings, check: bool, show_diff: bool) -> int:
    """Rewrite the config files in canonical form, comments and blank lines kept."""
    changes = _formatted_files(settings.config_path)  # every file first: nothing is written on error
    if show_diff:
        for path, old, new in changes:
            click.echo("".join(difflib.unified_diff(
                old.splitlines(keepends=True), new.splitlines(keepends=True),
                fromfile=f"{path} (current)", tofile=f"{path} (formatted)")), nl=False)
    if check:
        for path, _, _ in changes:
            click.echo(f"would reformat {path}")
        if changes:
            raise OsctlError(f"{len(changes)} file(s) not in canonical form; run 'osctl fmt' to rewrite them")
        if not settings.quiet:
            click.echo("All config files are in canonical form.")
        return 0
    for path, _, new in changes:
        _write_atomically(path, new)
        if not settings.quiet:
            click.echo(f"reformatted {path}")
    if not changes and not settings.quiet:
        click.echo("All config files are already in canonical form.")
    return 0


def _formatted_files(directory: Path) -> list[tuple[Path, str, str]]:
    """(path, current text, canonical text) of each file that would change."""
    if not directory.is_dir():
        raise ConfigError([Diagnostic(str(directory), 0, 0, "", "config directory does not exist",
                                      "a directory with *.yaml files (-c DIR or OSCTL_CONFIG)")])
    paths = config_files(directory)  # the files validate reads
    if not paths:
        raise ConfigError([Diagnostic(str(directory), 0, 0, "", "no *.yaml or *.yml files in the config directory",
                                      "run 'osctl init' to write a starter config")])
    changes, problems = [], []
    for path in paths:
        try:
            # newline="" keeps \r\n visible, so the formatter can keep the file's line endings
            with open(path, encoding="utf-8", newline="") as handle:
                text = handle.read()
        except UnicodeDecodeError:
            problems.append(Diagnostic(str(path), 1, 1, "", "file is not UTF-8 text", "a UTF-8 encoded YAML file"))
            continue
        try:
            result = format_yaml(text)
        except FormatError as exc:
            problems.append(Diagnostic(str(path), exc.line, exc.col, "", exc.message, exc.valid))
            continue
        if result.skipped:
            click.echo(f"{path}: warning: left unchanged: {result.skipped}", err=True)
        if result.text != text:
            changes.append((path, text, result.text))
    if problems:
        raise ConfigError(problems)
    return changes


def _write_atomically(path: Path, text: str) -> None:
    """A crash leaves the old file or the new one, never half; the file keeps its mode."""
    path = path.resolve()  # a symlinked config file stays a symlink; its target is rewritten
    try:
        write_atomic(path, text, mode=path.stat().st_mode & 0o7777)
    except OSError as exc:
        raise OsctlError(f"cannot write {path}: {exc.strerror or exc}") from exc
