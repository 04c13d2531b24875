"""`osctl plan` and `osctl exports run` against an API answering 200 with the wrong shape: one
clear message naming the endpoint, exit 1, state untouched, never a plan built on an empty list."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.helpers import run_osctl
from tests.onesignal.scripted import ScriptedServer, fixed

SEGMENTS = r"/apps/[^/]+/segments"
US = '[{field: country, relation: "=", value: US}]'


def _config(directory, app_id: str, exports: str = "") -> None:
    (directory / "osctl.yaml").write_text(textwrap.dedent(f"""\
        osctl: 1
        apps:
          prod: {{app_id: {app_id}}}
        segments:
          - name: Active US
            filters: {US}
        """) + exports)


def _state_bytes(directory) -> bytes:
    return (directory / ".osctl" / "state.json").read_bytes()


@pytest.mark.parametrize("body, problem", [
    ({"segments": "nope"}, "segments is a string, expected a list"),
    ([{"id": "x", "name": "Active US"}], "the answer is a list, expected an object"),
    ({"total_count": 1, "segments": [{"id": None, "name": "Active US"}]}, "segments[0].id is null, expected a string"),
    ({"total_count": 1, "segments": [{"id": "x", "name": 7}]}, "segments[0].name is a number, expected a string"),
])
def test_plan_refuses_a_malformed_segment_list(tmp_path, emulator, body, problem):
    _config(tmp_path, emulator.app_id)
    applied = run_osctl("-c", str(tmp_path), "apply", "--auto-approve", env=emulator.env())
    assert applied.exit_code == 0, applied.output
    before = _state_bytes(tmp_path)
    with ScriptedServer([("GET", SEGMENTS, fixed(200, body))]) as server:
        result = run_osctl("-c", str(tmp_path), "plan", env={**emulator.env(), "ONESIGNAL_API_URL": server.url})
    assert result.exit_code == 1
    assert result.stdout == ""  # no plan at all, least of all one re-creating "deleted" segments
    assert result.stderr == (f"Error: list segments of app {emulator.app_id[:8]}… (offset 0): "
                             f"GET /apps/{emulator.app_id}/segments answered 200 OK; unexpected shape: {problem}\n")
    assert _state_bytes(tmp_path) == before


def test_plan_refuses_a_segment_view_whose_filters_are_not_a_list(tmp_path, emulator):
    _config(tmp_path, emulator.app_id)
    assert run_osctl("-c", str(tmp_path), "apply", "--auto-approve", env=emulator.env()).exit_code == 0
    before = _state_bytes(tmp_path)
    (record,) = json.loads(before)["segments"].values()
    listing = {"total_count": 1, "segments": [{"id": record["id"], "name": "Active US"}]}
    view = {"subscriber_count": 3, "payload": {"id": record["id"], "name": "Active US", "filters": {"country": "US"}}}
    with ScriptedServer([("GET", SEGMENTS, fixed(200, listing)),
                         ("GET", SEGMENTS + "/[^/]+", fixed(200, view))]) as server:
        result = run_osctl("-c", str(tmp_path), "plan", env={**emulator.env(), "ONESIGNAL_API_URL": server.url})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.endswith(f"GET /apps/{emulator.app_id}/segments/{record['id']} answered 200 OK; "
                                  "unexpected shape: payload.filters is an object, expected a list\n")
    assert _state_bytes(tmp_path) == before


ADHOC = """\
exports:
  - name: adhoc
    app: prod
    kind: subscriptions
    destination: out/{export}-{tick}.csv.gz
"""


@pytest.mark.parametrize("body, problem", [
    ({"csv_file_url": 12}, "csv_file_url is a number, expected an http(s) URL"),
    (["https://files.invalid/x.csv.gz"], "the answer is a list, expected an object"),
    ({"success": True}, "the answer has no 'csv_file_url'"),
])
def test_exports_run_refuses_a_malformed_export_answer(tmp_path, emulator, body, problem):
    _config(tmp_path, emulator.app_id, ADHOC)
    assert run_osctl("-c", str(tmp_path), "apply", "--auto-approve", "--no-exports",
                     env=emulator.env()).exit_code == 0
    before = _state_bytes(tmp_path)
    with ScriptedServer([("POST", "/players/csv_export", fixed(200, body))]) as server:
        result = run_osctl("-c", str(tmp_path), "exports", "run", "adhoc",
                           env={**emulator.env(), "ONESIGNAL_API_URL": server.url})
    assert result.exit_code == 1
    assert (f"POST /players/csv_export answered 200 OK; unexpected shape: {problem}") in result.stderr
    assert "internal error" not in result.output and "files.invalid" not in result.output
    assert not (tmp_path / "out").exists()
    # segments untouched; the export's record only gains the error `exports status` shows
    after = json.loads(_state_bytes(tmp_path))
    assert after["segments"] == json.loads(before)["segments"]
    record = after["exports"]["adhoc"]
    assert problem in record["last_error"]
    assert not record.get("last_success") and not record.get("files") and not record.get("in_flight")
