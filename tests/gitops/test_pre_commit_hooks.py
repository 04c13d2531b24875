""".pre-commit-hooks.yaml: its hooks run as pre-commit runs them (entry + args, no file
names, from the repository root) and pass or fail as a user would expect."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml

from tests.gitops.conftest import REPO

HOOKS = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}


def run_hook(hook_id: str, cwd, *args: str) -> subprocess.CompletedProcess:
    """What pre-commit executes for a `language: python` hook with pass_filenames: false."""
    command = shlex.split(HOOKS[hook_id]["entry"]) + list(args)
    assert command[0] == "osctl"
    # pre-commit puts the hook repository's console scripts on PATH; here, this checkout's.
    return subprocess.run([sys.executable, "-m", "osctl", *command[1:]], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})


def test_the_hooks_are_declared_for_pre_commit():
    assert set(HOOKS) == {"osctl-validate", "osctl-fmt"}
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "osctl" in scripts  # what `entry: osctl ...` runs once pre-commit has installed the repo
    for hook in HOOKS.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        files = re.compile(hook["files"])
        assert files.search("osctl.yaml") and files.search("onesignal/segments.yml")
        assert not files.search("README.md") and not files.search("osctl.yaml.orig")
    assert HOOKS["osctl-validate"]["entry"].split()[:2] == ["osctl", "validate"]
    assert HOOKS["osctl-fmt"]["entry"].split()[:3] == ["osctl", "fmt", "--check"]


@pytest.mark.parametrize("example", ["quickstart", "multi-app"])
def test_both_hooks_pass_on_the_examples(tmp_path, example):
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / example, repo)
    for hook_id in HOOKS:
        done = run_hook(hook_id, repo)
        assert done.returncode == 0, f"{hook_id}: {done.stdout}{done.stderr}"


def test_fmt_fails_on_a_badly_formatted_file_and_validate_on_an_invalid_one(tmp_path):
    repo = tmp_path / "repo"
    config = repo / "onesignal"  # the config in a subdirectory: args: [-c, onesignal]
    shutil.copytree(REPO / "examples" / "quickstart", config)
    path = config / "osctl.yaml"
    original = path.read_text()
    path.write_text(original.replace("      - {field: language", "      -    {field: language"))

    fmt = run_hook("osctl-fmt", repo, "-c", "onesignal")
    assert fmt.returncode == 1 and "osctl.yaml" in fmt.stdout + fmt.stderr
    assert "-      -    {field: language" in fmt.stdout  # --diff shows what to change
    assert run_hook("osctl-validate", repo, "-c", "onesignal").returncode == 0
    assert path.read_text() != original  # a check never rewrites the file

    path.write_text(original.replace('relation: "="', 'relation: "~="', 1))
    invalid = run_hook("osctl-validate", repo, "-c", "onesignal")
    assert invalid.returncode == 1
    assert re.search(r"osctl\.yaml:\d+:\d+: .*relation", invalid.stdout + invalid.stderr)
