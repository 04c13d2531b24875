"""Segment names that look alike in the dashboard, and names that cannot be seen as written."""

from osctl.config.names import look_alike_key, name_problem, same_text


def test_names_equal_after_nfc_case_folding_and_space_collapsing_look_alike():
    variants = ["Case Test", "CASE TEST", "case  test", "Case\u00a0Test", "Case Test "]
    assert {look_alike_key(v) for v in variants} == {"case test"}
    assert look_alike_key("Caf\u00e9") == look_alike_key("Cafe\u0301") == look_alike_key("CAFE\u0301")
    assert look_alike_key("Straße") == look_alike_key("STRASSE")
    assert look_alike_key("Case Test") != look_alike_key("Case Tests")
    assert same_text("Caf\u00e9", "Cafe\u0301") and not same_text("Café", "CAFÉ")


def test_control_characters_and_surrounding_whitespace_are_named():
    assert name_problem("Case\tTest") == "segment name contains a tab"
    assert name_problem("Case\nTest") == "segment name contains a line break"
    assert name_problem("Case\u2028Test") == "segment name contains a line break"
    assert name_problem("Case\x00Test") == "segment name contains the control character U+0000"
    assert name_problem(" Case") == "segment name starts with a space"
    assert name_problem("Case\u00a0") == "segment name ends with a space-like character (U+00A0)"
    assert name_problem("Café regulars (EU) — 30d") is None
