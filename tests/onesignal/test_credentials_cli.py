"""What a new user sees when the key, the app id or the API URL is wrong: one line saying what
to check, exit 1, never the key."""

from __future__ import annotations

import socket
import textwrap

import pytest

from osctl.config.model import PLACEHOLDER_APP_ID
from osctl.onesignal import OneSignalClient, RetriesExhausted
from tests.helpers import run_osctl
from tests.onesignal.conftest import API_KEY, APP_ID, FakeTime


def _config(directory, app_id: str, key_env: str | None = None) -> None:
    env_line = f"\n    api_key_env: {key_env}" if key_env else ""
    (directory / "osctl.yaml").write_text(textwrap.dedent(f"""\
        osctl: 1
        apps:
          prod:
            app_id: {app_id}""") + env_line + textwrap.dedent("""
        segments:
          - name: Active US
            filters: [{field: country, relation: "=", value: US}]
        """))


def test_an_empty_key_is_empty_not_unset(tmp_path, emulator):
    _config(tmp_path, emulator.app_id)
    empty = run_osctl("-c", str(tmp_path), "plan", env={**emulator.env(), "ONESIGNAL_API_KEY": ""})
    assert empty.exit_code == 1
    assert empty.stderr.startswith("Error: environment variable ONESIGNAL_API_KEY is empty: it must hold "
                                   "the App API key of app 'prod'")
    unset = run_osctl("-c", str(tmp_path), "plan", env={**emulator.env(), "ONESIGNAL_API_KEY": None})
    assert unset.exit_code == 1 and "environment variable ONESIGNAL_API_KEY is not set:" in unset.stderr


def test_the_variable_the_config_names_is_the_one_reported(tmp_path, emulator):
    _config(tmp_path, emulator.app_id, key_env="PROD_ONESIGNAL_KEY")
    result = run_osctl("-c", str(tmp_path), "plan", env={**emulator.env(), "PROD_ONESIGNAL_KEY": "  "})
    assert result.exit_code == 1
    assert "environment variable PROD_ONESIGNAL_KEY is empty" in result.stderr


def test_a_refused_key_names_the_variable_and_the_app_id(tmp_path, emulator):
    _config(tmp_path, emulator.app_id, key_env="PROD_ONESIGNAL_KEY")
    result = run_osctl("-c", str(tmp_path), "plan", env={**emulator.env(), "PROD_ONESIGNAL_KEY": "wrong-key-123"})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "403 Forbidden" in result.stderr
    assert result.stderr.rstrip().endswith(
        f"Check that PROD_ONESIGNAL_KEY holds the App API key of app 'prod' and that its app_id "
        f"{emulator.app_id} is right (the all-zero app_id 'osctl init' writes is a placeholder to replace).")
    assert "wrong-key-123" not in result.output


def test_a_403_for_the_init_placeholder_says_to_replace_the_app_id(tmp_path, emulator):
    _config(tmp_path, PLACEHOLDER_APP_ID)
    result = run_osctl("-c", str(tmp_path), "plan", env=emulator.env())
    assert result.exit_code == 1
    assert "403 Forbidden" in result.stderr
    assert (f"App 'prod' still has the placeholder app_id {PLACEHOLDER_APP_ID} that 'osctl init' writes: "
            "replace it with your App ID (dashboard > Settings > Keys & IDs), and check that "
            "ONESIGNAL_API_KEY holds that app's App API key.") in result.stderr
    assert emulator.api_key not in result.output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed when the block ends: nothing listens there


def test_a_network_error_names_the_api_base_url_not_the_key():
    url = f"http://127.0.0.1:{_closed_port()}"
    fake = FakeTime()
    with OneSignalClient(f"{url}/?token=abc", API_KEY, sleep=fake.sleep, clock=fake.clock,
                         rng=lambda: 0.5) as client, pytest.raises(RetriesExhausted) as caught:
        client.list_segments(APP_ID)
    text = str(caught.value)
    assert text.startswith(f"could not reach {url}: list segments of app 5eb5a37e… (offset 0): GET /apps/")
    assert "gave up after 6 attempts" in text and caught.value.status is None
    assert "token=abc" not in text and API_KEY not in text


def test_a_url_without_a_scheme_is_named_as_given(tmp_path, emulator):
    _config(tmp_path, emulator.app_id)
    result = run_osctl("-c", str(tmp_path), "plan", "--api-url", "api.onesignal.com", env=emulator.env())
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: could not reach api.onesignal.com: list segments of app ")
    assert "internal error" not in result.output
