"""Errors of the OneSignal client, all ApiError (exit 1) so the CLI boundary needs no special case.

    ApiError
     +-- OneSignalRequestFailed     base of everything below; carries call, method, path
          +-- AuthenticationFailed  401/403, or the 400 "include ... Authorization" answer
          +-- NotFound              404 where the call has no "absent" answer of its own
          +-- SegmentNameConflict   create hit an existing name (409, or 400 "already taken")
          +-- AccountBusy           an export is already running for this account
          +-- OutcomeUnknown        the request may have been carried out; its answer was lost
          +-- RetriesExhausted      still 429/5xx/unreachable after the policy's last attempt
          +-- Unreachable           a connection problem that retrying cannot fix (bad URL)
          +-- UserIdentityConflict  a user's aliases belong to another user (409)

Texts name the call, method, path, status and OneSignal's own messages; never the key,
never a request's headers (httpx exceptions are described, not chained).
"""

from __future__ import annotations

from osctl.errors import ApiError


class OneSignalRequestFailed(ApiError):
    def __init__(
        self,
        message: str,
        *,
        call: str = "",
        method: str = "",
        path: str = "",
        status: int | None = None,
        errors: list[str] | None = None,
    ):
        self.call = call
        self.method = method
        self.path = path
        super().__init__(message, status=status, errors=errors)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status={self.status!r})"


class AuthenticationFailed(OneSignalRequestFailed):
    pass


class NotFound(OneSignalRequestFailed):
    pass


class SegmentNameConflict(OneSignalRequestFailed):
    """`existing_id` is the id of the segment holding the name, when it could be found."""

    def __init__(self, message: str, *, name: str, existing_id: str | None, **kwargs):
        self.name = name
        self.existing_id = existing_id
        super().__init__(message, **kwargs)


class AccountBusy(OneSignalRequestFailed):
    """OneSignal runs one export per account at a time; wait and ask again."""


class OutcomeUnknown(OneSignalRequestFailed):
    """A request that is not safe to repeat may have reached OneSignal, but no answer came.

    For a create: the segment may exist now; look it up by name before creating again."""


class RetriesExhausted(OneSignalRequestFailed):
    def __init__(self, message: str, *, attempts: int, **kwargs):
        self.attempts = attempts
        super().__init__(message, **kwargs)


class Unreachable(OneSignalRequestFailed):
    pass


class UserIdentityConflict(OneSignalRequestFailed):
    """`conflicting_aliases` (label -> id) are held by another user, when OneSignal says which."""

    def __init__(self, message: str, *, conflicting_aliases: dict[str, str], **kwargs):
        self.conflicting_aliases = conflicting_aliases
        super().__init__(message, **kwargs)
