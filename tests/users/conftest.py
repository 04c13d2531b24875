"""The users' workspace: a config dir with test users, the session emulator, and the live users
through its API (shared by the apply and reliability tests)."""

from __future__ import annotations

import json
import time

import pytest

from tests.segments.conftest import Workspace

RAILS = {"external_id_prefix": "qa-", "email_domains": ["example.com"], "sms_numbers": ["+1555555010*"]}
QA = [{"field": "tag", "key": "qa", "relation": "=", "value": "1"}]


class UsersWorkspace(Workspace):
    def declare(self, users: list[dict], segments: dict[str, list[dict]] | None = None) -> None:
        """The app with guard rails, these test users (and segments); YAML flow style is JSON."""
        lines = ["osctl: 1", "apps:", f"  prod: {{app_id: {self.app_id}, test_users: {json.dumps(RAILS)}}}"]
        if segments:
            lines.append("segments:")
            lines += [f"  - {json.dumps({'name': name, 'filters': filters})}" for name, filters in segments.items()]
        lines.append("test_users:" + ("" if users else " []"))
        lines += [f"  - {json.dumps(user)}" for user in users]
        (self.dir / "osctl.yaml").write_text("\n".join(lines) + "\n")

    def user(self, external_id: str) -> dict | None:
        """The user as OneSignal shows it (user views are limited to about one a second)."""
        while True:
            answer = self.api("GET", f"/apps/{self.app_id}/users/by/external_id/{external_id}")
            if answer.status_code != 429:
                break
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        assert answer.status_code in (200, 404), answer.text
        return None if answer.status_code == 404 else answer.json()

    def make_user(self, external_id: str, *, tags=None, subscriptions=(), **aliases) -> dict:
        """A user created outside osctl, through the API."""
        body = {"identity": {"external_id": external_id, **aliases}, "properties": {"tags": tags or {}},
                "subscriptions": [{"type": kind, "token": token} for kind, token in subscriptions]}
        answer = self.api("POST", f"/apps/{self.app_id}/users", json=body)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def make_anonymous_device(self, kind: str, token: str) -> dict:
        """A push subscription whose user has no external id (an install nobody logged in to)."""
        body = {"identity": {}, "subscriptions": [{"type": kind, "token": token}]}
        answer = self.api("POST", f"/apps/{self.app_id}/users", json=body)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def user_by(self, label: str, value: str) -> dict | None:
        answer = self.api("GET", f"/apps/{self.app_id}/users/by/{label}/{value}")
        assert answer.status_code in (200, 404), answer.text
        return None if answer.status_code == 404 else answer.json()

    def records(self) -> dict:
        if not (self.dir / ".osctl" / "state.json").exists():
            return {}
        return self.state().get("users", {})


@pytest.fixture
def uw(tmp_path, emulator) -> UsersWorkspace:
    return UsersWorkspace(tmp_path, emulator)
