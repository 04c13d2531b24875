"""Plan renderers (text, markdown, json) against golden files, and the JSON plan against its schema.

Each tests/golden/<case>/plan.json is a plan dict as Plan.to_dict() makes it; beside
it are the expected renderings plan.txt, plan.md, plan.out.json (and plan.color.txt
for one case). After an intended change to a renderer, regenerate them and review
the diff before committing:

    OSCTL_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_render.py
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from osctl.config.schema import load_schema
from osctl.plan.filterdiff import diff_lines
from osctl.plan.model import (
    Action,
    ExportRun,
    Plan,
    Provenance,
    Reason,
    SegmentChange,
    UserChange,
    Violation,
    sort_changes,
)
from osctl.plan.render import MARKDOWN_LIMIT, render, summary_line
from osctl.plan.render.common import NO_CHANGES
from tests.helpers import run_osctl

# Read at import: the autouse fixture in conftest.py clears OSCTL_* variables for each test.
UPDATE = os.environ.get("OSCTL_UPDATE_GOLDEN") == "1"
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASES = sorted(p.parent.name for p in GOLDEN.glob("*/plan.json"))
OUTPUTS = {"plan.txt": ("text", False), "plan.md": ("markdown", False), "plan.out.json": ("json", False)}
COLOR_CASE = "replace_filters_changed"
ESC = "\x1b"
SUMMARY = re.compile(r"^Plan: (?:(\d+) to import, )?(\d+) to create(?:, (\d+) to update in place)?, (\d+) to replace, (\d+) to delete"
                     r"(?:, (\d+) state-only)?; (?:(\d+ test users? .+?); )?(\d+) exports? due\.$")


def _plan(case: str) -> dict:
    return json.loads((GOLDEN / case / "plan.json").read_text("utf-8"))


def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema("plan"))


def _golden_pairs():
    pairs = [(case, name) for case in CASES for name in OUTPUTS]
    return pairs + [(COLOR_CASE, "plan.color.txt")]


# -- golden files ------------------------------------------------------------------------

def test_golden_cases_are_present():
    expected = {"no_changes", "creates_only", "replace_filters_changed", "drift_edited_outside",
                "drift_deleted_outside", "delete_not_declared", "forget", "adopt", "update_state",
                "violation_mass_destroy", "violation_prevent_destroy", "exports_due", "drift_renamed_outside",
                "update_in_place", "renamed_from", "imports", "users_create", "users_drift_update",
                "users_delete_forget"}
    assert expected <= set(CASES)


@pytest.mark.parametrize(("case", "filename"), _golden_pairs())
def test_rendering_matches_golden_file(case, filename):
    fmt, color = OUTPUTS.get(filename, ("text", True))
    rendered = render(_plan(case), fmt, color=color)
    path = GOLDEN / case / filename
    if UPDATE:
        path.write_bytes(rendered.encode("utf-8"))
    assert path.exists(), f"{path} is missing; create it with OSCTL_UPDATE_GOLDEN=1"
    assert rendered == path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("case", CASES)
def test_golden_input_is_exactly_what_the_model_produces(case):
    """A hand-written plan.json that the model would not produce would pin nothing real."""
    data = _plan(case)
    assert Plan.from_dict(data).to_dict() == data


@pytest.mark.parametrize("case", CASES)
def test_golden_filter_diffs_are_what_filterdiff_produces(case):
    for change in _plan(case)["changes"]:
        if change["action"] == "replace":
            assert change["filter_diff"] == list(diff_lines(change["before"], change["after"]))


# -- the JSON plan and its schema ------------------------------------------------------------

def test_plan_schema_is_a_valid_2020_12_schema():
    schema = load_schema("plan")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["format_version"] == {"const": "1", "description": "Version of this plan format."}


@pytest.mark.parametrize("case", CASES)
def test_json_rendering_validates_against_schema(case):
    rendered = render(_plan(case), "json")
    assert rendered.endswith("}\n")
    errors = [e.message for e in _validator().iter_errors(json.loads(rendered))]
    assert errors == []


@pytest.mark.parametrize("case", CASES)
def test_json_rendering_keeps_the_whole_plan(case):
    data = _plan(case)
    out = json.loads(render(data, "json"))
    for plan in (data, out):  # URLs in warnings are shortened: see test_export_download_url_...
        for run in plan["exports"]:
            run["warnings"] = [w for w in run["warnings"] if "://" not in w]
    assert out == data


def _broken(mutate) -> dict:
    data = copy.deepcopy(_plan("replace_filters_changed"))
    mutate(data)
    return data


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(format_version="2"),
    lambda d: d["changes"][0].update(action="upgrade"),
    lambda d: d["changes"][0].update(symbol="+"),  # a replace is -/+
    lambda d: d["changes"][0].update(reason="because"),
    lambda d: d["changes"][0].update(unknown_key=1),
    lambda d: d["summary"].pop("subscribers_affected"),
    lambda d: d["summary"].update(create=-1),
    lambda d: d["exports"][0].update(kind="everything"),
    lambda d: d["provenance"].update(refresh="sometimes"),
    lambda d: d["changes"][0]["after"].append({"operator": "XOR"}),
    lambda d: d["changes"][0].update(after_digest="md5:abc"),
], ids=["format_version", "action", "symbol", "reason", "unknown_key", "summary_field", "negative_count",
        "export_kind", "refresh", "operator", "digest"])
def test_schema_rejects_plans_the_model_cannot_produce(mutate):
    assert not _validator().is_valid(_broken(mutate))


def test_schema_command_prints_the_plan_schema():
    result = run_osctl("schema", "plan")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == load_schema("plan")


# -- text --------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_text_ends_with_the_summary_line(case):
    data = _plan(case)
    last = render(data, "text").rstrip("\n").splitlines()[-1]
    if not data["changes"] and not data["exports"] and not data["user_changes"]:
        assert last == NO_CHANGES
        return
    match = SUMMARY.match(last)
    assert match, last
    s = data["summary"]
    imports, create, update, replace, delete, state_only, users, exports = match.groups()
    assert (users is None) == (not data["user_changes"])
    assert (int(create), int(replace), int(delete), int(exports)) == (
        s["create"], s["replace"], s["delete"], s["exports_due"])
    assert int(imports or 0) == s["import"] and (imports is None) == (s["import"] == 0)
    assert int(state_only or 0) == s["state_only"]
    assert (state_only is None) == (s["state_only"] == 0)
    assert int(update or 0) == s["update"]
    assert (update is None) == (s["update"] == 0)


@pytest.mark.parametrize(("summary", "line"), [
    ({"create": 2, "replace": 1, "delete": 0, "state_only": 0, "exports_due": 3},
     "Plan: 2 to create, 1 to replace, 0 to delete; 3 exports due."),
    ({"create": 0, "replace": 0, "delete": 4, "state_only": 2, "exports_due": 0},
     "Plan: 0 to create, 0 to replace, 4 to delete, 2 state-only; 0 exports due."),
    ({"create": 1, "replace": 0, "delete": 0, "state_only": 0, "exports_due": 1},
     "Plan: 1 to create, 0 to replace, 0 to delete; 1 export due."),
    ({"create": 0, "update": 2, "replace": 0, "delete": 0, "state_only": 0, "exports_due": 0},
     "Plan: 0 to create, 2 to update in place, 0 to replace, 0 to delete; 0 exports due."),
])
def test_summary_line(summary, line):
    assert summary_line({**summary, "subscribers_affected": 0}) == line


@pytest.mark.parametrize(("users", "line"), [
    ({"create": 1, "update": 0, "delete": 0, "state_only": 0},
     "Plan: 0 to create, 0 to replace, 0 to delete; 1 test user to create; 0 exports due."),
    ({"create": 0, "update": 2, "delete": 1, "state_only": 3},
     "Plan: 0 to create, 0 to replace, 0 to delete; 2 test users to update, 1 to delete, 3 state-only; "
     "0 exports due."),
    ({"create": 0, "update": 0, "delete": 0, "state_only": 0},
     "Plan: 0 to create, 0 to replace, 0 to delete; 0 exports due."),
])
def test_summary_line_counts_test_users_only_when_they_change(users, line):
    summary = {"create": 0, "replace": 0, "delete": 0, "state_only": 0, "exports_due": 0, "subscribers_affected": 0}
    assert summary_line({**summary, "users": users}) == line


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_no_escape_codes_without_color(case, fmt):
    assert ESC not in render(_plan(case), fmt, color=False)


def test_escape_codes_in_names_are_neutralised():
    """A segment name cannot recolour or rewrite the terminal of whoever reads the plan."""
    data = _plan("delete_not_declared")
    change = data["changes"][0]
    change["name"] = "Evil\x1b[2J\x1b[31mname\rX"
    change["address"] = "segment.prod." + change["name"]
    for color in (False, True):
        text = render(data, "text", color=color)
        assert "\x1b[2J" not in text and "\r" not in text
        assert "Evil\\x1b[2J" in text
    assert ESC not in render(data, "markdown")


def test_escape_codes_in_test_users_are_neutralised():
    data = _plan("users_drift_update")
    change = data["user_changes"][0]
    change["external_id"] = "qa-\x1b[2Jevil\x9b"
    change["lines"] = ["tags.x: \"\x1b[31mred\" → \"b\""]
    change["segments"] = [{"name": "QA\x1b]0;title\x07", "verdict": "yes"}]
    for color in (False, True):
        text = render(data, "text", color=color)
        assert "\x1b[2J" not in text and "\x9b" not in text and "\x07" not in text
        assert "qa-\\u001b[2Jevil\\x9b" in text and "QA\\x1b]0;title\\x07" in text
    assert ESC not in render(data, "markdown")


def test_test_users_follow_the_segments_and_show_what_changes():
    text = render(_plan("users_create"), "text")
    assert text.index('segment "QA testers"') < text.index('  + user "qa-alice" (prod)\n')
    block = text.split('  + user "qa-alice" (prod)\n', 1)[1].split("\n\n", 1)[0].splitlines()
    assert block[0] == '      tags.cohort: "spring"'
    assert "      + subscription Email alice+qa@example.com" in block
    assert block[-1] == "      falls into: QA testers; can't tell: Active users"
    assert '  + user "qa-bob" (prod)  deleted outside osctl (drift)\n' in text
    drift = render(_plan("users_drift_update"), "text")
    assert '  ~ user "qa-alice" (prod)  edited outside osctl (drift)\n      tags.cohort: "summer" → "spring"\n' in drift
    gone = render(_plan("users_delete_forget"), "text")
    assert "OneSignal deletes the user with all its subscriptions (push devices included) and aliases" in gone
    assert '  ~ user "qa-dave" (prod)  deleted outside osctl (drift); forgotten (state only)\n' in gone
    md = render(_plan("users_create"), "markdown")
    assert md.index("will be created") < md.index("#### Test users") < md.index("user.prod.qa-alice will be created")
    assert "| `+` create test users | 2 |" in md and "- falls into: QA testers; can't tell: Active users" in md


def test_color_marks_each_symbol():
    text = render(_plan(COLOR_CASE), "text", color=True)
    assert "\x1b[33m-/+\x1b[0m segment \"Active North America\"" in text
    assert "\x1b[32m  +\x1b[0m segment \"Churn risk\"" in text
    assert "\x1b[36m  >\x1b[0m export nightly-subscribers" in text
    deleted = render(_plan("delete_not_declared"), "text", color=True)
    assert "\x1b[31m  -\x1b[0m segment \"Black Friday 2025\"" in deleted
    forgotten = render(_plan("forget"), "text", color=True)
    assert "\x1b[33m  ~\x1b[0m segment \"Summer promo\"" in forgotten
    users = render(_plan("users_drift_update"), "text", color=True)
    assert "\x1b[33m  ~\x1b[0m user \"qa-alice\"" in users
    assert "\x1b[31m- subscription Email alice.old@example.com" in users
    assert "\x1b[32m+ subscription SMS +15555550107" in users


def test_replace_shows_what_a_reviewer_needs():
    text = render(_plan("replace_filters_changed"), "text")
    block = text.split("  # segment.prod.Active North America will be replaced\n", 1)[1].split("    }\n", 1)[0]
    assert "  # because filters changed in the configuration" in block
    assert "forces replacement: new segment id (old id 6c1f0e0a-8d55-4a35-9a8e-0b6f2f1d7c11)" in block
    assert 'filters[0].value: "US" → "CA"' in block
    assert "12,345 subscribers in this segment now" in block
    assert "used by exports: nightly-subscribers, weekly-audience" in block


def test_violations_say_whether_they_can_be_overridden():
    mass = render(_plan("violation_mass_destroy"), "text")
    assert "! Refused by apply: the plan deletes or replaces 5 of the 8 segments" in mass
    assert "apply --allow-mass-destroy overrides this" in mass
    protected = render(_plan("violation_prevent_destroy"), "text")
    assert "! Refused by apply: prevent_destroy forbids replace of segment.prod.All paying users" in protected
    assert "cannot be overridden from the command line" in protected
    assert "--allow-mass-destroy overrides" not in protected


def test_export_messages_are_shortened_to_8_characters():
    text = render(_plan("exports_due"), "text")
    assert "messages (3): 0d6a1f3e, b71e2c4d, f3a5c7e9" in text
    assert "0d6a1f3e-9b2c" not in text


# -- secrets -----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_export_download_url_is_never_printed_in_full(fmt):
    data = _plan("exports_due")
    warning = data["exports"][2]["warnings"][0]
    url = re.search(r"https://[^\s)]+", warning).group(0)
    rendered = render(data, fmt)
    assert url not in rendered
    assert "csv_exports" not in rendered and "X-Amz-Signature" not in rendered
    shown = json.loads(rendered)["exports"][2]["warnings"][0] if fmt == "json" else rendered
    assert "(file https://onesignal-data.onesignal.com/…)" in shown


def test_redaction_leaves_names_and_filters_alone():
    """A saved plan must still apply exactly what was reviewed, even when a name looks like a URL."""
    data = _plan("creates_only")
    data["changes"][0]["name"] = "https://example.com/landing?utm=1"
    data["changes"][0]["after"][0]["value"] = "https://example.com/x"
    out = json.loads(render(data, "json"))
    assert out["changes"][0]["name"] == "https://example.com/landing?utm=1"
    assert out["changes"][0]["after"][0]["value"] == "https://example.com/x"


# -- markdown ----------------------------------------------------------------------------

def test_markdown_puts_summary_violations_and_destroys_before_creates():
    md = render(_plan("violation_prevent_destroy"), "markdown")
    assert md.index("**Plan: 0 to create, 1 to replace") < md.index("#### Refused by apply") \
        < md.index("#### Deletes and replaces") < md.index("<details>")
    md = render(_plan("replace_filters_changed"), "markdown")
    assert md.index("will be replaced") < md.index("#### Creates") < md.index("will be created")
    assert md.index("will be created") < md.index("#### Exports due")


def test_markdown_filter_diff_is_a_diff_block():
    md = render(_plan("replace_filters_changed"), "markdown")
    block = md.split("```diff\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert block == ['- country = "US"', "- last_session < 72 hours ago",
                     '+ country = "CA"', "+ last_session < 168 hours ago"]


def _cells(row: str) -> list[str]:
    return re.split(r"(?<!\\)\|", row.strip().strip("|"))


def test_markdown_escapes_names_that_would_break_the_layout():
    data = _plan("delete_not_declared")
    name = "VIP | *gold* <beta>_`x`"
    data["changes"][0].update(name=name, address=f"segment.prod.{name}")
    md = render(data, "markdown")
    [row] = [line for line in md.splitlines() if line.startswith("| `-` |")]
    assert len(_cells(row)) == 4
    assert "<beta>" not in md
    assert r"VIP \| \*gold\* &lt;beta&gt;\_\`x\`" in row
    assert "<summary><code>-</code> segment.prod.VIP | *gold* &lt;beta&gt;_`x` will be deleted" in md


def _huge_plan(creates: int = 2_500, replaces: int = 350, deletes: int = 150) -> dict:
    before = [{"field": "country", "relation": "=", "value": "US"},
              {"field": "last_session", "hours_ago": "72", "relation": "<"}]
    after = [{"field": "country", "relation": "=", "value": "CA"},
             {"field": "last_session", "hours_ago": "168", "relation": "<"}]
    app_id = "5eb5a37e-b458-11e3-ac11-000c2940e62c"

    def change(action, reason, i, **kw):
        name = f"Audience {i:05d}"
        return SegmentChange(address=f"segment.prod.{name}", action=action, reason=reason, app="prod",
                             app_id=app_id, name=name, **kw)

    changes = [change(Action.CREATE, Reason.NEW, i, after=after) for i in range(creates)]
    changes += [change(Action.REPLACE, Reason.FILTERS_CHANGED, creates + i, segment_id=f"id-{i}", before=before,
                       after=after, filter_diff=diff_lines(before, after), subscriber_count=1_000 + i)
                for i in range(replaces)]
    changes += [change(Action.DELETE, Reason.NOT_DECLARED, creates + replaces + i, segment_id=f"gone-{i}",
                       before=before, subscriber_count=None if i % 2 else 10 * i) for i in range(deletes)]
    destroyed = tuple(c.address for c in changes if c.action.is_destructive)
    violation = Violation(kind="mass_destroy", overridable=True, addresses=destroyed,
                          message=f"the plan deletes or replaces {len(destroyed)} of the 600 segments osctl manages "
                                  "in app 'prod' (more than 30% and more than 3); apply refuses without "
                                  "--allow-mass-destroy")
    exports = tuple(ExportRun(address=f"export.e{i}", name=f"e{i}", app="prod", kind="subscriptions",
                              reason="due since 2026-11-22T03:00:00Z") for i in range(5))
    provenance = Provenance(config_digest="sha256:" + "0" * 64, state_lineage="l", state_serial=7,
                            created_at="2026-11-22T03:05:00Z", osctl_version="0.1.0")
    return Plan(changes=sort_changes(changes), exports=exports, violations=(violation,),
                provenance=provenance).to_dict()


def test_huge_markdown_stays_under_the_limit_and_says_what_it_left_out():
    data = _huge_plan()
    md = render(data, "markdown")
    assert len(md) < MARKDOWN_LIMIT
    assert md.startswith("### osctl plan\n\n**Plan: 2500 to create, 350 to replace, 150 to delete; 5 exports due.**")
    assert "#### Refused by apply" in md and "more than 30%" in md
    for change in data["changes"]:
        if change["action"] in ("delete", "replace"):
            assert f"| {change['address']} |" in md
    shown = md.count("<details>")
    match = re.search(r"Left out: the details of ([\d,]+) of 3,000 changes and 5 of 5 export runs", md)
    assert match, md[-1500:]
    assert shown + int(match.group(1).replace(",", "")) == 3_000
    assert 0 < shown < 3_000
    assert "JSON plan artifact" in md and "osctl show" in md
    assert md.count("<details>") == md.count("</details>")


def test_markdown_cuts_even_the_list_of_deletes_rather_than_exceed_the_limit():
    data = _huge_plan(creates=0, replaces=0, deletes=3_000)
    md = render(data, "markdown")
    assert len(md) < MARKDOWN_LIMIT
    listed = sum(1 for c in data["changes"] if f"| {c['address']} |" in md)
    assert 0 < listed < 3_000
    assert f"| | … and {3_000 - listed:,} more: see the JSON plan | | |" in md
    assert "Left out: the details of 3,000 of 3,000 changes" in md


def test_markdown_cut_says_how_many_test_user_changes_it_left_out():
    data = _huge_plan(creates=600, replaces=0, deletes=0)
    users = [UserChange(address=f"user.prod.qa-{i:04d}", action=Action.CREATE, reason=Reason.NEW, app="prod",
                        app_id="5eb5a37e-b458-11e3-ac11-000c2940e62c", external_id=f"qa-{i:04d}",
                        lines=('tags.qa: "1"', f"+ subscription Email qa-{i:04d}@example.com"),
                        segments=(("QA testers", "yes"),)) for i in range(400)]
    plan = Plan.from_dict(data)
    data = Plan(changes=plan.changes, exports=plan.exports, violations=plan.violations, provenance=plan.provenance,
                user_changes=tuple(users)).to_dict()
    md = render(data, "markdown")
    assert len(md) < MARKDOWN_LIMIT
    assert "| `+` create test users | 400 |" in md
    match = re.search(r"Left out: (?:the details of ([\d,]+) of 600 changes and )?([\d,]+) of 400 test user changes "
                      r"and 5 of 5 export runs", md)
    assert match, md[-800:]
    assert md.count("<details>") + int((match.group(1) or "0").replace(",", "")) + int(match.group(2)) == 1_000


def test_markdown_that_fits_is_not_truncated():
    data = _huge_plan(creates=20, replaces=5, deletes=5)
    md = render(data, "markdown")
    assert md.count("<details>") == 30
    assert "Left out" not in md


def test_text_is_never_truncated():
    data = _huge_plan(creates=300, replaces=30, deletes=30)
    text = render(data, "text")
    assert text.count(" will be ") == 360
    assert text.count("  > export ") == 5


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown plan format 'yaml'"):
        render(_plan("no_changes"), "yaml")


# -- any plan the model can make -------------------------------------------------------------

_FILTERS = st.sampled_from([
    [{"field": "country", "relation": "=", "value": "US"}],
    [{"field": "tag", "key": "vip", "relation": "exists"}, {"operator": "OR"},
     {"field": "session_count", "relation": ">", "value": "3"}],
    [{"field": "location", "lat": 1.5, "long": -2, "radius": 100}],
])
_NAMES = st.text(alphabet=st.sampled_from("aZ 09|*_`<>&[]~#\\\"'\n\x1b\x07é→"), min_size=1, max_size=24)


# declaration_changed and already_live are test-user reasons: a segment's own is filters_changed
SEGMENT_REASONS = [r for r in Reason if r not in (Reason.DECLARATION_CHANGED, Reason.ALREADY_LIVE)]


@st.composite
def _plans(draw):
    changes = []
    for name in draw(st.lists(_NAMES, max_size=6, unique=True)):
        action = draw(st.sampled_from(list(Action)))
        before = draw(_FILTERS) if action != Action.CREATE else None
        after = draw(_FILTERS) if action not in (Action.DELETE, Action.FORGET) else None
        changes.append(SegmentChange(
            address=f"segment.prod.{name}", action=action, reason=draw(st.sampled_from(SEGMENT_REASONS)),
            app="prod", app_id="5eb5a37e-b458-11e3-ac11-000c2940e62c", name=name,
            segment_id=None if action == Action.CREATE else "seg-1", before=before, after=after,
            filter_diff=diff_lines(before, after) if action == Action.REPLACE else (),
            description=draw(st.none() | _NAMES),
            subscriber_count=draw(st.none() | st.integers(0, 10**7)) if action.is_destructive else None,
            used_by_exports=tuple(draw(st.lists(_NAMES, max_size=2))),
            prevent_destroy=draw(st.booleans()),
            # an import always names its id; an update or replace may follow one
            importing="seg-1" if action == Action.IMPORT or (
                action in (Action.UPDATE, Action.REPLACE) and draw(st.booleans())) else None))
    exports = tuple(ExportRun(address=f"export.{n}", name=n, app="prod", kind="outcomes", reason="forced",
                              messages=tuple(draw(st.lists(st.uuids().map(str), max_size=3))),
                              warnings=tuple(draw(st.lists(_NAMES, max_size=2))))
                    for n in draw(st.lists(_NAMES, max_size=2, unique=True)))
    provenance = Provenance(config_digest="sha256:x", state_lineage=None, state_serial=0, refresh="none")
    return Plan(changes=sort_changes(changes), exports=exports, violations=(), provenance=provenance,
                warnings=tuple(draw(st.lists(_NAMES, max_size=2))), user_changes=draw(_user_changes())).to_dict()


USER_ACTIONS = {Action.CREATE: [Reason.NEW, Reason.DELETED_OUTSIDE, Reason.CREATE_INTERRUPTED],
                Action.UPDATE: [Reason.DECLARATION_CHANGED, Reason.EDITED_OUTSIDE, Reason.CREATE_INTERRUPTED],
                Action.DELETE: [Reason.NOT_DECLARED], Action.FORGET: [Reason.DELETED_OUTSIDE],
                Action.ADOPT: [Reason.CREATE_INTERRUPTED]}


@st.composite
def _user_changes(draw):
    changes = []
    for external_id in draw(st.lists(_NAMES, max_size=4, unique=True)):
        action = draw(st.sampled_from(list(USER_ACTIONS)))
        changes.append(UserChange(
            address=f"user.prod.{external_id}", action=action, reason=draw(st.sampled_from(USER_ACTIONS[action])),
            app="prod", app_id="5eb5a37e-b458-11e3-ac11-000c2940e62c", external_id=external_id,
            onesignal_id=None if action == Action.CREATE else "os-1",
            lines=tuple(draw(st.lists(_NAMES, max_size=3))),
            segments=tuple((name, draw(st.sampled_from(["yes", "can't tell"])))
                           for name in draw(st.lists(_NAMES, max_size=3, unique=True)))))
    return tuple(changes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_plans())
def test_any_model_plan_validates_and_renders_safely(data):
    assert _validator().is_valid(json.loads(render(data, "json")))
    text = render(data, "text")
    assert ESC not in text and "\x07" not in text
    last = text.rstrip("\n").splitlines()[-1]
    anything = data["changes"] or data["exports"] or data["user_changes"]
    assert last == NO_CHANGES if not anything else SUMMARY.match(last)
    assert text.count(' user "') >= len(data["user_changes"])
    md = render(data, "markdown")
    assert ESC not in md and len(md) < MARKDOWN_LIMIT
    assert md.count("<details>") == md.count("</details>") == len(data["changes"]) + len(data["user_changes"])
