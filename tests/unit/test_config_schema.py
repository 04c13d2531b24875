"""The JSON Schema check (osctl/config/schema.py) and the published schema file."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from osctl.config.schema import (
    _validator,
    certainly_valid,
    check_schema,
    did_you_mean,
    load_schema,
    looks_like_secret,
)
from osctl.config.source import parse_yaml

REPO = Path(__file__).resolve().parents[2]
APP = "osctl: 1\napps:\n  prod:\n    app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c\n"


def problems(text: str):
    doc, parse_problems = parse_yaml("c/osctl.yaml", text)
    assert parse_problems == []
    return check_schema(doc)


def test_published_schema_is_the_packaged_one_and_is_2020_12():
    schema = load_schema("osctl")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert json.loads((REPO / "schemas" / "osctl.schema.json").read_text()) == schema


def test_example_files_point_editors_at_the_schema():
    for path in (REPO / "examples").glob("*/*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../../schemas/osctl.schema.json"), path


def test_a_valid_file_has_no_problems():
    assert problems(APP) == []


def test_did_you_mean():
    assert did_you_mean("filter", ["filters", "name"]) == "; did you mean 'filters'?"
    assert did_you_mean("or", ["AND", "OR"]) == "; did you mean 'OR'?"
    assert did_you_mean("Subscriptions", ["subscriptions"]) == "; did you mean 'subscriptions'?"
    assert did_you_mean("zzz", ["filters", "name"]) == ""


def test_secret_shapes():
    assert looks_like_secret("os_v2_app_lr2wg7vuvaiqlzq2aaftpfjxkvoq6fbfmyb6z3n4grxw2vyznddz7xq4sa")
    assert looks_like_secret("NGEwMGZmMjItY2NkNy0xMWUzLTk5ZDUtMDAwYzI5NDBlNjJj")
    assert looks_like_secret("postgresql://osctl:hunter2@db/osctl")
    for harmless in ("ONESIGNAL_PROD_KEY", "5eb5a37e-b458-11e3-ac11-000c2940e62c", "Active US or VIP", 42, None):
        assert not looks_like_secret(harmless)


def test_unknown_key_points_at_the_key_and_suggests():
    [problem] = problems(APP + "segments:\n  - name: S\n    filter: []\n")
    assert (problem.line, problem.col, problem.path) == (7, 5, "segments[0].filter")
    assert problem.message == "unknown key 'filter'; did you mean 'filters'?"
    assert "filters" in problem.valid


def test_wrong_type_is_one_problem_not_also_enum_and_pattern():
    [problem] = problems(APP + "exports:\n  - name: e\n    kind: [subscriptions]\n")
    assert problem.message == 'expected a string, got list ["subscriptions"]'


def test_trailing_newline_does_not_slip_through_a_pattern():
    [problem] = problems('osctl: 1\napps:\n  prod:\n    app_id: "5eb5a37e-b458-11e3-ac11-000c2940e62c\\n"\n')
    assert problem.path == "apps.prod.app_id" and "wrong form" in problem.message


def test_one_of_is_explained_by_the_branch_that_fits():
    [problem] = problems(APP + "exports:\n  - name: e\n    kind: subscriptions\n"
                               "    subscriptions: {segment: {name: S, existing: yes please}}\n")
    assert problem.path == "exports[0].subscriptions.segment.existing"
    assert problem.message == "expected true or false, got string 'yes please'"


def test_values_that_may_be_secrets_are_never_repeated():
    key = "NGEwMGZmMjItY2NkNy0xMWUzLTk5ZDUtMDAwYzI5NDBlNjJj"
    found = problems(f"osctl: 1\napps:\n  prod:\n    app_id: {key}\n    api_key_env: '{key}=='\n")
    assert {p.path for p in found} == {"apps.prod.app_id", "apps.prod.api_key_env"}
    for problem in found:
        assert key[:10] not in problem.format()


def test_api_key_written_as_a_key_is_explained():
    [problem] = problems(APP + "    api_key: abc\n")
    assert "API keys never go into the config" in problem.message
    assert problem.valid.startswith("api_key_env")


def test_unquoted_date_where_text_is_expected_suggests_quotes():
    [problem] = problems(APP + "segments:\n  - name: 2026-01-01\n    filters: [{field: tag}]\n")
    assert "got date" in problem.message and "quotes" in problem.valid


def test_limits_are_reported_with_the_limit():
    [problem] = problems(APP + "segments:\n  - name: " + "x" * 129 + "\n    filters: [{field: tag}]\n")
    assert (problem.message, problem.valid) == ("too long (129 characters)", "at most 128 characters")


def test_duplicate_list_entries_name_the_entry():
    [problem] = problems(APP + "exports:\n  - name: e\n    kind: subscriptions\n"
                               "    subscriptions: {extra_fields: [country, ip, country]}\n")
    assert problem.message == "lists 'country' more than once"


# --- the compiled yes/no check never says yes where jsonschema says no ---------------------------


WORDS = ["osctl", "apps", "app_id", "api_key_env", "state", "backend", "local", "segments", "name", "filters",
         "field", "relation", "key", "value", "operator", "OR", "exports", "kind", "subscriptions", "outcomes",
         "names", "os__click.count", "platforms", "segment", "existing", "messages", "ids", "sent_within", "2d",
         "extra_fields", "country", "ip", "5eb5a37e-b458-11e3-ac11-000c2940e62c", "prod", "tag", "="]
leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 20), st.floats(allow_nan=False), st.sampled_from(WORDS),
                 st.text(max_size=4))
tree = st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(WORDS), inner, max_size=4)), max_leaves=20)


@cache
def example_data():
    import yaml

    return tuple(yaml.safe_load(p.read_text()) for p in sorted((REPO / "examples").glob("*/*.yaml")))


def test_compiled_check_accepts_the_examples():
    for data in example_data():
        assert certainly_valid(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["osctl", "apps", "state", "segments", "exports"]), tree, max_size=5))
def test_compiled_yes_implies_jsonschema_yes(data):
    if certainly_valid(data):
        assert _validator().is_valid(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["segments", "exports"]), st.data())
def test_compiled_yes_implies_jsonschema_yes_for_mutated_entries(collection, data):
    entries = [e for d in example_data() for e in d.get(collection, [])]
    entry = dict(data.draw(st.sampled_from(entries)))
    key = data.draw(st.sampled_from(sorted(entry) + WORDS))
    entry[key] = data.draw(tree)
    config = {"osctl": 1, collection: [entry]}
    if certainly_valid(config):
        assert _validator().is_valid(config)
