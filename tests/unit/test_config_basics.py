"""The loader on small configs: merging, duplicates across files, canonical filters and digests."""

from osctl.config.loader import analyse


def _analyse(*files):
    return analyse("conf", [(f"conf/{name}", text) for name, text in files])


APPS = "osctl: 1\napps:\n  prod: {app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c}\n"


def test_value_written_as_number_or_string_has_same_digest():
    a = _analyse(("a.yaml", APPS + "segments:\n  - name: S\n    filters: [{field: session_count, relation: '>', value: 1}]\n"))
    b = _analyse(("a.yaml", APPS + "segments:\n  - name: S\n    filters: [{field: session_count, relation: '>', value: '1'}]\n"))
    assert a.config.segments[0].digest == b.config.segments[0].digest
    assert a.config.segments[0].filters == ({"field": "session_count", "relation": ">", "value": "1"},)


def test_explicit_and_is_the_same_as_adjacent_filters():
    with_and = APPS + ("segments:\n  - name: S\n    filters:\n      - {field: country, relation: '=', value: US}\n"
                       "      - {operator: AND}\n      - {field: language, relation: '=', value: en}\n")
    without = APPS + ("segments:\n  - name: S\n    filters:\n      - {field: country, relation: '=', value: US}\n"
                      "      - {field: language, relation: '=', value: en}\n")
    assert _analyse(("a.yaml", with_and)).config.segments[0].digest == \
        _analyse(("a.yaml", without)).config.segments[0].digest


def test_segment_declared_in_two_files_names_both():
    seg = "segments:\n  - name: Same\n    filters: [{field: tag, key: a, relation: exists}]\n"
    result = _analyse(("a.yaml", APPS + seg), ("b.yaml", seg))
    assert result.config is None
    [diag] = result.errors
    assert diag.file == "conf/b.yaml" and diag.line == 2
    assert "conf/a.yaml:5" in diag.message


def test_missing_version_and_apps_reported_together():
    result = _analyse(("a.yaml", "segments: []\n"))
    messages = [d.message for d in result.errors]
    assert any("format version" in m for m in messages)
    assert any("no app" in m for m in messages)
