"""The pure part of `osctl generate`: choosing segments and writing them as YAML."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from osctl.config.fmt import format_yaml
from osctl.generate import Candidate, choose, render, scalar
from osctl.onesignal.types import LiveSegment, SegmentDetail


def live(name: str, segment_id: str, read_only: bool = False) -> LiveSegment:
    return LiveSegment(id=segment_id, name=name, app_id=None, created_at=None, updated_at=None,
                       read_only=read_only, is_active=True)


@given(st.one_of(st.text(st.characters(exclude_categories=("Cs",))), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans()))
def test_a_scalar_reads_back_as_the_same_value_inside_a_flow_mapping(value):
    assert yaml.safe_load("{k: " + scalar(value) + "}") == {"k": value}


def test_words_stay_plain_and_anything_yaml_would_read_differently_is_quoted():
    assert [scalar(v) for v in ["Active Users", "2b2c6e2e-2221", "yes", "2024", "a: b", "#1", "=", "1.0"]] == [
        "Active Users", "2b2c6e2e-2221", '"yes"', '"2024"', '"a: b"', '"#1"', '"="', '"1.0"']


def test_choose_leaves_out_managed_ids_and_applies_globs_case_sensitively():
    listed = [live("VIP", "1"), live("vip old", "2"), live("Mine", "3"), live("VIP test", "4")]
    chosen = choose("prod", listed, managed_ids={"3"}, declared_names={"VIP"}, match=["VIP*", "vip*"],
                    exclude=["* test"])
    assert [(c.segment.name, c.declared) for c in chosen] == [("VIP", True), ("vip old", False)]


def test_render_is_canonical_and_skips_what_osctl_must_not_touch():
    candidates = [Candidate("prod", live("B", "b1"), False), Candidate("prod", live("A", "a1"), False),
                  Candidate("prod", live("Subscribed Users", "s1", read_only=True), False),
                  Candidate("prod", live("Odd", "o1"), False)]
    details = {("prod", "b1"): SegmentDetail("b1", "B", None, [{"field": "tag", "key": "k", "relation": "exists"}],
                                             subscriber_count=1234),
               ("prod", "a1"): SegmentDetail("a1", "A", "Shown", [{"value": 3, "relation": ">",
                                                                   "field": "session_count"}]),
               ("prod", "o1"): SegmentDetail.not_supported_by_api("o1")}
    result = render(candidates, details, several_apps=True)
    assert format_yaml(result.text).text == result.text
    assert (result.segments, result.imports) == (2, 2)
    assert [(s.name, s.reason.split(":")[0]) for s in result.skipped] == [
        ("Subscribed Users", "read-only"), ("Odd", "its filters use kinds the API does not show (unsupported_in_api); manage it in the dashboard")]
    assert "  # id b1, 1,234 subscribers\n  - name: B\n    app: prod\n    filters:\n" in result.text
    assert '      - {field: session_count, relation: ">", value: "3"}' in result.text
    assert yaml.safe_load(result.text)["imports"] == [{"segment": "B", "app": "prod", "id": "b1"},
                                                      {"segment": "A", "app": "prod", "id": "a1"}]


def test_nothing_to_generate_is_empty_text():
    assert render([], {}, several_apps=False).text == ""
