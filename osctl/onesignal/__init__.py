"""OneSignal REST API client: requests, retries and parsing (docs/design.md#talking-to-onesignal)."""

from osctl.errors import (
    AccountBusy,
    AuthenticationFailed,
    MalformedAnswer,
    NotFound,
    OneSignalRequestFailed,
    OutcomeUnknown,
    RetriesExhausted,
    SegmentNameConflict,
    Unreachable,
)
from osctl.onesignal.client import OneSignalClient
from osctl.onesignal.retry import RetryPolicy
from osctl.onesignal.types import LiveSegment, Message, MessagePage, SegmentDetail

__all__ = [
    "AccountBusy",
    "AuthenticationFailed",
    "LiveSegment",
    "MalformedAnswer",
    "Message",
    "MessagePage",
    "NotFound",
    "OneSignalClient",
    "OneSignalRequestFailed",
    "OutcomeUnknown",
    "RetriesExhausted",
    "RetryPolicy",
    "SegmentDetail",
    "SegmentNameConflict",
    "Unreachable",
]
