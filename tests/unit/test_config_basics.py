"""The loader on small configs: merging, duplicates across files, canonical filters and digests."""

from osctl.config.loader import analyse
from osctl.config.model import (
    MessageHistoryOptions,
    MessageSelector,
    OutcomesOptions,
    SubscriptionsOptions,
)


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


def test_model_defaults_follow_the_design():
    config = _analyse(("a.yaml", APPS + "segments:\n  - name: S\n    filters: [{field: tag, key: a, relation: exists}]\n"
                       "exports:\n  - name: subs\n    kind: subscriptions\n"
                       "  - name: clicks\n    kind: audience_activity\n    schedule: '@daily'\n"
                       "    destination: x/{message_id}.csv.gz\n"
                       "    audience_activity: {messages: {sent_within: 2d, settle: 12h, kind: api}}\n")).config
    app = config.apps["prod"]
    assert (app.api_key_env, app.account) == ("ONESIGNAL_API_KEY", "default")
    assert (config.state.backend, config.state.path) == ("local", ".osctl/state.json")
    segment = config.segment("prod", "S")
    assert segment.app == "prod" and segment.prevent_destroy is False and segment.address == "segment.prod.S"
    subs, clicks = config.export("subs"), config.export("clicks")
    assert (subs.schedule, subs.timezone, subs.timeout_seconds) == (None, "UTC", 3600)
    assert subs.destination == "exports/{app}/{export}/{date}.csv.gz"
    assert clicks.schedule == "0 0 * * *"
    assert (clicks.messages.sent_within_seconds, clicks.messages.settle_seconds, clicks.messages.kind) == \
        (172800, 43200, "api")


def test_model_is_frozen():
    import dataclasses

    import pytest

    config = _analyse(("a.yaml", APPS)).config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.apps["prod"].app_id = "other"


def test_app_ids_and_message_ids_are_lower_cased():
    text = ("osctl: 1\napps:\n  prod: {app_id: 5EB5A37E-B458-11E3-AC11-000C2940E62C}\n"
            "exports:\n  - name: e\n    kind: message_history\n    destination: x/{message_id}.csv.gz\n"
            "    message_history: {events: sent, messages: {ids: [0B4E3F8A-2C1D-4E5F-9A8B-7C6D5E4F3A2B]}}\n")
    config = _analyse(("a.yaml", text)).config
    assert config.apps["prod"].app_id == "5eb5a37e-b458-11e3-ac11-000c2940e62c"
    assert config.export("e").messages.ids == ("0b4e3f8a-2c1d-4e5f-9a8b-7c6d5e4f3a2b",)


def test_existing_segment_form_names_the_segment_without_a_warning():
    text = APPS + ("exports:\n  - name: e\n    kind: subscriptions\n"
                   "    subscriptions: {segment: {name: Subscribed Users, existing: true}}\n")
    result = _analyse(("a.yaml", text))
    assert result.diagnostics == []
    assert result.config.export("e").segment == "Subscribed Users"


def test_config_digest_ignores_formatting_and_file_layout():
    block = APPS + ("segments:\n  - name: S  # comment\n    filters:\n      - field: tag\n        key: a\n"
                    "        relation: exists\n")
    flow = APPS + "segments: [{filters: [{relation: exists, key: a, field: tag}], name: S}]\n"
    split = (("a.yaml", APPS), ("b.yaml", "segments: [{name: S, filters: [{field: tag, key: a, relation: exists}]}]\n"))
    digests = {_analyse(("a.yaml", block)).config.digest, _analyse(("a.yaml", flow)).config.digest,
               _analyse(*split).config.digest}
    assert len(digests) == 1


def test_config_digest_changes_with_meaning():
    base = APPS + "segments: [{name: S, filters: [{field: tag, key: a, relation: exists}]}]\n"
    renamed = base.replace("name: S", "name: T")
    protected = base.replace("name: S,", "name: S, prevent_destroy: true,")
    digests = {_analyse(("a.yaml", t)).config.digest for t in (base, renamed, protected)}
    assert len(digests) == 3


EXPORTS_OF_EVERY_KIND = """exports:
  - name: subs-all
    kind: subscriptions
    subscriptions:
      segment: {name: Subscribed Users, existing: true}
      include_unsubscribed: true
      extra_fields: [location, country]
  - name: subs-plain
    kind: subscriptions
  - name: hist
    kind: message_history
    message_history:
      events: clicked
      email: ops@example.com
      messages: {ids: [5EB5A37E-B458-11E3-AC11-000C2940E62C]}
  - name: active
    kind: audience_activity
    audience_activity: {messages: {sent_within: 2d, kind: api, settle: 1h}}
  - name: out
    kind: outcomes
    keep: 5
    outcomes: {names: [os__click.count, purchase.sum], time_range: 1d, platforms: [0, 1], attribution: total}
  - name: out2
    kind: outcomes
    outcomes: {names: [os__click.count]}
"""


def test_config_digest_of_export_settings_is_what_earlier_versions_saved():
    """Saved plans carry the digest: typed export options must not move it."""
    config = _analyse(("a.yaml", APPS + EXPORTS_OF_EVERY_KIND)).config
    assert config.digest == "sha256:df0b45c9567706905243d56fafeaa51ca59dc5e44ccf41fcf79ab83dceaaa96e"


def test_each_export_kind_gets_its_settings_with_defaults():
    config = _analyse(("a.yaml", APPS + EXPORTS_OF_EVERY_KIND)).config
    assert config.export("subs-all").options == SubscriptionsOptions(
        extra_fields=("location", "country"), segment="Subscribed Users", include_unsubscribed=True)
    assert config.export("subs-plain").options == SubscriptionsOptions()
    assert config.export("hist").options == MessageHistoryOptions(
        messages=MessageSelector(ids=("5eb5a37e-b458-11e3-ac11-000c2940e62c",)), events="clicked",
        email="ops@example.com")
    assert config.export("active").messages == MessageSelector(sent_within_seconds=2 * 86400, kind="api",
                                                               settle_seconds=3600)
    assert config.export("out").options == OutcomesOptions(names=("os__click.count", "purchase.sum"),
                                                           time_range="1d", platforms=(0, 1), attribution="total")
    assert config.export("out2").options == OutcomesOptions(names=("os__click.count",), time_range="1h")


def test_warnings_alone_still_give_a_model():
    text = APPS + "segments: [{name: S, filters: [{field: email, relation: '=', value: a@b.c}]}]\n"
    result = _analyse(("a.yaml", text))
    assert result.config is not None and result.errors == []
    assert [d.severity for d in result.diagnostics] == ["warning"]


def test_a_broken_file_does_not_cause_follow_up_errors_elsewhere():
    broken = "osctl: 1\napps:\n  prod: {app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c\n"  # unclosed brace
    segments = "segments: [{name: S, app: prod, filters: [{field: tag, key: a, relation: exists}]}]\n"
    result = _analyse(("a.yaml", broken), ("b.yaml", segments))
    assert [d.file for d in result.errors] == ["conf/a.yaml"]


def test_non_utf8_file_is_located_at_the_bad_byte():
    result = analyse("conf", [("conf/a.yaml", b"osctl: 1\nname: caf\xe9\n")])
    [diag] = [d for d in result.errors if d.file == "conf/a.yaml"]
    assert (diag.line, diag.col) == (2, 10) and "not UTF-8" in diag.message


def _rename_errors(segments: str) -> list[str]:
    from osctl.config.loader import analyse

    text = ("osctl: 1\napps:\n  prod: {app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c}\nsegments:\n" + segments)
    analysis = analyse("conf", [("conf/osctl.yaml", text)])
    return [d.format() for d in analysis.diagnostics if d.severity == "error"]


def test_renamed_from_must_name_an_earlier_segment_no_other_segment_uses():
    us = "    filters: [{field: country, relation: '=', value: US}]\n"
    errors = _rename_errors("  - name: A\n    renamed_from: A\n" + us
                            + "  - name: B\n    renamed_from: [Old, A]\n" + us
                            + "  - name: C\n    renamed_from: Old\n" + us)
    assert len(errors) == 3, errors
    assert "segments[0].renamed_from" in errors[0] and "cannot be renamed from its own name" in errors[0]
    assert "segments[1].renamed_from[1]" in errors[1] and "segment 'A' is still declared" in errors[1]
    assert "segments[2].renamed_from" in errors[2] and "'Old' is already in the renamed_from of another" in errors[2]


def test_renamed_from_takes_a_name_or_a_list_of_names():
    us = "    filters: [{field: country, relation: '=', value: US}]\n"
    assert _rename_errors("  - name: A\n    renamed_from: Old\n" + us) == []
    assert _rename_errors("  - name: A\n    renamed_from: [Old, Older]\n" + us) == []
    assert _rename_errors("  - name: A\n    renamed_from: []\n" + us) != []
