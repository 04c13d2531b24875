"""Guard rails of test users: which users and addresses osctl may touch."""

from __future__ import annotations

import pytest

from osctl.users.guards import GuardRails

RAILS = GuardRails("qa-", email_domains=("example.com",), sms_numbers=("+15555550100", "+1555555019*"))


def test_only_users_with_the_prefix_are_osctls():
    assert RAILS.owns("qa-alice")
    assert not RAILS.owns("alice") and not RAILS.owns("QA-alice") and not RAILS.owns(None) and not RAILS.owns("")


@pytest.mark.parametrize(("kind", "token", "problem"), [
    ("Email", "alice+qa@example.com", None),
    ("Email", "Alice@EXAMPLE.com", None),
    ("Email", "alice@example.org", "alice@example.org is not on an allowed email domain (example.com)"),
    ("Email", "alice@mail.example.com", "alice@mail.example.com is not on an allowed email domain (example.com)"),
    ("Email", "not an address", "'not an address' is not an email address"),
    ("SMS", "+15555550100", None),
    ("SMS", "+15555550199", None),  # the prefix rule
    ("SMS", "+15555550101", "+15555550101 is not an allowed SMS number (+15555550100, +1555555019*)"),
    ("SMS", "5555550100", "'5555550100' is not an E.164 phone number such as +15555550100"),
    ("AndroidPush", "anything", None),  # push tokens are not guarded: devices are attached, not added
])
def test_tokens(kind, token, problem):
    assert RAILS.token_problem(kind, token) == problem


def test_no_allow_list_allows_nothing():
    assert GuardRails("qa-").token_problem("Email", "a@example.com") == \
        "a@example.com is not on an allowed email domain (none are allowed)"
