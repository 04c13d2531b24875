"""How a declared test user differs from the live one, and what osctl sends for it."""

from __future__ import annotations

from osctl.users.model import DeclaredUser, LiveSubscription, diff

ALICE = DeclaredUser(app="prod", external_id="qa-alice", aliases={"crm_id": "qa-12345"},
                     tags={"qa": "1", "cohort": "summer"}, language="en", timezone_id="Europe/Berlin",
                     subscriptions=(("Email", "alice+qa@example.com"), ("SMS", "+15555550100")),
                     devices=("dev-1",))
LIVE = {
    "identity": {"external_id": "qa-alice", "onesignal_id": "os-1", "crm_id": "old", "legacy": "x"},
    "properties": {"tags": {"qa": "1", "cohort": "spring", "stale": "yes"}, "language": "de"},
    "subscriptions": [{"id": "s1", "type": "Email", "token": "alice+qa@example.com"},
                      {"id": "s2", "type": "Email", "token": "old@example.com"},
                      {"id": "p1", "type": "AndroidPush", "token": "push-token"}],
}


def test_every_difference_is_found_and_shown_as_plans_show_it():
    change = diff(ALICE, LIVE)
    assert change.lines() == [
        'tags.cohort: "spring" → "summer"',
        'tags.stale: "yes" → (removed)',
        'language: "de" → "en"',
        'timezone_id: (none) → "Europe/Berlin"',
        'aliases.crm_id: "old" → "qa-12345"',
        'aliases.legacy: "x" → (removed)',
        "+ subscription SMS +15555550100",
        "- subscription Email old@example.com (id s2)",
        "+ device dev-1",
    ]
    assert change.subscriptions_removed == (LiveSubscription("s2", "Email", "old@example.com"),)
    # a removed tag is sent as "", as the API expects; untouched keys are not sent
    assert change.properties_patch() == {"properties": {
        "tags": {"cohort": "summer", "stale": ""}, "language": "en", "timezone_id": "Europe/Berlin"}}


def test_a_user_as_declared_has_no_diff_and_push_devices_from_the_sdk_stay():
    live = {"identity": {"external_id": "qa-alice", "onesignal_id": "os-1", "crm_id": "qa-12345"},
            "properties": {"tags": {"qa": "1", "cohort": "summer"}, "language": "en",
                           "timezone_id": "Europe/Berlin"},
            "subscriptions": [{"id": "e", "type": "Email", "token": "alice+qa@example.com"},
                              {"id": "s", "type": "SMS", "token": "+15555550100"},
                              {"id": "dev-1", "type": "iOSPush", "token": "t1"},
                              {"id": "dev-9", "type": "iOSPush", "token": "t9"}]}
    change = diff(ALICE, live)
    assert change.empty and change.lines() == [] and change.properties_patch() is None


def test_create_body_holds_the_external_id_properties_and_subscriptions_but_no_alias_to_look_up():
    assert ALICE.create_body() == {
        "identity": {"external_id": "qa-alice"},  # aliases follow through the identity endpoint
        "properties": {"tags": {"qa": "1", "cohort": "summer"}, "language": "en", "timezone_id": "Europe/Berlin"},
        "subscriptions": [{"type": "Email", "token": "alice+qa@example.com"},
                          {"type": "SMS", "token": "+15555550100"}],
    }
    assert ALICE.address == "user.prod.qa-alice"


def test_an_email_address_whose_case_alone_differs_is_no_change():
    """A change of case is not an add of the 'new' address and a delete of the user's own one:
    email addresses are compared without regard to case, as validate and the owners check do."""
    declared = DeclaredUser(app="prod", external_id="qa-alice",
                            subscriptions=(("Email", "Alice+QA@Example.com"), ("SMS", "+15555550100")))
    live = {"identity": {"external_id": "qa-alice", "onesignal_id": "os-1"},
            "subscriptions": [{"id": "e", "type": "Email", "token": "alice+qa@example.com"},
                              {"id": "s", "type": "SMS", "token": "+15555550100"}]}
    change = diff(declared, live)
    assert change.empty and change.lines() == []


ALICE_AS_LIVE = {
    "identity": {"external_id": "qa-alice", "onesignal_id": "os-1", "crm_id": "qa-12345"},
    "properties": {"tags": {"qa": "1", "cohort": "summer"}, "language": "en", "timezone_id": "Europe/Berlin"},
    "subscriptions": [{"id": "s1", "type": "Email", "token": "alice+qa@example.com"},
                      {"id": "s3", "type": "SMS", "token": "+15555550100"},
                      {"id": "dev-1", "type": "AndroidPush", "token": "t"}],
}


def test_within_keeps_only_what_the_sent_change_touched():
    """Apply waits for what it sent to show; the rest of a difference is an edit outside osctl."""
    sent = diff(ALICE, {**LIVE, "properties": {"tags": {"qa": "1", "cohort": "spring"}, "language": "en",
                                               "timezone_id": "Europe/Berlin"}})
    assert sent.lines() == ['tags.cohort: "spring" → "summer"', 'aliases.crm_id: "old" → "qa-12345"',
                            'aliases.legacy: "x" → (removed)', "+ subscription SMS +15555550100",
                            "- subscription Email old@example.com (id s2)", "+ device dev-1"]
    remaining = diff(ALICE, LIVE)  # as if nothing showed yet, and the dashboard had edited more
    assert remaining.within(sent).lines() == [
        'tags.cohort: "spring" → "summer"', 'aliases.crm_id: "old" → "qa-12345"', 'aliases.legacy: "x" → (removed)',
        "+ subscription SMS +15555550100", "- subscription Email old@example.com (id s2)", "+ device dev-1"]
    # tags.stale, language and timezone_id were not sent: not waited for
    assert remaining.within(diff(ALICE, {**LIVE, **ALICE_AS_LIVE})).empty

