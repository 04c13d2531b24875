"""docs/reference.md (the configuration reference) is what scripts/gen_config_reference.py makes of the schema."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.gitops.conftest import REPO

GENERATOR = REPO / "scripts" / "gen_config_reference.py"
SCHEMA = REPO / "osctl" / "schemas" / "osctl.schema.json"
REFERENCE = REPO / "docs" / "reference.md"


def generate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GENERATOR), *args], capture_output=True, text=True, timeout=30)


def property_names(node) -> set[str]:
    """Every key name the schema declares, at any depth."""
    names = set()
    if isinstance(node, dict):
        names |= set(node.get("properties", {}))
        for value in node.values():
            names |= property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= property_names(value)
    return names


def yaml_keys(node, named_by_user: bool = False) -> set[str]:
    """Config keys used, not the names users choose (app aliases, tag keys, alias labels)."""
    keys = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not named_by_user:
                keys.add(key)
            keys |= yaml_keys(value, named_by_user=(key in ("apps", "tags", "aliases")))
    elif isinstance(node, list):
        for value in node:
            keys |= yaml_keys(value)
    return keys


def reference_keys(text: str) -> set[str]:
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {part for row in rows for part in row.split("`")[1].replace("[]", "").split(".")}


def test_the_readme_reference_matches_the_schema():
    checked = generate("--check", str(REFERENCE))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_reference_names_every_schema_key_and_every_key_the_examples_use():
    listed = reference_keys(generate().stdout)
    assert property_names(json.loads(SCHEMA.read_text())) <= listed
    for config in sorted((REPO / "examples").glob("*/*.yaml")):
        used = yaml_keys(yaml.safe_load(config.read_text()))
        assert used <= listed, f"{config}: {sorted(used - listed)} missing from the reference"


def test_a_stale_reference_is_caught_and_rewritten_in_place(tmp_path):
    readme = tmp_path / "README.md"
    original = REFERENCE.read_text()
    readme.write_text(original.replace("| `state.backend` |", "| `state.backend_kind` |"))
    stale = generate("--check", str(readme))
    assert stale.returncode == 1 and "--write" in stale.stdout and "state.backend_kind" in stale.stdout
    assert generate("--write", str(readme)).returncode == 0
    assert readme.read_text() == original


def test_a_schema_change_makes_the_readme_stale(tmp_path):
    schema = json.loads(SCHEMA.read_text())
    schema["properties"]["state"]["properties"]["schema_name"] = {"type": "string", "description": "new"}
    changed = tmp_path / "osctl.schema.json"
    changed.write_text(json.dumps(schema))
    stale = generate("--check", str(REFERENCE), "--schema", str(changed))
    assert stale.returncode == 1 and "+| `state.schema_name` | string | new |" in stale.stdout
