"""The GitHub Actions examples' shell steps, run against the emulator and PostgreSQL.

A repository's life: a pull request is planned and commented on, merged and
applied; the nightly run finds nothing to report, then finds a dashboard edit
(drift) and runs the exports that are due without touching the segments; a
bad pull request (a protected segment replaced, a badly formatted file) fails
its check. Each step must exit as the workflow relies on.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.gitops.ci import (
    GithubContext,
    github_steps,
    invokes_osctl,
    load_workflow,
    nightly_tick_day,
    osctl_command_lines,
    run_github_step,
    step_env,
    triggers,
)
from tests.gitops.conftest import REPO, secrets_in

HARNESS = Path(__file__).with_name("github_script.cjs")
PLAN_SCHEMA = json.loads((REPO / "osctl" / "schemas" / "plan.schema.json").read_text())
PR_NUMBER = 17


def run_workflow(project, name: str, context: GithubContext) -> dict:
    """Run the workflow's steps that call osctl or read its plan; name -> StepResult."""
    results = {}
    for step in github_steps(name):
        if invokes_osctl(step.script) or "plan.json" in step.script:
            results[step.name] = run_github_step(step, context, workspace=project.workspace,
                                                 extra_env=project.runner_env())
    return results


def assert_exits(results: dict, expected: dict) -> None:
    assert set(results) == set(expected), (
        f"the workflow's osctl steps are now {sorted(results)}; teach this test what they must exit with")
    got = {name: result.exit_code for name, result in results.items()}
    details = "\n".join(f"--- {name} (exit {r.exit_code})\n{r.output}" for name, r in results.items())
    assert got == expected, details


def outcomes(results: dict) -> dict[str, str]:
    """steps.<id>.outcome of the checks, as the runner would set them."""
    return {key: "success" if results[name].exit_code == 0 else "failure"
            for key, name in (("validate", "osctl validate"), ("fmt", "osctl fmt --check"), ("plan", "osctl plan"))}


def post_comment(workspace: Path, context: GithubContext, step_outcomes: dict[str, str], comments: list) -> dict:
    """Run the comment step (actions/github-script) with node; returns the harness state."""
    step = next(s for s in github_steps("pull-request.yml") if s.uses.startswith("actions/github-script"))
    context.steps.update({f"{key}.outcome": value for key, value in step_outcomes.items()})
    script = workspace.parent / "comment.js"
    script.write_text(step.raw["with"]["script"])
    state_file = workspace.parent / "comments.json"
    state_file.write_text(json.dumps({"comments": comments, "context": {
        "repo": {"owner": "acme", "repo": "segments"}, "issue": {"number": PR_NUMBER},
        "payload": {"pull_request": {"head": {"sha": "0123456789abcdef"}}},
        "serverUrl": "https://github.com", "runId": 4242}}))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", **step_env(step, context)}
    done = subprocess.run(["node", str(HARNESS), str(script), str(state_file)], cwd=workspace,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(state_file.read_text())


needs_tools = pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("node") is None,
    reason="jq (preinstalled on GitHub runners) and node (to run the github-script step) are needed")


def test_workflows_trigger_as_documented():
    assert "pull_request" in triggers(load_workflow("pull-request.yml"))
    apply = load_workflow("apply.yml")
    assert triggers(apply)["push"]["branches"] == ["main"]
    nightly = load_workflow("nightly.yml")
    assert "schedule" in triggers(nightly)
    # Writers share one concurrency group and are never cancelled half-way.
    writers = [apply["concurrency"], nightly["jobs"]["exports"]["concurrency"]]
    assert {w["group"] for w in writers} == {apply["concurrency"]["group"]}
    assert all(w["cancel-in-progress"] is False for w in writers)


def test_secrets_come_only_from_repository_secrets():
    for name in ("pull-request.yml", "apply.yml", "nightly.yml"):
        for step in github_steps(name):
            for key in ("ONESIGNAL_API_KEY", "OSCTL_STATE_DSN"):
                if key in step.env:
                    assert step.env[key] == f"${{{{ secrets.{key} }}}}", (name, step.name)
            if invokes_osctl(step.script) and any(" plan" in c or " apply" in c
                                                  for c in osctl_command_lines(step.script)):
                assert "ONESIGNAL_API_KEY" in step.env and "OSCTL_STATE_DSN" in step.env, (name, step.name)


@needs_tools
def test_a_repository_life_on_github_actions(project):
    context = GithubContext(secrets=project.secrets)

    # 1. A pull request adds the config: every check passes and the plan is saved.
    pr = run_workflow(project, "pull-request.yml", context)
    assert_exits(pr, {"osctl validate": 0, "osctl fmt --check": 0, "osctl plan": 0,
                      "Refuse plans that apply would refuse": 0, "Policy check": 0})
    plan = json.loads((project.workspace / "plan.json").read_text())
    jsonschema.validate(plan, PLAN_SCHEMA)
    assert plan["summary"]["create"] == 3 and plan["format_version"] == "1"
    markdown = (project.workspace / "plan.md").read_text()
    assert "Plan: 3 to create" in markdown
    for result in pr.values():
        assert not secrets_in(result.output, project), result.name

    posted = post_comment(project.workspace, context, outcomes(pr), comments=[])
    assert [c["method"] for c in posted["calls"]] == ["listComments", "createComment"]
    (comment,) = posted["comments"]
    assert "Plan: 3 to create" in comment["body"] and "<!-- osctl-plan: " in comment["body"]
    assert not secrets_in(comment["body"], project)

    # 2. Merged: apply creates the segments (and runs the exports due now).
    applied = run_workflow(project, "apply.yml", context)
    assert_exits(applied, {"osctl apply": 0})
    live = project.live_segments()
    assert {"Active US or VIP", "Power users", "Berlin German speakers"} <= set(live)
    assert not secrets_in(applied["osctl apply"].output, project)

    # 3. The next night: no drift; the exports due since are written.
    project.emulator.advance(86400)
    nightly = run_workflow(project, "nightly.yml", context)
    assert_exits(nightly, {"Drift check": 0, "Run due exports": 0})
    assert nightly["Drift check"].outputs["exit-code"] == "0"
    assert "Exports: 2 succeeded" in nightly["Run due exports"].output
    assert not secrets_in(nightly["Run due exports"].output, project)
    # the file is named after the schedule tick it satisfies ("0 3 * * *"), which is the
    # day before OSCTL_NOW's date between 00:00 and 03:00 UTC
    day = nightly_tick_day(project.runner_env()["OSCTL_NOW"])
    assert (project.config_dir / "exports" / "demo" / "nightly-active-us" / f"{day}.csv.gz").is_file()

    # 4. Someone edits a segment in the dashboard: the drift check fails and
    #    says so; the exports job leaves the segment as it is.
    edited = [{"field": "language", "relation": "=", "value": "fr"}]
    project.dashboard_edit("Berlin German speakers", edited)
    before = project.live_segments()["Berlin German speakers"]
    nightly = run_workflow(project, "nightly.yml", context)
    assert_exits(nightly, {"Drift check": 2, "Run due exports": 0})
    assert nightly["Drift check"].outputs["exit-code"] == "2"
    assert "drifted" in nightly["Drift check"].summary
    assert "Berlin German speakers" in nightly["Drift check"].summary
    assert project.live_segments()["Berlin German speakers"] == before
    assert before["filters"] == edited

    # 5. A pull request that replaces a prevent_destroy segment and is badly
    #    formatted: fmt, the plan (prevent_destroy makes a plan fail, docs/design.md#safety;
    #    the plan file is still saved) and both policy steps fail.
    project.edit_config("value: 3600}", "value: 7200}")
    project.edit_config("      - {field: language", "      -   {field: language")
    pr = run_workflow(project, "pull-request.yml", context)
    assert_exits(pr, {"osctl validate": 0, "osctl fmt --check": 1, "osctl plan": 1,
                      "Refuse plans that apply would refuse": 1, "Policy check": 1})
    assert "prevent_destroy" in pr["Refuse plans that apply would refuse"].stdout
    assert "would reformat" in pr["osctl fmt --check"].stdout
    jsonschema.validate(json.loads((project.workspace / "plan.json").read_text()), PLAN_SCHEMA)

    # The same comment is updated, not a second one added.
    posted = post_comment(project.workspace, context, outcomes(pr), comments=posted["comments"])
    assert [c["method"] for c in posted["calls"]] == ["listComments", "updateComment"]
    (comment,) = posted["comments"]
    assert "Refused by apply" in comment["body"] and "run `osctl fmt`" in comment["body"]
    assert not secrets_in(comment["body"], project)


@needs_tools
def test_the_comment_step_edits_only_its_own_comment(tmp_path):
    """The comment logic on hand-made inputs: failures, a person quoting the marker, size."""
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "validate.txt").write_text("osctl.yaml:3:1: apps: required (valid: ...)\n")
    (workspace / "plan.md").write_text("x" * 70_000)
    context = GithubContext(secrets={})
    human = {"id": 5, "issue_number": PR_NUMBER, "user": {"type": "User"},
             "body": "quoting: <!-- osctl-plan: onesignal -->"}
    other_pr = {"id": 6, "issue_number": PR_NUMBER + 1, "user": {"type": "Bot"},
                "body": "<!-- osctl-plan: onesignal -->\nanother pull request"}

    posted = post_comment(workspace, context, {"validate": "failure", "fmt": "success", "plan": "skipped"},
                          comments=[human, other_pr])
    assert [c["method"] for c in posted["calls"]] == ["listComments", "createComment"]
    mine = posted["comments"][-1]
    assert "osctl validate failed" in mine["body"] and "apps: required" in mine["body"]
    assert posted["comments"][:2] == [human, other_pr]

    # A plan too long for a comment is cut below GitHub's 65,536 characters.
    posted = post_comment(workspace, context, {"validate": "success", "fmt": "success", "plan": "success"},
                          comments=posted["comments"])
    assert [c["method"] for c in posted["calls"]] == ["listComments", "updateComment"]
    assert posted["calls"][1]["params"]["comment_id"] == mine["id"]
    body = posted["comments"][-1]["body"]
    assert len(body) <= 65_536 and "truncated" in body and body.startswith("<!-- osctl-plan: onesignal -->")


def test_every_run_step_is_valid_bash():
    for name in ("pull-request.yml", "apply.yml", "nightly.yml"):
        for step in github_steps(name):
            if step.script:
                checked = subprocess.run(["bash", "-n", "-c", step.script], capture_output=True, text=True)
                assert checked.returncode == 0, f"{name}: {step.name}: {checked.stderr}"
