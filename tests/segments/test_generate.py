"""`osctl generate` against the emulator: declarations and import blocks for unmanaged segments."""

from __future__ import annotations

import yaml

from osctl.config.fmt import format_yaml
from tests.segments.conftest import Workspace

# One of every filter kind a dashboard user makes, each in a few variations (60 in all).
KINDS = [
    lambda i: [{"field": "tag", "key": f"plan{i}", "relation": "=", "value": f"gold{i}"}],
    lambda i: [{"field": "last_session", "relation": "<", "hours_ago": str(24 + i)}],
    lambda i: [{"field": "session_count", "relation": ">", "value": str(i)}],
    lambda i: [{"field": "language", "relation": "in_array", "value": "de,fr"}],
    lambda i: [{"field": "country", "relation": "=", "value": "US"}],
    lambda i: [{"field": "location", "radius": str(1000 + i), "lat": "52.52", "long": "13.405"}],
    lambda i: [{"field": "app_version", "relation": ">", "value": f"2.{i}"}],
    lambda i: [{"field": "country", "relation": "=", "value": "CA"}, {"operator": "OR"},
               {"field": "tag", "key": "vip", "relation": "exists"}],
    lambda i: [{"field": "session_time", "relation": ">", "value": str(60 * i)},
               {"field": "first_session", "relation": ">", "hours_ago": "48"}],
    lambda i: [{"field": "tag", "key": "beta", "relation": "not_exists"}],
]
ODD_NAMES = ["Café: VIP #1", "- dash first", "2024", "yes", "quote \"this\"", "x:y z"]


def seed_segments(ws: Workspace, count: int = 60) -> dict[str, str]:
    made = {}
    for i in range(count):
        name = ODD_NAMES[i] if i < len(ODD_NAMES) else f"Segment {i:02d}"
        answer = ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": name, "filters": KINDS[i % 10](i)})
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()["id"]
    return made


def last_seq(ws: Workspace) -> int:
    """The request log's newest sequence number: requests after it are the test's."""
    return max((r["seq"] for r in ws.emulator.requests()), default=0)


def writes(ws: Workspace, since: int) -> list[dict]:
    return [r for r in ws.emulator.requests(since) if r["method"] != "GET" and not r["path"].startswith("/_")]


def test_generate_writes_canonical_declarations_and_imports_for_every_unmanaged_segment(ws):
    made = seed_segments(ws)
    ws.write({})
    mark = last_seq(ws)
    result = ws.osctl("generate", "--out", str(ws.dir / "adopted.yaml"))
    assert result.exit_code == 0, result.output
    assert writes(ws, mark) == []  # read-only: not one write request
    text = (ws.dir / "adopted.yaml").read_text()
    assert format_yaml(text).text == text  # exactly what `osctl fmt` keeps
    data = yaml.safe_load(text)
    generated = {s["name"]: s for s in data["segments"]}
    # the 60 made here and the three manageable built-ins; never the read-only or unsupported one
    assert set(generated) == set(made) | {"Active Users", "Engaged Users", "Inactive Users"}
    assert {i["segment"]: i["id"] for i in data["imports"]} == {**{n: ws.all_live()[n] for n in generated}}
    assert all(i["app"] == "prod" for i in data["imports"])
    for name, segment_id in made.items():
        assert generated[name]["filters"] == canonical_live(ws, segment_id)
    assert f"# id {made['Segment 10']}, " in text and " subscribers" in text
    assert "Subscribed Users" in result.stderr and "read-only" in result.stderr
    assert "Clicked Last Campaign" in result.stderr and "unsupported_in_api" in result.stderr
    assert '# - "Subscribed Users" in app prod' in text or "# - Subscribed Users in app prod" in text
    assert "Generated 63 segment declarations and 63 import blocks" in result.stderr


def canonical_live(ws: Workspace, segment_id: str) -> list[dict]:
    from osctl.filters import canonical_filters

    return canonical_filters(ws.live_filters(segment_id))


def test_generate_match_exclude_and_stdout(ws):
    seed_segments(ws, 12)
    ws.write({})
    result = ws.osctl("generate", "--match", "Segment 1*", "--match", "Engaged*", "--exclude-match", "Segment 11")
    assert result.exit_code == 0, result.output
    names = [s["name"] for s in yaml.safe_load(result.stdout)["segments"]]
    assert names == ["Engaged Users", "Segment 10"]
    assert "Subscribed Users" not in result.stderr  # not matched, so not reported as skipped either


def test_generate_never_overwrites_and_leaves_out_managed_segments(ws):
    ws.write({"Mine": [{"field": "country", "relation": "=", "value": "DE"}]})
    assert ws.osctl("apply", "--auto-approve").exit_code == 0
    target = ws.dir / "adopted.yaml"
    target.write_text("# mine\n")
    refused = ws.osctl("generate", "--out", str(target))
    assert refused.exit_code == 1
    assert "adopted.yaml exists; osctl generate never overwrites a file" in refused.stderr
    assert target.read_text() == "# mine\n"
    out = ws.osctl("generate")
    names = [s["name"] for s in yaml.safe_load(out.stdout)["segments"]]
    assert "Mine" not in names and names == ["Active Users", "Engaged Users", "Inactive Users"]


def test_a_declared_but_unmanaged_segment_gets_only_an_import_block(ws):
    ws.write({"Engaged Users": [{"field": "session_count", "relation": ">", "value": 10}]})
    result = ws.osctl("generate", "--match", "Engaged Users")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)
    assert "segments" not in data
    assert data["imports"] == [{"segment": "Engaged Users", "app": "prod", "id": ws.all_live()["Engaged Users"]}]


def test_unknown_app_is_a_clear_error(ws):
    ws.write({})
    result = ws.osctl("generate", "--app", "staging")
    assert result.exit_code == 1
    assert "no app 'staging' in the configuration; apps: prod" in result.stderr


def test_names_a_config_cannot_declare_are_skipped_with_the_reason(ws):
    for name in (" Padded", "Case Test", "CASE  TEST"):
        assert ws.api("POST", f"/apps/{ws.app_id}/segments", json={"name": name, "filters": KINDS[4](0)}).status_code == 201
    ws.write({})
    result = ws.osctl("generate", "--match", "*[Pp]added", "--match", "*[Tt][Ee][Ss][Tt]")
    assert result.exit_code == 0, result.output
    assert [s["name"] for s in yaml.safe_load(result.stdout)["segments"]] == ["CASE  TEST"]
    assert "segment name starts with a space, which a configuration cannot declare" in result.stderr
    assert 'skipped Case Test in app prod' in result.stderr and 'looks the same as "CASE  TEST"' in result.stderr
    assert ws.osctl("validate").exit_code == 0  # what was generated is declarable (written to stdout here)
