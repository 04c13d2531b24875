"""The filter grammar and the canonical form osctl sends and compares (osctl/filters.py)."""

from __future__ import annotations

import hashlib
import itertools

from hypothesis import given
from hypothesis import strategies as st

from osctl.filters import (
    FIELDS,
    canonical_filters,
    canonical_json,
    filters_digest,
    keys_used,
    or_groups,
    try_canonical,
)

US = {"field": "country", "relation": "=", "value": "US"}
VIP = {"field": "tag", "key": "vip", "relation": "exists"}
ACTIVE = {"field": "last_session", "relation": "<", "hours_ago": "72"}
OR = {"operator": "OR"}
AND = {"operator": "AND"}


def digest(entries):
    return filters_digest(canonical_filters(entries))


def test_numbers_are_sent_as_the_strings_the_api_takes():
    [entry] = canonical_filters([{"field": "session_count", "relation": ">", "value": 20}])
    assert entry == {"field": "session_count", "relation": ">", "value": "20"}
    [entry] = canonical_filters([{"field": "last_session", "relation": "<", "hours_ago": 1.5}])
    assert entry["hours_ago"] == "1.5"


def test_number_and_string_spellings_of_a_value_have_one_digest():
    as_number = [{"field": "session_count", "relation": ">", "value": 1}]
    as_string = [{"field": "session_count", "relation": ">", "value": "1"}]
    as_float = [{"field": "session_count", "relation": ">", "value": 1.0}]
    assert digest(as_number) == digest(as_string) == digest(as_float)


def test_different_values_have_different_digests():
    assert digest([{**US, "value": "US"}]) != digest([{**US, "value": "DE"}])
    assert digest([US, VIP]) != digest([US, OR, VIP])


def test_floats_are_never_written_in_exponent_form():
    [tiny] = canonical_filters([{"field": "tag", "key": "k", "relation": ">", "value": 1.5e-7}])
    [huge] = canonical_filters([{"field": "tag", "key": "k", "relation": ">", "value": 1e20}])
    assert tiny["value"] == "0.00000015" and huge["value"] == "100000000000000000000"


def test_booleans_become_lowercase_text():
    [entry] = canonical_filters([{"field": "tag", "key": "beta", "relation": "=", "value": True}])
    assert entry["value"] == "true"


def test_location_operands_become_numbers_whether_written_as_text_or_not():
    text = [{"field": "location", "radius": "25000", "lat": "52.52", "long": "13.405"}]
    numbers = [{"field": "location", "radius": 25000, "lat": 52.52, "long": 13.405}]
    assert canonical_filters(text) == canonical_filters(numbers) == [
        {"field": "location", "radius": 25000, "lat": 52.52, "long": 13.405}]
    assert digest(text) == digest(numbers)


def test_explicit_and_is_dropped_because_adjacency_already_means_and():
    assert canonical_filters([US, AND, VIP]) == canonical_filters([US, VIP])
    assert digest([US, AND, VIP, OR, ACTIVE]) == digest([US, VIP, OR, ACTIVE])


def test_key_order_inside_a_filter_is_irrelevant():
    digests = {digest([dict(order)]) for order in itertools.permutations(US.items())}
    assert len(digests) == 1
    assert list(canonical_filters([{"value": "US", "relation": "=", "field": "country"}])[0]) == \
        ["field", "relation", "value"]


def test_filter_order_matters_because_or_groups_depend_on_it():
    assert digest([US, OR, VIP, ACTIVE]) != digest([US, VIP, OR, ACTIVE])


def test_operators_from_the_api_in_lower_case_compare_equal():
    assert canonical_filters([US, {"operator": "or"}, VIP]) == canonical_filters([US, OR, VIP])


def test_digest_is_sha256_of_the_canonical_json():
    canonical = canonical_filters([US, OR, VIP])
    expected = hashlib.sha256(canonical_json(canonical).encode()).hexdigest()
    assert filters_digest(canonical) == "sha256:" + expected
    assert canonical_json(canonical) == (
        '[{"field":"country","relation":"=","value":"US"},{"operator":"OR"},'
        '{"field":"tag","key":"vip","relation":"exists"}]')


def test_canonical_json_keeps_non_ascii_text_readable():
    assert "Café" in canonical_json(canonical_filters([{"field": "tag", "key": "shop", "relation": "=",
                                                        "value": "Café"}]))


def test_try_canonical_gives_none_for_filters_it_cannot_read():
    assert try_canonical([{"field": "location", "radius": "far", "lat": 1, "long": 2}]) is None
    assert try_canonical(["not a filter"]) is None
    assert try_canonical([None]) is None
    assert try_canonical([US]) == [US]


def test_or_groups_bind_and_tighter_than_or():
    assert or_groups(canonical_filters([US, ACTIVE, OR, VIP])) == [[US, ACTIVE], [VIP]]
    assert or_groups([US, AND, ACTIVE, OR, VIP, AND, US]) == [[US, ACTIVE], [VIP, US]]
    assert or_groups([US, VIP]) == [[US, VIP]]
    assert or_groups([]) == [[]]


def test_keys_each_field_and_relation_uses():
    assert keys_used("tag", "exists") == {"key"}
    assert keys_used("tag", "=") == {"key", "value"}
    assert keys_used("country", "not_exists") == set()
    assert keys_used("country", "=") == {"value"}
    assert keys_used("last_session", "<") == {"hours_ago"}
    assert keys_used("location", None) == {"radius", "lat", "long"}
    assert keys_used("bought_sku", ">") == {"key", "value"}


def test_grammar_follows_the_api_facts():
    assert set(FIELDS["last_session"].relations) == {">", "<"}
    assert set(FIELDS["first_session"].relations) == {">", "<"}
    assert FIELDS["location"].relations == ()
    assert {"in_array", "not_in_array"} <= set(FIELDS["language"].relations)
    assert {"time_elapsed_gt", "time_elapsed_lt", "exists"} <= set(FIELDS["tag"].relations)
    current = {name for name, rule in FIELDS.items() if not rule.legacy}
    assert current == {"tag", "last_session", "first_session", "session_count", "session_time", "language",
                       "app_version", "location", "country"}


operand = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=10), st.booleans())
filter_entry = st.fixed_dictionaries(
    {"field": st.sampled_from(sorted(FIELDS)), "relation": st.sampled_from(["=", ">", "exists"])},
    optional={"key": st.text(max_size=5), "value": operand, "hours_ago": operand})
entries = st.lists(st.one_of(filter_entry, st.sampled_from([OR, AND])), max_size=8)


@given(entries)
def test_canonical_form_is_idempotent(items):
    once = canonical_filters(items)
    assert canonical_filters(once) == once
    assert filters_digest(canonical_filters(once)) == filters_digest(once)


@given(st.integers(-10**15, 10**15))
def test_any_integer_value_equals_its_decimal_text(number):
    assert digest([{"field": "session_count", "relation": ">", "value": number}]) == \
        digest([{"field": "session_count", "relation": ">", "value": str(number)}])
