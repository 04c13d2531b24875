"""`osctl demo`: the whole workflow against an in-process emulator, narrated.

validate -> plan -> apply (segments, then due exports) -> plan (no changes) -> edit a
segment -> plan and apply (replace: new id) -> edit it with update: in_place -> plan and
apply (update in place: same id).
Everything happens in a temporary copy of examples/quickstart; nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import click

DEMO_KEY_ENV = "ONESIGNAL_API_KEY"
EDIT_FROM = "{field: country, relation: \"=\", value: US}"
EDIT_TO = "{field: country, relation: \"=\", value: CA}"
EDIT_IN_PLACE = "{field: country, relation: \"=\", value: GB}"
EDIT_ANCHOR = "    description: US users active in the last 3 days, plus every VIP\n"
EDITED_ADDRESS = "segment.demo.Active US or VIP"


def quickstart_dir() -> Path:
    return Path(str(resources.files("osctl").joinpath("examples", "quickstart")))


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _step(number: int, title: str, explanation: str) -> None:
    click.echo("")
    click.secho(f"== Step {number}: {title}", bold=True)
    click.echo(explanation)
    click.echo("")


def _osctl(*args: str) -> int:
    from osctl.cli import cli
    from osctl.errors import OsctlError

    click.secho("$ osctl " + " ".join(args), fg="cyan")
    try:
        return cli.main(args=list(args), prog_name="osctl", standalone_mode=False) or 0
    except OsctlError as exc:
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code


def _segment_id(config_dir: Path, address: str) -> str | None:
    from osctl.config.loader import load_or_fail
    from osctl.state import open_backend

    state = open_backend(load_or_fail(config_dir)).read()
    record = state.segments.get(address) if state else None
    return record.id if record else None


def run_demo(keep: bool = False) -> int:
    from osctl.config.loader import load_or_fail
    from osctl.emulator import Emulator

    workdir = Path(tempfile.mkdtemp(prefix="osctl-demo-"))
    config_dir = workdir / "quickstart"
    shutil.copytree(quickstart_dir(), config_dir)
    config = load_or_fail(config_dir)
    app = next(iter(config.apps.values()))
    key = "demo-" + os.urandom(12).hex()
    emulator = Emulator(seed=7, messages=5, audience=2000)
    emulator.add_app(app.app_id, key, account=app.account)
    emulator.start(host="127.0.0.1", port=0)
    try:
        with _environment(**{app.api_key_env: key, "ONESIGNAL_API_URL": emulator.url}):
            click.echo(f"A OneSignal emulator is serving app {app.app_id} at {emulator.url}.")
            click.echo(f"The configuration is a copy of examples/quickstart in {config_dir}.")
            c = ("-c", str(config_dir))
            _step(1, "validate", "Check the YAML offline: schema, filter grammar, references, schedules.")
            if _osctl("validate", *c):
                return 1
            _step(2, "plan", "Compare the configuration with state (none yet) and the live app; "
                  "list the exports whose schedule is due.")
            _osctl("plan", *c)
            _step(3, "apply", "Create the segments, then run the due exports: request, wait for the "
                  "file, download, verify (gzip, CSV header, rows, sha256). State is written after "
                  "every operation.")
            if _osctl("apply", *c, "--auto-approve"):
                return 1
            _osctl("exports", "status", *c)
            _step(4, "plan again", "Nothing changed and the exports satisfied their latest tick, so there "
                  "is nothing to do.")
            _osctl("plan", *c)
            _step(5, "edit", f"Change the first segment's country filter in osctl.yaml: {EDIT_FROM} -> {EDIT_TO}")
            path = config_dir / "osctl.yaml"
            path.write_text(path.read_text().replace(EDIT_FROM, EDIT_TO, 1))
            _step(6, "plan the edit", "By default (segment_updates: replace) a changed segment is deleted and "
                  "created again, and gets a new id. The plan says so.")
            _osctl("plan", *c, "--no-exports")
            _step(7, "apply the replace", "The segment is deleted and created again under a new id.")
            if _osctl("apply", *c, "--auto-approve", "--no-exports"):
                return 1
            before = _segment_id(config_dir, EDITED_ADDRESS)
            _step(8, "update in place", "With 'update: in_place' (or 'segment_updates: in_place' on the app) a "
                  "changed segment is updated with one call and keeps its id, so campaigns and Journeys that "
                  f"use it keep working. In osctl.yaml: add 'update: in_place' to it, and {EDIT_TO} -> "
                  f"{EDIT_IN_PLACE}")
            path.write_text(path.read_text().replace(EDIT_TO, EDIT_IN_PLACE, 1)
                            .replace(EDIT_ANCHOR, EDIT_ANCHOR + "    update: in_place\n", 1))
            _osctl("plan", *c, "--no-exports")
            if _osctl("apply", *c, "--auto-approve", "--no-exports"):
                return 1
            after = _segment_id(config_dir, EDITED_ADDRESS)
            click.echo(f"Segment id before the update: {before}; after: {after}"
                       + (" (unchanged)." if before == after else " (changed!)."))
            click.echo("")
            click.echo("That is the workflow: review 'osctl plan' in a pull request, run 'osctl apply' from CI.")
            click.echo("Try it yourself: 'osctl emulator' serves the same API until you stop it.")
    finally:
        emulator.stop()
        if keep:
            click.echo(f"(kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0
