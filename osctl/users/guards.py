"""The guard rails of an app's test users: what osctl may ever read or write. Pure.

They exist because OneSignal's user API acts on real people too: a user is looked
up by its aliases (so a typo can name a customer), and an Email or SMS address that
belongs to someone else is silently moved to the user osctl creates. osctl only
touches users whose external_id starts with the app's prefix, and only adds
addresses on the allowed domains and numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
# Deliberately plain: one @, no spaces, a dot in the domain. OneSignal checks the rest.
EMAIL = re.compile(r"^[^@\s]+@([^@\s]+\.[^@\s]+)$")
GUARDED_TYPES = ("Email", "SMS")


@dataclass(frozen=True)
class GuardRails:
    external_id_prefix: str
    email_domains: tuple[str, ...] = ()
    sms_numbers: tuple[str, ...] = ()  # exact E.164 numbers, or a prefix ending in "*"

    def owns(self, external_id: str | None) -> bool:
        """Whether osctl may read, change or delete the user with this external_id."""
        return bool(external_id and external_id.startswith(self.external_id_prefix))

    def refusal(self, external_id: str, tokens: Iterable[tuple[str, str]]) -> str | None:
        """Why osctl must not write this user with these (type, token) subscriptions added, or None:
        the rails checked again when a plan is applied (the config may be newer than a saved plan)."""
        if not self.owns(external_id):
            return (f"external id {external_id!r} does not start with the app's external_id_prefix "
                    f"{self.external_id_prefix!r}; osctl never changes or deletes such a user")
        for kind, token in tokens:
            problem = self.token_problem(kind, token)
            if problem:
                return problem
        return None

    def token_problem(self, kind: str, token: str) -> str | None:
        """Why osctl must not add this subscription, or None."""
        if kind == "Email":
            found = EMAIL.match(token)
            if not found:
                return f"{token!r} is not an email address"
            domain = found.group(1).lower()
            if domain not in (d.lower() for d in self.email_domains):
                allowed = ", ".join(self.email_domains) or "none are allowed"
                return f"{token} is not on an allowed email domain ({allowed})"
        elif kind == "SMS":
            if not E164.match(token):
                return f"{token!r} is not an E.164 phone number such as +15555550100"
            if not any(token == n or (n.endswith("*") and token.startswith(n[:-1])) for n in self.sms_numbers):
                allowed = ", ".join(self.sms_numbers) or "none are allowed"
                return f"{token} is not an allowed SMS number ({allowed})"
        return None
