"""Test users in the config: the model the loader builds, and what validate says across apps and files."""

from __future__ import annotations

from osctl.config.loader import analyse
from osctl.config.schema import certainly_valid
from osctl.users.guards import GuardRails
from osctl.users.model import DeclaredUser

RAILS = ('    test_users: {external_id_prefix: "qa-", email_domains: [example.com], '
         'sms_numbers: ["+15555550100", "+1555555*"]}\n')
APPS = "osctl: 1\napps:\n  prod:\n    app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c\n" + RAILS
ALICE = """\
test_users:
  - external_id: qa-alice
    aliases: {crm_id: "qa-12345"}
    tags: {qa: 1, beta: true, cohort: spring}
    language: en
    timezone_id: Europe/Berlin
    subscriptions:
      - {type: Email, token: alice+qa@example.com}
      - {type: SMS, token: "+15555550123"}
    devices: [5F0C1111-2222-4333-8444-555566667777]
"""
# a plain config without test users, and its digest as osctl before test users computed it
PLAIN = ("osctl: 1\napps:\n  prod:\n    app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c\nsegments:\n"
         "  - name: QA testers\n    filters: [{field: tag, key: qa, relation: '=', value: 1}]\n")
PLAIN_DIGEST = "sha256:5ad7598f9b23668b9c90a85be2d56f7850da136013c96463e06dc2ef05702d04"


def _analyse(*files):
    return analyse("conf", [(f"conf/{name}", text) for name, text in files])


def _errors(*files) -> list[tuple[str, int, str, str]]:
    return [(d.file, d.line, d.path, d.message) for d in _analyse(*files).errors]


def test_the_model_holds_the_rails_and_the_users_with_tag_values_as_sent():
    config = _analyse(("osctl.yaml", APPS + ALICE)).config
    assert config.apps["prod"].test_users == GuardRails("qa-", ("example.com",), ("+15555550100", "+1555555*"))
    assert config.test_users == (DeclaredUser(
        app="prod", external_id="qa-alice", aliases={"crm_id": "qa-12345"},
        tags={"qa": "1", "beta": "true", "cohort": "spring"}, language="en", timezone_id="Europe/Berlin",
        subscriptions=(("Email", "alice+qa@example.com"), ("SMS", "+15555550123")),
        devices=("5f0c1111-2222-4333-8444-555566667777",)),)
    assert config.test_user("prod", "qa-alice").address == "user.prod.qa-alice"
    assert config.test_user("prod", "qa-bob") is None


def test_an_app_without_test_users_has_no_rails_and_the_digest_of_older_configs_is_unchanged():
    config = _analyse(("osctl.yaml", PLAIN)).config
    assert config.apps["prod"].test_users is None and config.test_users == ()
    assert config.digest == PLAIN_DIGEST  # saved plans made before test users stay current


def test_the_digest_changes_with_a_test_user_and_with_the_rails():
    base = _analyse(("osctl.yaml", APPS + ALICE)).config.digest
    assert _analyse(("osctl.yaml", APPS + ALICE.replace("spring", "summer"))).config.digest != base
    assert _analyse(("osctl.yaml", APPS.replace('"qa-"', '"qa"') + ALICE)).config.digest != base
    assert _analyse(("osctl.yaml", APPS)).config.digest != _analyse(("osctl.yaml", APPS[: -len(RAILS)])).config.digest


def test_users_spread_over_files_are_checked_together():
    other = "test_users:\n  - external_id: qa-bob\n    subscriptions: [{type: SMS, token: '+15555550123'}]\n"
    assert _errors(("a.yaml", APPS + ALICE), ("b.yaml", other)) == [
        ("conf/b.yaml", 3, "test_users[0].subscriptions[0].token",
         "SMS +15555550123 is already declared in conf/a.yaml:14")]


def test_the_same_external_id_in_two_apps_is_two_users():
    two = APPS + "  staging:\n    app_id: 7f1e2d3c-4b5a-4c6d-8e9f-0a1b2c3d4e5f\n" + RAILS + (
        "test_users:\n  - {external_id: qa-alice, app: prod}\n  - {external_id: qa-alice, app: staging}\n")
    config = _analyse(("osctl.yaml", two)).config
    assert [u.address for u in config.test_users] == ["user.prod.qa-alice", "user.staging.qa-alice"]


def test_rails_of_the_wrong_shape_give_one_error_not_one_per_user():
    broken = APPS.replace('sms_numbers: ["+15555550100", "+1555555*"]', "sms_numbers: [+15555550100]")
    errors = _errors(("osctl.yaml", broken + ALICE))
    assert [path for _, _, path, _ in errors] == ["apps.prod.test_users.sms_numbers[0]"]


def test_a_missing_prefix_is_a_schema_error_and_no_user_is_judged_against_it():
    errors = _errors(("osctl.yaml", APPS.replace('external_id_prefix: "qa-", ', "") + ALICE))
    assert [(path, message) for _, _, path, message in errors] == [
        ("apps.prod.test_users", "missing required key 'external_id_prefix'")]


def test_the_compiled_schema_check_accepts_a_valid_test_user():
    import yaml

    assert certainly_valid(yaml.safe_load(APPS + ALICE))
