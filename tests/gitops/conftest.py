"""A repository like the one the CI examples are written for, against the emulator.

`project` is a temporary checkout: the quickstart config in the directory the
workflows name (OSCTL_CONFIG), pointed at the emulator's app, with its state
in PostgreSQL (`state: {backend: postgres, dsn_env: OSCTL_STATE_DSN}`) as the
examples expect, and the policy example copied to ci/check_plan.py. The
database role logs in with a password, so the tests can check that the DSN
never shows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.gitops.ci import REPO, load_gitlab, load_workflow
from tests.state.pg_server import PASSWORD, PASSWORD_ROLE, new_workspace, shared_server

QUICKSTART = REPO / "osctl" / "examples" / "quickstart"
QUICKSTART_APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"


@dataclass
class Project:
    workspace: Path  # the repository checkout; CI jobs run here
    config_dir: Path
    emulator: object
    dsn: str

    @property
    def config_file(self) -> Path:
        return self.config_dir / "osctl.yaml"

    @property
    def secrets(self) -> dict[str, str]:
        return {"ONESIGNAL_API_KEY": self.emulator.api_key, "OSCTL_STATE_DSN": self.dsn}

    def runner_env(self) -> dict[str, str]:
        """What the test adds to a CI job's environment: the emulator instead of
        api.onesignal.com, and osctl's clock set to the emulator's."""
        now = datetime.fromtimestamp(self.emulator.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"ONESIGNAL_API_URL": self.emulator.url, "OSCTL_NOW": now}

    def edit_config(self, old: str, new: str) -> None:
        text = self.config_file.read_text()
        assert old in text, old
        self.config_file.write_text(text.replace(old, new, 1))

    def _api(self) -> httpx.Client:
        return httpx.Client(base_url=self.emulator.url, timeout=10,
                            headers={"Authorization": f"Key {self.emulator.api_key}"})

    def live_segments(self) -> dict[str, dict]:
        """name -> {id, filters} as OneSignal holds them now."""
        with self._api() as api:
            listed = api.get(f"/apps/{self.emulator.app_id}/segments", params={"limit": 300}).json()
            result = {}
            for segment in listed["segments"]:
                view = api.get(f"/apps/{self.emulator.app_id}/segments/{segment['id']}",
                               params={"include-segment-detail": "true"}).json()
                result[segment["name"]] = {"id": segment["id"], "filters": view["payload"]["filters"]}
            return result

    def dashboard_edit(self, name: str, filters: list[dict]) -> None:
        """Change a segment's filters the way someone in the OneSignal dashboard would."""
        segment_id = self.live_segments()[name]["id"]
        with self._api() as api:
            answer = api.patch(f"/apps/{self.emulator.app_id}/segments/{segment_id}", json={"name": name, "filters": filters})
            assert answer.status_code == 200, answer.text


def config_dir_name() -> str:
    names = {load_workflow(name)["env"]["OSCTL_CONFIG"]
             for name in ("pull-request.yml", "apply.yml", "nightly.yml")}
    names.add(load_gitlab()["variables"]["OSCTL_CONFIG"])
    assert len(names) == 1, f"the examples disagree on the config directory: {names}"
    return names.pop()


@pytest.fixture
def state_dsn():
    server = shared_server()
    database = server.new_database()
    with server.admin() as conn:
        conn.execute(f'GRANT CREATE ON DATABASE "{database}" TO {PASSWORD_ROLE}')
    return server.dsn(database, user=PASSWORD_ROLE, password=PASSWORD)


@pytest.fixture
def project(tmp_path, emulator, state_dsn) -> Project:
    workspace = tmp_path / "repo"
    config_dir = workspace / config_dir_name()
    shutil.copytree(QUICKSTART, config_dir)
    config = config_dir / "osctl.yaml"
    config.write_text(config.read_text().replace(QUICKSTART_APP_ID, emulator.app_id))
    # The state block the examples expect, in a file of its own (all *.yaml are merged).
    (config_dir / "state.yaml").write_text(
        f"state:\n  backend: postgres\n  dsn_env: OSCTL_STATE_DSN\n  workspace: {new_workspace()}\n")
    (workspace / "ci").mkdir()
    shutil.copy(REPO / "examples" / "policy" / "check_plan.py", workspace / "ci" / "check_plan.py")
    return Project(workspace, config_dir, emulator, state_dsn)


def secrets_in(text: str, project: Project) -> list[str]:
    """The secrets (or their telling parts) that appear in text: key, DSN, password, export links."""
    found = [name for name, value in project.secrets.items() if value in text]
    if PASSWORD in text:
        found.append("the database password")
    if "/_files/" in text:  # the emulator's export links are bearer links, like OneSignal's
        found.append("an export download link")
    return found
