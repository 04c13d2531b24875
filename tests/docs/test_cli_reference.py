"""docs/cli.md (the CLI reference) is what scripts/gen_cli_reference.py makes of the click commands."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from osctl.cli import COMMANDS, cli
from tests.helpers import run_osctl

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "scripts" / "gen_cli_reference.py"
REFERENCE = REPO / "docs" / "cli.md"


def generate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GENERATOR), *args], capture_output=True, text=True, timeout=60)


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_cli_reference", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_the_reference_matches_the_commands():
    checked = generate("--check", str(REFERENCE))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_command_and_every_option_of_its_help_is_in_the_reference():
    text = REFERENCE.read_text()
    leaves = []
    for name in COMMANDS:
        group = cli.get_command(None, name)
        subcommands = getattr(group, "commands", None)
        leaves += [[name, sub] for sub in sorted(subcommands)] if subcommands else [[name]]
    for path in leaves:
        help_text = run_osctl(*path, "--help").stdout
        body = section(text, "osctl " + " ".join(path))
        own = set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", help_text, re.M)) - {
            "--config", "--api-url", "--no-color", "--verbose", "--quiet", "--help"}
        for option in own:
            assert f"`{option}`" in body, f"osctl {' '.join(path)} {option} missing from docs/cli.md"
    shared = section(text, "Options of every command")
    for option in ("--config", "--api-url", "--no-color", "--verbose", "--quiet"):
        assert f"`{option}`" in shared


def test_a_stale_reference_is_caught_and_rewritten(tmp_path):
    page = tmp_path / "cli.md"
    original = REFERENCE.read_text()
    page.write_text(original.replace("`--auto-approve`", "`--yes`"))
    stale = generate("--check", str(page))
    assert stale.returncode == 1
    assert f"run: python scripts/gen_cli_reference.py --write {page}" in stale.stdout
    assert "-| `--yes` | flag |" in stale.stdout
    assert generate("--write", str(page)).returncode == 0
    assert page.read_text() == original


def test_a_changed_option_changes_the_reference(monkeypatch):
    generator = load_generator()
    apply = cli.get_command(None, "apply")
    option = next(p for p in apply.params if p.name == "auto_approve")
    monkeypatch.setattr(option, "help", "Skip the yes question.")
    assert "| `--auto-approve` | flag |  | Skip the yes question. |" in generator.reference()
    assert generator.reference() != REFERENCE.read_text()
