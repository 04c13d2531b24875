"""The OneSignal client's errors, defined with every other osctl error in osctl/errors.py.

Importable from here too, so that code written against this module keeps working.
"""

from osctl.errors import (  # noqa: F401
    AccountBusy,
    ApiError,
    AuthenticationFailed,
    MalformedAnswer,
    NotFound,
    OneSignalRequestFailed,
    OutcomeUnknown,
    RetriesExhausted,
    SegmentInUse,
    SegmentNameConflict,
    Unreachable,
    UpdateNotSupported,
    UserIdentityConflict,
)
