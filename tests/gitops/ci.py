"""Read the example CI files and run their shell steps, not the CI runners.

GitHub Actions: every `run:` step of a workflow, with the workflow, job and
step `env:` merged and `${{ ... }}` expressions replaced (secrets, vars,
inputs, env and a few github fields; anything else is an error, so a new
expression has to be taught here). Steps run as `shell: bash` does on a
runner: `bash --noprofile --norc -eo pipefail`, with $GITHUB_OUTPUT and
$GITHUB_STEP_SUMMARY files.

GitLab CI: every job's `script:` lines joined into one bash script (one shell,
as the runner does), `extends:` resolved, global and job `variables:` expanded,
plus the predefined CI_* variables a pipeline would set. Which jobs a pipeline
runs is decided by the jobs' `rules: if:` expressions (the small subset these
files use: $VAR == "text", $VAR == $VAR, &&); `changes:` are taken as matched.

Neither runner's install steps are run: `osctl` and `python` resolve to this
checkout's interpreter through a shim directory first on PATH.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
GITHUB_DIR = REPO / "examples" / "ci" / "github-actions"
GITLAB_FILE = REPO / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml"

# osctl in command position: first on the line, or after ; && || | ( then do else.
_OSCTL_COMMAND = re.compile(r"(^\s*|[;&|(]\s*|\b(?:then|do|else)\s+)osctl\s")
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def invokes_osctl(script: str) -> bool:
    """True when a shell script runs osctl (comment lines do not count)."""
    return any(_OSCTL_COMMAND.search(line) for line in script.splitlines()
               if not line.lstrip().startswith("#"))


def osctl_command_lines(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines()
            if _OSCTL_COMMAND.search(line) and not line.lstrip().startswith("#")]


@dataclass
class StepResult:
    name: str
    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def shim_dir(root: Path) -> Path:
    """A directory with `osctl`, `python` and `python3` running this checkout's interpreter."""
    bin_dir = root / "shim-bin"
    bin_dir.mkdir(exist_ok=True)
    for name, command in (("osctl", f'"{sys.executable}" -m osctl'), ("python", f'"{sys.executable}"'),
                          ("python3", f'"{sys.executable}"')):
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        path.chmod(0o755)
    return bin_dir


def base_env(root: Path, extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: no developer settings leak into the examples' runs."""
    home = root / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": f"{shim_dir(root)}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    env.update(extra)
    return env


def run_bash(script: str, *, cwd: Path, env: dict[str, str], login_flags: tuple[str, ...],
             timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", *login_flags, "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


# -- GitHub Actions -------------------------------------------------------------------------


@dataclass
class GithubStep:
    workflow: str
    job: str
    name: str
    raw: dict
    env: dict  # workflow + job + step env, expressions not yet replaced

    @property
    def script(self) -> str:
        """The shell script of a `run:` step ("" for a `uses:` step)."""
        return self.raw.get("run", "")

    @property
    def uses(self) -> str:
        return self.raw.get("uses", "")


def load_workflow(name: str) -> dict:
    return yaml.safe_load((GITHUB_DIR / name).read_text())


def triggers(workflow: dict) -> dict:
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    return workflow.get("on", workflow.get(True)) or {}


def github_steps(name: str) -> list[GithubStep]:
    workflow = load_workflow(name)
    steps = []
    for job_name, job in workflow["jobs"].items():
        for raw in job["steps"]:
            env = {**workflow.get("env", {}), **job.get("env", {}), **raw.get("env", {})}
            steps.append(GithubStep(name, job_name, raw.get("name") or raw.get("id") or raw.get("uses"),
                                    raw, env))
    return steps


@dataclass
class GithubContext:
    """What a run of the workflows would have: secrets, variables, inputs."""

    secrets: dict[str, str]
    vars: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    github: dict[str, str] = field(default_factory=lambda: {"run_id": "4242", "repository": "acme/segments"})
    steps: dict[str, str] = field(default_factory=dict)  # "validate.outcome" -> "success"

    def evaluate(self, expression: str, env: dict[str, str]) -> str:
        head, _, rest = expression.partition(".")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", expression) or not rest:
            raise AssertionError(f"the test does not know the expression ${{{{ {expression} }}}}")
        table = {"secrets": self.secrets, "vars": self.vars, "inputs": self.inputs, "github": self.github,
                 "steps": self.steps, "env": env}.get(head)
        if table is None:
            raise AssertionError(f"the test does not know the expression ${{{{ {expression} }}}}")
        if head in ("secrets", "steps") and rest not in table:
            raise AssertionError(f"the workflow needs {expression}, which the test does not provide")
        return str(table.get(rest, ""))

    def substitute(self, text: str, env: dict[str, str]) -> str:
        return _EXPRESSION.sub(lambda m: self.evaluate(m.group(1), env), str(text))


def step_env(step: GithubStep, context: GithubContext) -> dict[str, str]:
    env: dict[str, str] = {}
    for key, value in step.env.items():
        env[key] = context.substitute(value, env)
    return env


def run_github_step(step: GithubStep, context: GithubContext, *, workspace: Path,
                    extra_env: dict[str, str]) -> StepResult:
    if _EXPRESSION.search(step.script):
        # Expressions pasted into a script are a script-injection risk; the
        # examples pass them through env: instead.
        raise AssertionError(f"{step.workflow}: step {step.name!r} puts ${{{{ }}}} in its script")
    env = step_env(step, context)
    files = workspace.parent / "github-files"
    files.mkdir(exist_ok=True)
    output_file, summary_file = files / "output", files / "summary"
    output_file.write_text("")
    summary_file.write_text("")
    env.update(GITHUB_OUTPUT=str(output_file), GITHUB_STEP_SUMMARY=str(summary_file),
               GITHUB_ACTIONS="true", CI="true")
    # `shell: bash` on a runner is `bash --noprofile --norc -eo pipefail {0}`.
    done = run_bash(step.script, cwd=workspace, env=base_env(workspace.parent, {**extra_env, **env}),
                    login_flags=("--noprofile", "--norc", "-eo", "pipefail"))
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    return StepResult(step.name, done.returncode, done.stdout, done.stderr, outputs, summary_file.read_text())


# -- GitLab CI ------------------------------------------------------------------------------

_GITLAB_RESERVED = {"variables", "workflow", "default", "stages", "include", "image", "services", "cache",
                    "before_script", "after_script"}


def load_gitlab() -> dict:
    return yaml.safe_load(GITLAB_FILE.read_text())


def gitlab_jobs(pipeline: dict) -> dict[str, dict]:
    jobs = {}
    for name, body in pipeline.items():
        if name in _GITLAB_RESERVED or name.startswith("."):
            continue
        jobs[name] = _resolve_extends(pipeline, body)
    return jobs


def _resolve_extends(pipeline: dict, body: dict) -> dict:
    parents = body.get("extends", [])
    merged: dict = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged.update(_resolve_extends(pipeline, pipeline[parent]))
    merged.update({k: v for k, v in body.items() if k != "extends"})
    return merged


def rule_matches(expression: str, variables: dict[str, str]) -> bool:
    """The subset of GitLab's rules:if these examples use: $A == "x", $A == $B, joined by &&."""
    result = True
    for clause in expression.split("&&"):
        match = re.fullmatch(r'\s*\$(\w+)\s*(==|!=)\s*(?:"([^"]*)"|\$(\w+))\s*', clause)
        if not match:
            raise AssertionError(f"the test cannot evaluate the rule {expression!r}")
        left = variables.get(match.group(1), "")
        right = match.group(3) if match.group(3) is not None else variables.get(match.group(4), "")
        result = result and ((left == right) == (match.group(2) == "=="))
    return result


def jobs_for(pipeline: dict, variables: dict[str, str]) -> list[str]:
    """The jobs a pipeline with these predefined variables would contain, in file order."""
    workflow_rules = pipeline.get("workflow", {}).get("rules", [])
    if workflow_rules and not any(rule_matches(r["if"], variables) for r in workflow_rules if "if" in r):
        return []
    chosen = []
    for name, job in gitlab_jobs(pipeline).items():
        rules = job.get("rules")
        if rules is None or any(rule_matches(r["if"], variables) for r in rules if "if" in r):
            chosen.append(name)
    return chosen


def _expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), ""), str(value))


def gitlab_job_env(pipeline: dict, job: dict, predefined: dict[str, str],
                   masked: dict[str, str]) -> dict[str, str]:
    variables = {**predefined, **masked}
    for key, value in {**pipeline.get("variables", {}), **job.get("variables", {})}.items():
        variables[key] = _expand(value, variables)
    return variables


def run_gitlab_job(name: str, pipeline: dict, *, predefined: dict[str, str], masked: dict[str, str],
                   workspace: Path, extra_env: dict[str, str]) -> StepResult:
    job = gitlab_jobs(pipeline)[name]
    script = "\n".join(job["script"])
    env = gitlab_job_env(pipeline, job, predefined, masked)
    # The runner's bash executes the script lines in one shell with -e and pipefail.
    done = run_bash(script, cwd=workspace, env=base_env(workspace.parent, {**extra_env, **env}),
                    login_flags=("--noprofile", "--norc", "-eo", "pipefail"))
    return StepResult(name, done.returncode, done.stdout, done.stderr)


def nightly_tick_day(osctl_now: str) -> str:
    """YYYY-MM-DD of the quickstart's nightly export tick ("0 3 * * *" UTC) at OSCTL_NOW."""
    from datetime import datetime

    from osctl.schedule import latest_tick

    now = datetime.fromisoformat(osctl_now.replace("Z", "+00:00"))
    return latest_tick("0 3 * * *", "UTC", now).strftime("%Y-%m-%d")
