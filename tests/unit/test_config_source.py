"""Reading YAML with positions (osctl/config/source.py): nothing a user writes makes it raise."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from osctl.config.source import MAX_DEPTH, Location, parse_yaml


def parse(text: str):
    return parse_yaml("c/osctl.yaml", text)


def test_every_value_and_key_keeps_its_line_and_column():
    doc, problems = parse("osctl: 1\nsegments:\n  - name: VIP\n    filters: [{field: tag}]\n")
    assert problems == []
    assert doc.data == {"osctl": 1, "segments": [{"name": "VIP", "filters": [{"field": "tag"}]}]}
    assert doc.where(("segments", 0, "name")) == Location("c/osctl.yaml", 3, 11)
    assert doc.where(("segments", 0, "filters"), key=True) == Location("c/osctl.yaml", 4, 5)
    assert doc.where(("segments", 0, "filters")) == Location("c/osctl.yaml", 4, 14)
    assert doc.where(("segments", 0, "filters", 0, "field")) == Location("c/osctl.yaml", 4, 23)


def test_where_falls_back_to_the_closest_known_parent():
    doc, _ = parse("segments:\n  - name: VIP\n")
    assert doc.where(("segments", 0, "filters", 3)) == Location("c/osctl.yaml", 2, 5)
    assert doc.where(("nothing",)) == Location("c/osctl.yaml", 1, 1)


def test_duplicate_key_in_one_mapping_is_reported_not_overwritten():
    doc, [problem] = parse("apps:\n  prod: {app_id: a}\n  prod: {app_id: b}\n")
    assert doc.data == {"apps": {"prod": {"app_id": "a"}}}
    assert doc.where(("apps", "prod", "app_id")).line == 2  # positions follow the kept one
    assert (problem.line, problem.path) == (3, "apps.prod")
    assert "first defined at line 2" in problem.message


def test_keys_stay_the_text_that_was_written():
    doc, problems = parse("on: 1\n1: 2\n2024-01-01: 3\n~: 4\n2024-13-45: 5\n")
    assert problems == []
    assert list(doc.data) == ["on", "1", "2024-01-01", "~", "2024-13-45"]


def test_plain_numbers_and_booleans_keep_their_raw_text():
    doc, _ = parse("a: 012\nb: '012'\nc: 5.10\nd: yes\ne: text\nf: [1:30]\n")
    assert doc.data == {"a": 10, "b": "012", "c": 5.1, "d": True, "e": "text", "f": [90]}
    raw = {path: doc.raw(path) for path in [("a",), ("b",), ("c",), ("d",), ("e",), ("f", 0), ("g",)]}
    assert raw == {("a",): "012", ("b",): None, ("c",): "5.10", ("d",): "yes", ("e",): None, ("f", 0): "1:30",
                   ("g",): None}


def test_yaml_syntax_error_has_line_column_and_a_hint():
    _, [problem] = parse("segments:\n  - name: x\n    filters: [{field: tag}\n")
    assert problem.line == 4 and problem.col >= 1
    assert problem.message.startswith("YAML syntax error") and "started at line 3" in problem.message
    assert problem.valid == "close the list with ']' and separate its items with ','"


def test_tab_indentation_is_named():
    _, [problem] = parse("apps:\n\tprod: {}\n")
    assert problem.line == 2 and "tab" in problem.message


def test_control_characters_are_located():
    _, [problem] = parse("a: 1\nb: x\x07y\n")
    assert (problem.line, problem.col) == (2, 5)
    assert "U+0007" in problem.message


def test_unreadable_scalars_become_diagnostics():
    doc, [problem] = parse("when: 2024-13-45\nname: ok\n")
    assert doc.data == {"when": None, "name": "ok"}
    assert problem.path == "when" and "quote it" in problem.valid


def test_unknown_tags_are_reported_once_and_read_as_text():
    doc, [problem] = parse("name: !env SEGMENT\nother: !!python/object:os.system {}\n")[0], \
        parse("name: !env SEGMENT\n")[1]
    assert doc.data["name"] == "SEGMENT"
    assert "'!env' is not supported" in problem.message


def test_anchors_and_aliases_are_expanded():
    doc, problems = parse("base: &f [{field: tag}]\ncopy: *f\n")
    assert problems == [] and doc.data["copy"] == [{"field": "tag"}]


def test_merge_keys_are_refused_and_remembered():
    doc, [problem] = parse("a: &x {k: 1}\nb:\n  <<: *x\n  j: 2\n")
    assert "merge keys" in problem.message and doc.merged == {("b",)}


def test_alias_bomb_is_cut_short_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    start = time.perf_counter()
    _, problems = parse("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 5
    assert any("too many values" in p.message for p in problems)


def test_recursive_alias_is_an_error_not_a_hang():
    _, problems = parse("a: &x [1, *x]\n")
    assert any("contains it" in p.message for p in problems)


def test_deep_nesting_is_refused_before_libyaml_can_crash():
    _, [problem] = parse("x: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "nested more than" in problem.message
    _, [problem] = parse("- " * 50_000 + "1\n")
    assert "nested more than" in problem.message


def test_moderate_nesting_is_refused_by_depth_not_recursion():
    _, problems = parse("x: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert [p.message for p in problems] == [f"values nested more than {MAX_DEPTH} levels deep"]


def test_several_documents_in_one_file():
    doc, [problem] = parse("osctl: 1\n---\napps: {}\n")
    assert doc.data == {"osctl": 1}
    assert problem.line == 3 and "more than one YAML document" in problem.message


def test_empty_and_comment_only_text_is_no_data_and_no_problem():
    assert parse("") == parse("# nothing\n\n") == parse_yaml("c/osctl.yaml", "   \n")
    doc, problems = parse("")
    assert doc.data is None and problems == []


# --- nothing a user writes makes the reader raise ---

_SCALARS = ["012", "5.10", "yes", "No", "on", "1:30", "190:20:30", "1_000", "0x1F", "0o17", "0b101", "-0", "+5",
            "1e3", "1.0e+3", ".inf", "-.Inf", ".nan", "~", "null", "Null", "", "'q'", '"d"', "2024-01-01",
            "2024-01-01 10:00:00", "2024-13-45", "=", "<<", "tier-3", "US", "a b", "'012'", '"yes"', "-", "?x",
            "|\n  block", ">-\n  folded\n  text", "!!str 5", "!tag x", "&a x", "*a", "[]", "{}", "[1, yes]",
            "{a: 1, b: 012}", "x: y"]


_KEYS = ["a", "b", "name", "filters", "1", "yes", "~", "'<<'", "<<", '"k"']
_FLOW_SCALARS = [v for v in _SCALARS if "\n" not in v and v[:1] not in "[{" and ": " not in v]
_tree = st.recursive(
    st.sampled_from(_SCALARS),
    lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=4),
                            st.dictionaries(st.sampled_from(_KEYS), inner, min_size=1, max_size=4)),
    max_leaves=12,
)


def _block(node, indent: str = "") -> str:
    """`node` (texts as YAML writes them, in lists and dicts) as block YAML, small lists in flow style."""
    if isinstance(node, str):
        return " " + node.replace("\n", "\n" + indent + "  ") + "\n"
    if isinstance(node, list) and all(isinstance(v, str) and v in _FLOW_SCALARS for v in node):
        return " [" + ", ".join(node) + "]\n"
    if isinstance(node, list):
        return "\n" + "".join(f"{indent}-{_block(v, indent + '  ')}" for v in node)
    return "\n" + "".join(f"{indent}{k}:{_block(v, indent + '  ')}" for k, v in node.items())


@st.composite
def _yaml_texts(draw):
    """Documents built from scalars YAML 1.1 reads in surprising ways, some edited by hand."""
    text = _block(draw(st.dictionaries(st.sampled_from(_KEYS), _tree, min_size=1, max_size=4))).lstrip("\n")
    if draw(st.booleans()):  # a typo somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["", " ", "-", ":", "'", "&a ", "*a", "a: b\n"])) + text[at:]
    return text


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, prefix + (index,))


@settings(max_examples=300, deadline=None)
@given(st.one_of(_yaml_texts(), st.text(alphabet="ab:-[]{},'\"&*!#?|>\n 01y.~", max_size=60)))
def test_any_text_reads_without_raising_and_every_value_has_a_place(text):
    doc, _ = parse(text)
    for path in [*_paths(doc.data), ("nothing",), (0, "x", 5)]:
        for key in (False, True):
            where = doc.where(path, key=key)
            assert where.line >= 1 and where.col >= 1, (path, key)


def test_positions_of_values_and_keys_at_any_depth():
    doc, _ = parse("osctl: 1\nsegments:\n  - name: VIP\n    filters: [{field: tag}]\n")
    assert doc.where(("segments", 0)) == Location("c/osctl.yaml", 3, 5)
    assert doc.where(("segments",), key=True) == Location("c/osctl.yaml", 2, 1)
    assert doc.where(("segments", 0, "filters", 0, "field")) == Location("c/osctl.yaml", 4, 23)
