"""The `osctl` command group and its single error boundary.

Subcommands live in their own modules and are imported only when invoked, so
`osctl --help` stays fast (no httpx or jsonschema at startup).
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from osctl import __version__
from osctl.cli.options import Settings, global_options
from osctl.errors import VERBOSE_HINT, ConfigError, OsctlError, describe_bug

# command name -> (module, attribute, one-line help shown by `osctl --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("osctl.cli.init_cmd", "init", "Write a commented starter configuration."),
    "validate": ("osctl.cli.validate_cmd", "validate", "Check the configuration offline."),
    "fmt": ("osctl.cli.fmt_cmd", "fmt", "Rewrite config files in canonical form."),
    "emulator": ("osctl.cli.emulator_cmd", "emulator", "Serve a local OneSignal-compatible API (emulator)."),
    "schema": ("osctl.cli.schema_cmd", "schema", "Print a JSON Schema (config or plan)."),
    "plan": ("osctl.cli.plan_cmd", "plan", "Show what apply would change."),
    "apply": ("osctl.cli.apply_cmd", "apply", "Carry out a plan (or a saved plan file)."),
    "show": ("osctl.cli.show_cmd", "show", "Render a saved plan."),
    "generate": ("osctl.cli.generate_cmd", "generate",
                 "Write declarations and import blocks for unmanaged live segments."),
    "import": ("osctl.cli.import_cmd", "import_segment", "Start managing an existing segment."),
    "demo": ("osctl.cli.demo_cmd", "demo", "Narrated plan/apply walkthrough against a built-in emulator."),
    "exports": ("osctl.cli.exports_cmd", "exports", "Scheduled exports: status, and run them now."),
    "state": ("osctl.cli.state_cmd", "state", "Inspect, repair and move state: list, show, rm, pull, push, migrate."),
    "force-unlock": ("osctl.cli.force_unlock_cmd", "force_unlock", "Remove a stale state lock."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text from the table, so listing commands imports none of them.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="osctl")
@global_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Manage OneSignal segments and CSV export schedules as code."""
    ctx.ensure_object(Settings)


def _verbose_requested(argv: list[str]) -> bool:
    return any(a in ("-v", "--verbose") or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into a message and an exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=argv, prog_name="osctl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 1
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        # click uses 2 for usage errors; osctl keeps 2 for --detailed-exitcode "changes present"
        code = 1
    except ConfigError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(diagnostic.format(), err=True)
        click.echo(f"Error: {exc}", err=True)
        code = exc.exit_code
    except OsctlError as exc:
        click.echo(f"Error: {exc}", err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = 130
    except Exception as exc:  # the boundary: a bug must not show up as a bare traceback
        if _verbose_requested(argv):
            traceback.print_exc()
        click.echo(
            f"Error: {describe_bug(exc)}" + ("" if _verbose_requested(argv) else f" ({VERBOSE_HINT})"),
            err=True,
        )
        code = 1
    sys.exit(code or 0)
