"""Every error osctl raises on purpose, each carrying the exit code the CLI boundary uses.

    OsctlError (exit 1)                     anything we can explain in one line
     +-- ConfigError                        invalid configuration: carries Diagnostics
     +-- FormatError                        a file `osctl fmt` cannot rewrite: line, col, what is valid
     +-- UsageError                         bad command-line usage osctl detects itself
     +-- PlanError                          the plan cannot be made: lists every problem
     +-- SafetyViolation                    apply refused by prevent_destroy / mass-destroy
     +-- Interrupted                        SIGINT/SIGTERM before any change (exit 128 + signal)
     +-- NotRecorded                        done in OneSignal, but state could not record it
     +-- StateError                         unreadable state, newer format, serial conflict
     |    +-- LockHeld                      another writer holds the lock
     |    +-- StalePlan                     a saved plan no longer matches state or live
     +-- ExportFailed                       one export run failed (recorded as its last_error)
     +-- ExportStopped                      a stop was asked for: the export ends early
     +-- DownloadFailed                     an export file could not be fetched or did not verify
     +-- DownloadGaveUp                     an export file's download failed for the last time allowed
     +-- NotReadyInTime                     an export file was still not ready at the deadline
     +-- DestinationError                   an export destination refused a write or delete
     +-- OwnersLookupFailed                 who holds a test user's Email/SMS addresses is unknown
     +-- ApiError                           OneSignal answered with an error
          +-- OneSignalRequestFailed        the client's errors; carry call, method, path
               +-- AuthenticationFailed     401/403, or the 400 "include ... Authorization" answer
               +-- NotFound                 404 where the call has no "absent" answer of its own
               +-- SegmentNameConflict      create or update hit an existing name (409, or 400 "already taken")
               +-- SegmentInUse             update refused: the segment is used by an active Journey
               +-- UpdateNotSupported       the server or the app's plan offers no segment update (PATCH)
               +-- AccountBusy              an export is already running for this account
               +-- MalformedAnswer          a success whose body is not JSON or not of the expected shape
               +-- OutcomeUnknown           the request may have been carried out; its answer was lost
               +-- RetriesExhausted         still 429/5xx/unreachable after the policy's last attempt
               +-- Unreachable              a connection problem that retrying cannot fix (bad URL)
               +-- UserIdentityConflict     a user's aliases belong to another user (409)

Anything else is a bug (describe_bug): at the CLI boundary one line, exit 1, the
traceback with -v; where apply or an export run keeps going with independent work,
the failure reads the same and the command prints the traceback with -v too.

The client's texts name the call, method, path, status and OneSignal's own messages;
never the key, never a request's headers (httpx exceptions are described, not chained).
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, TypedDict, Unpack

if TYPE_CHECKING:
    from osctl.diagnostics import Diagnostic


VERBOSE_HINT = "rerun with -v for the traceback"


def describe_bug(exc: BaseException) -> str:
    """One line for an exception osctl did not expect."""
    return f"internal error: {type(exc).__name__}: {exc}"


class OsctlError(Exception):
    exit_code = 1


class UsageError(OsctlError):
    pass


class ConfigError(OsctlError):
    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        count = sum(1 for d in diagnostics if d.severity == "error")
        super().__init__(f"configuration has {count} error{'s' if count != 1 else ''}")


class StateError(OsctlError):
    pass


class LockHeld(StateError):
    pass


class StalePlan(StateError):
    pass


class ApiError(OsctlError):
    def __init__(self, message: str, *, status: int | None = None, errors: list[str] | None = None):
        self.status = status
        self.errors = errors or []
        super().__init__(message)


class SafetyViolation(OsctlError):
    pass


class PlanError(OsctlError):
    """The plan cannot be made: every problem is listed."""

    def __init__(self, problems: list[str], *, dropped_intents: tuple[str, ...] = ()):
        self.problems = problems
        self.dropped_intents = dropped_intents  # addresses of unfinished creates apply should forget
        text = problems[0] if len(problems) == 1 else f"{len(problems)} problems:\n  - " + "\n  - ".join(problems)
        super().__init__(f"cannot plan: {text}")


class FormatError(OsctlError):
    """The file cannot be formatted; line and col are 1-based (0 when unknown)."""

    def __init__(self, line: int, col: int, message: str, valid: str = ""):
        super().__init__(message)
        self.line, self.col, self.message, self.valid = line, col, message, valid


class ExportFailed(OsctlError):
    pass


class ExportStopped(OsctlError):
    """A stop was asked for (SIGINT/SIGTERM): the export ends early, its request kept in state."""


class Interrupted(OsctlError):
    def __init__(self, signum: int):
        self.exit_code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name} before any change was made")


class NotRecorded(OsctlError):
    """Done in OneSignal, but state could not record it."""


class DownloadFailed(OsctlError):
    """The file could not be fetched or did not verify; `retryable` when fetching again may help."""

    def __init__(self, message: str, *, retryable: bool):
        self.retryable = retryable
        super().__init__(message)


class DownloadGaveUp(OsctlError):
    """An export file's download failed `attempts` times: the last attempt allowed, or a failure
    fetching again cannot fix. `failure` is the last one. Export runs and the owners lookup word
    it as their own error (osctl.exports.fetching)."""

    def __init__(self, attempts: int, failure: DownloadFailed):
        self.attempts = attempts
        self.failure = failure
        super().__init__(f"download failed {attempts} time(s): {failure}")


class NotReadyInTime(OsctlError):
    """An export file was still not ready at the deadline: `looks` looks at `masked_url` (the
    link shown masked), the last answered `last`, `waited` seconds after it was asked for.
    Export runs and the owners lookup word it as their own error (osctl.exports.fetching)."""

    def __init__(self, looks: int, masked_url: str, last: str, *, waited: float):
        self.looks = looks
        self.masked_url = masked_url
        self.last = last
        self.waited = waited
        super().__init__(f"the file was not ready ({looks} look(s) at {masked_url}, last: {last})")


class DestinationError(OsctlError):
    """The destination refused a write or delete (permissions, a missing bucket, credentials)."""


class OwnersLookupFailed(OsctlError):
    """The subscriptions export that tells who holds an app's Email addresses and SMS numbers
    could not be requested, made or read (osctl.users.owners_lookup)."""


# -- the OneSignal client's errors -------------------------------------------------------


class RequestFacts(TypedDict, total=False):
    """What a OneSignalRequestFailed tells of the request; its subclasses pass them on."""

    call: str
    method: str
    path: str
    status: int | None
    errors: list[str] | None


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

    def reworded(self, message: str) -> OneSignalRequestFailed:
        """The same error with a message that says more (e.g. which server could not be reached)."""
        self.args = (message,)
        return self


class AuthenticationFailed(OneSignalRequestFailed):
    pass


class NotFound(OneSignalRequestFailed):
    pass


class SegmentNameConflict(OneSignalRequestFailed):
    """`existing_id` is the id of the segment holding the name, when it could be found."""

    def __init__(self, message: str, *, name: str, existing_id: str | None, **kwargs: Unpack[RequestFacts]):
        self.name = name
        self.existing_id = existing_id
        super().__init__(message, **kwargs)


class SegmentInUse(OneSignalRequestFailed):
    """OneSignal refuses to update a segment an active Journey uses (400)."""


class UpdateNotSupported(OneSignalRequestFailed):
    """No segment update here: a server that does not route PATCH, or an app plan without the API."""


class AccountBusy(OneSignalRequestFailed):
    """OneSignal runs one export per account at a time; wait and ask again."""


class MalformedAnswer(OneSignalRequestFailed):
    """OneSignal (or something in front of it) answered with success, but not in a shape osctl can
    read. Never taken as an empty result: a plan from it would be wrong."""


class OutcomeUnknown(OneSignalRequestFailed):
    """A request that is not safe to repeat may have reached OneSignal, but no answer came.

    For a create: the segment may exist now; look it up by name before creating again."""


class RetriesExhausted(OneSignalRequestFailed):
    def __init__(self, message: str, *, attempts: int, **kwargs: Unpack[RequestFacts]):
        self.attempts = attempts
        super().__init__(message, **kwargs)


class Unreachable(OneSignalRequestFailed):
    pass


class UserIdentityConflict(OneSignalRequestFailed):
    """`conflicting_aliases` (label -> id) are held by another user, when OneSignal says which."""

    def __init__(self, message: str, *, conflicting_aliases: dict[str, str], **kwargs: Unpack[RequestFacts]):
        self.conflicting_aliases = conflicting_aliases
        super().__init__(message, **kwargs)
