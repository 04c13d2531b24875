"""The GitLab CI example's jobs, run against the emulator, PostgreSQL and a stand-in GitLab API.

The same repository life as the GitHub test: a merge request is planned and
gets one note; the default branch is applied; the scheduled pipeline reports
no drift, then drift, and runs due exports without touching segments; a bad
merge request fails and the same note is updated.
"""

from __future__ import annotations

import json
import subprocess

import jsonschema
import pytest

from tests.gitops.ci import (
    gitlab_job_env,
    gitlab_jobs,
    invokes_osctl,
    jobs_for,
    load_gitlab,
    nightly_tick_day,
    osctl_command_lines,
    run_gitlab_job,
)
from tests.gitops.conftest import REPO, secrets_in
from tests.gitops.fake_gitlab import FakeGitlab

PLAN_SCHEMA = json.loads((REPO / "osctl" / "schemas" / "plan.schema.json").read_text())
MR_IID = 9
GITLAB_TOKEN = "glpat-project-token-secret"
MARKER = "<!-- osctl-plan: onesignal -->"


def predefined(workspace, source: str, api_url: str = "http://127.0.0.1:9/api/v4") -> dict[str, str]:
    """The variables GitLab sets for a pipeline of this source."""
    values = {"CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": source, "CI_DEFAULT_BRANCH": "main",
              "CI_PROJECT_DIR": str(workspace), "CI_API_V4_URL": api_url, "CI_PROJECT_ID": "123",
              "CI_PROJECT_URL": "https://gitlab.example.com/acme/segments", "CI_JOB_ID": "777",
              "CI_COMMIT_SHORT_SHA": "0123abcd"}
    if source == "merge_request_event":
        values["CI_MERGE_REQUEST_IID"] = str(MR_IID)  # and no CI_COMMIT_BRANCH
    else:
        values["CI_COMMIT_BRANCH"] = "main"
    return values


@pytest.fixture
def gitlab():
    fake = FakeGitlab(token=GITLAB_TOKEN).start()
    yield fake
    fake.stop()


def run_pipeline(project, source: str, masked: dict[str, str], api_url: str | None = None) -> dict:
    pipeline = load_gitlab()
    variables = predefined(project.workspace, source, *([api_url] if api_url else []))
    return {name: run_gitlab_job(name, pipeline, predefined=variables, masked=masked,
                                 workspace=project.workspace, extra_env=project.runner_env())
            for name in jobs_for(pipeline, variables)}


def assert_exits(results: dict, expected: dict) -> None:
    got = {name: result.exit_code for name, result in results.items()}
    details = "\n".join(f"--- {name} (exit {r.exit_code})\n{r.output}" for name, r in results.items())
    assert got == expected, details


def test_pipelines_contain_the_documented_jobs(tmp_path):
    pipeline = load_gitlab()
    assert jobs_for(pipeline, predefined(tmp_path, "merge_request_event")) == ["validate", "fmt", "plan"]
    assert jobs_for(pipeline, predefined(tmp_path, "push")) == ["apply"]
    assert jobs_for(pipeline, predefined(tmp_path, "schedule")) == ["drift", "exports"]
    jobs = gitlab_jobs(pipeline)
    # Writers of state queue behind each other instead of racing for the lock.
    assert jobs["apply"]["resource_group"] == jobs["exports"]["resource_group"]
    # Every job that calls osctl does so from its script, where the test reaches it.
    assert all(invokes_osctl("\n".join(job["script"])) for job in jobs.values())


def test_secrets_come_only_from_masked_variables(tmp_path):
    """No job or global `variables:` entry sets the key, the DSN or the token itself."""
    pipeline = load_gitlab()
    for name, job in gitlab_jobs(pipeline).items():
        env = gitlab_job_env(pipeline, job, predefined(tmp_path, "push"), masked={})
        for secret in ("ONESIGNAL_API_KEY", "OSCTL_STATE_DSN", "OSCTL_GITLAB_TOKEN"):
            assert secret not in env, name
        for line in osctl_command_lines("\n".join(job["script"])):
            assert "--api-key" not in line and "postgresql://" not in line, line


def test_every_job_script_is_valid_bash():
    for name, job in gitlab_jobs(load_gitlab()).items():
        checked = subprocess.run(["bash", "-n", "-c", "\n".join(job["script"])], capture_output=True, text=True)
        assert checked.returncode == 0, f"{name}: {checked.stderr}"


def test_a_repository_life_on_gitlab_ci(project, gitlab):
    masked = {**project.secrets, "OSCTL_GITLAB_TOKEN": GITLAB_TOKEN}
    # Other people's notes: a page and a half of them, one quoting the marker.
    for n in range(120):
        gitlab.add_note(MR_IID, f"review comment {n}", author_id=5)
    gitlab.add_note(MR_IID, f"as the bot said: {MARKER}", author_id=5)

    # 1. A merge request adds the config: the checks pass and one note is written.
    mr = run_pipeline(project, "merge_request_event", masked, gitlab.api_url)
    assert_exits(mr, {"validate": 0, "fmt": 0, "plan": 0})
    jsonschema.validate(json.loads((project.workspace / "plan.json").read_text()), PLAN_SCHEMA)
    (note,) = [n for n in gitlab.notes if n["author"]["id"] == gitlab.bot_id]
    assert note["body"].startswith(MARKER) and "Plan: 3 to create" in note["body"]
    assert not secrets_in(note["body"], project) and GITLAB_TOKEN not in note["body"]
    for result in mr.values():
        assert not secrets_in(result.output, project) and GITLAB_TOKEN not in result.output

    # 2. Merged: the default branch pipeline applies.
    assert_exits(run_pipeline(project, "push", masked), {"apply": 0})
    assert {"Active US or VIP", "Power users", "Berlin German speakers"} <= set(project.live_segments())

    # 3. The nightly schedule: no drift, and the exports due since are written.
    project.emulator.advance(86400)
    scheduled = run_pipeline(project, "schedule", masked)
    assert_exits(scheduled, {"drift": 0, "exports": 0})
    assert "Exports: 2 succeeded" in scheduled["exports"].output
    assert not secrets_in(scheduled["exports"].output, project)
    # the file is named after the schedule tick it satisfies ("0 3 * * *"), which is the
    # day before OSCTL_NOW's date between 00:00 and 03:00 UTC
    day = nightly_tick_day(project.runner_env()["OSCTL_NOW"])
    assert (project.config_dir / "exports" / "demo" / "nightly-active-us" / f"{day}.csv.gz").is_file()

    # 4. A dashboard edit: the drift job fails; the exports job leaves the segment alone.
    project.dashboard_edit("Berlin German speakers", [{"field": "language", "relation": "=", "value": "fr"}])
    before = project.live_segments()["Berlin German speakers"]
    scheduled = run_pipeline(project, "schedule", masked)
    assert_exits(scheduled, {"drift": 2, "exports": 0})
    assert "drift:" in scheduled["drift"].stdout and "Berlin German speakers" in scheduled["drift"].stdout
    assert project.live_segments()["Berlin German speakers"] == before

    # 5. A merge request replacing a prevent_destroy segment, badly formatted:
    #    fmt and plan fail (prevent_destroy makes osctl plan itself fail);
    #    the same note is updated.
    project.edit_config("value: 3600}", "value: 7200}")
    project.edit_config("      - {field: language", "      -   {field: language")
    mr = run_pipeline(project, "merge_request_event", masked, gitlab.api_url)
    assert_exits(mr, {"validate": 0, "fmt": 1, "plan": 1})
    assert "plan fails: prevent_destroy" in mr["plan"].stderr
    (note,) = [n for n in gitlab.notes if n["author"]["id"] == gitlab.bot_id]
    assert "Refused by apply" in note["body"]
    assert [c[0] for c in gitlab.calls].count("PUT") == 1

    # 6. Without the API key (a fork's pipeline): the plan fails and the note says why.
    project.edit_config("value: 7200}", "value: 3600}")
    no_key = {k: v for k, v in masked.items() if k != "ONESIGNAL_API_KEY"}
    mr = run_pipeline(project, "merge_request_event", no_key, gitlab.api_url)
    assert_exits(mr, {"validate": 0, "fmt": 1, "plan": 1})
    (note,) = [n for n in gitlab.notes if n["author"]["id"] == gitlab.bot_id]
    assert "osctl plan failed" in note["body"] and "ONESIGNAL_API_KEY is not set" in note["body"]
    assert gitlab.refused == 0
    assert [n["body"] for n in gitlab.notes if n["author"]["id"] != gitlab.bot_id][-1].startswith("as the bot")


def test_without_a_token_the_plan_job_still_plans(project):
    masked = project.secrets  # no OSCTL_GITLAB_TOKEN
    pipeline = load_gitlab()
    variables = predefined(project.workspace, "merge_request_event")
    result = run_gitlab_job("plan", pipeline, predefined=variables, masked=masked,
                            workspace=project.workspace, extra_env=project.runner_env())
    assert result.exit_code == 0, result.output
    assert "OSCTL_GITLAB_TOKEN is not set" in result.stdout
    assert (project.workspace / "plan.md").read_text().startswith("### osctl plan")
