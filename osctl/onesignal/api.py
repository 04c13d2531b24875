"""What the core asks of OneSignal: the API seams, as protocols.

Planning, apply and exports take their clients as arguments typed by these
protocols, never by `OneSignalClient` itself, so the core does not depend on
how requests are made (pacing, retries, HTTP). `OneSignalClient` implements both;
a test or another transport only has to match the methods its caller uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

from osctl.onesignal.types import LiveSegment, Message, SegmentDetail
from osctl.onesignal.user_types import CreatedUser, LiveUser
from osctl.users.model import LiveSubscription


class SegmentsApi(Protocol):
    """Segments of an app: what plan reads and apply changes."""

    def list_segments(self, app_id: str) -> list[LiveSegment]: ...

    def get_segment(self, app_id: str, segment_id: str, *, detail: bool = True) -> SegmentDetail | None: ...

    def create_segment(self, app_id: str, name: str, filters: list[dict],
                       description: str | None = None) -> str: ...

    def update_segment(self, app_id: str, segment_id: str, name: str, filters: list[dict]) -> bool: ...

    def delete_segment(self, app_id: str, segment_id: str) -> bool: ...


class ExportsApi(SegmentsApi, Protocol):
    """What exports read (messages, segments to estimate a file's size) and request."""

    def iter_messages(self, app_id: str, *, kind: int | None = None,
                      newer_than: int | None = None) -> Iterator[Message]: ...

    def get_message(self, app_id: str, message_id: str) -> Message | None: ...

    def request_subscriptions_export(self, app_id: str, *, extra_fields: Iterable[str] = (),
                                     segment_name: str | None = None, last_active_since: int | None = None,
                                     include_unsubscribed: bool | None = None) -> str: ...

    def request_audience_activity_export(self, app_id: str, message_id: str) -> str: ...

    def request_message_history(self, app_id: str, message_id: str, *, events: str,
                                email: str | None = None) -> str: ...

    def outcomes(self, app_id: str, names: Iterable[str], *, time_range: str = "1h",
                 platforms: Iterable[int] | None = None, attribution: str | None = None) -> list[dict]: ...


class UserViewsApi(Protocol):
    """Viewing test users by external_id (paced by the client: ~1 view per second per app)."""

    def get_user(self, app_id: str, external_id: str) -> LiveUser | None: ...

    def get_users(self, app_id: str, external_ids: Iterable[str], *,
                  on_each: Callable[[str], None] | None = None) -> dict[str, LiveUser | None]: ...


class UsersApi(UserViewsApi, Protocol):
    """Test users of an app, by external_id: what apply views and changes."""

    def create_user(self, app_id: str, body: dict) -> CreatedUser: ...

    def update_user_properties(self, app_id: str, external_id: str, properties: dict) -> None: ...

    def delete_user(self, app_id: str, external_id: str) -> bool: ...

    def upsert_aliases(self, app_id: str, external_id: str, aliases: dict[str, str]) -> dict[str, str]: ...

    def delete_alias(self, app_id: str, external_id: str, label: str) -> bool: ...

    def add_subscription(self, app_id: str, external_id: str, kind: str, token: str) -> LiveSubscription | None: ...

    def delete_subscription(self, app_id: str, subscription_id: str) -> bool: ...

    def subscription_owner(self, app_id: str, subscription_id: str) -> dict[str, str] | None: ...

    def transfer_subscription(self, app_id: str, subscription_id: str, external_id: str) -> dict[str, str]: ...


class PlanReadsApi(ExportsApi, UserViewsApi, Protocol):
    """All a plan reads: segments, due exports, test users and (one export) who holds an address."""


# One client per configured app, by the app's alias in the config (`apps:`).
SegmentClients = Mapping[str, SegmentsApi]
ExportClients = Mapping[str, ExportsApi]
UserClients = Mapping[str, UsersApi]
PlanClients = Mapping[str, PlanReadsApi]
