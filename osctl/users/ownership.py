"""Who already holds an Email address or SMS number in an app. Pure.

OneSignal moves an Email or SMS subscription that another user holds to the user a
create or an add names, without an error (docs/onesignal-api.md#users-and-subscriptions).
osctl must therefore know the owner of every address it is about to add. The API has
no lookup by token; the subscriptions CSV export lists every subscription with its
token (`identifier`) and, asked for it, its user's `external_user_id`. The caller runs
that export (effects) and hands the rows here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from osctl.users.model import DeclaredUser, LiveSubscription

# device_type codes of the subscriptions export (docs/onesignal-api.md#exports)
_KIND_BY_DEVICE_TYPE = {"11": "Email", "14": "SMS"}


def token_key(kind: str, token: str) -> tuple[str, str]:
    """How tokens are compared: email addresses without regard to case."""
    return (kind, token.lower() if kind == "Email" else token)


@dataclass(frozen=True)
class TokenOwners:
    """The owners of an app's Email and SMS tokens: (kind, token) -> external_id, or ""
    for a user without one (which osctl never manages)."""

    owners: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def owner(self, kind: str, token: str) -> str | None:
        """The holder's external_id ("" when it has none), or None when nobody holds the token."""
        return self.owners.get(token_key(kind, token))

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> TokenOwners:
        """From the subscriptions export's rows (identifier, device_type, external_user_id)."""
        owners: dict[tuple[str, str], str] = {}
        for row in rows:
            kind = _KIND_BY_DEVICE_TYPE.get(str(row.get("device_type", "")).strip())
            token = row.get("identifier") or ""
            if kind and token:
                owners[token_key(kind, token)] = row.get("external_user_id") or ""
        return cls(owners)


def ownership_problem(kind: str, token: str, external_id: str, owners: TokenOwners,
                      test_users: Iterable[str]) -> str | None:
    """Why osctl must not add this token to the user `external_id`, or None."""
    owner = owners.owner(kind, token)
    if owner is None or owner == external_id:
        return None
    if owner and owner in set(test_users):
        holder = f"test user {owner!r}"
    else:
        holder = "a user osctl does not manage"
    return (f"{kind} {token} already belongs to {holder}; OneSignal would move it to {external_id!r} "
            f"without a word. osctl refuses: remove it from the other user first, or declare another address")


def tokens_to_add(declared: Iterable[DeclaredUser],
                  held: Mapping[str, Iterable[LiveSubscription]]) -> list[tuple[str, str]]:
    """The Email and SMS tokens the declared users would be given and do not hold yet, by
    what each holds (external_id -> its live subscriptions; absent: holds nothing).
    Only these need an owner looked up: a plan that adds none needs no export."""
    found: list[tuple[str, str]] = []
    for user in declared:
        mine = {token_key(s.type, s.token) for s in held.get(user.external_id, ())}
        found += [(kind, token) for kind, token in user.subscriptions if token_key(kind, token) not in mine]
    return found
