"""pyproject.toml's runtime dependencies and extras (postgres, cloud) are exactly what osctl imports,
each with an upper bound."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# distribution name -> the module osctl imports
MODULES = {"pyyaml": "yaml", "psycopg": "psycopg"}
NOT_IMPORTED = {"tzdata"}  # the zone database zoneinfo reads where the OS has none


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "osctl").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "osctl"}


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()


def test_runtime_dependencies_are_what_the_runtime_imports_with_upper_bounds():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = [r for r in project["dependencies"] if _name(r) not in NOT_IMPORTED]
    extras = project["optional-dependencies"]["postgres"] + project["optional-dependencies"]["cloud"]
    declared = {MODULES.get(_name(r), _name(r)) for r in runtime + extras}
    assert declared == _imported_modules()
    assert [r for r in runtime + extras if "<" not in r] == []
