"""Segments osctl can never manage, and why: read-only ones (built-ins such as "Subscribed
Users") and those whose filters the API cannot express (unsupported_in_api). Pure.

import refuses them, and a plan blocked by one suggests renaming, never importing.
"""

from __future__ import annotations

from osctl.onesignal.types import LiveSegment, SegmentDetail

UNSUPPORTED = ("uses filters the API does not support (unsupported_in_api: message or custom events, "
               "made in the dashboard)")
READ_ONLY = "is read-only in OneSignal"


def why_unmanageable(listed: LiveSegment | None, detail: SegmentDetail | None) -> str | None:
    """The reason, phrased to follow "segment X ...", or None. `listed`: the segment's row of
    the list (read_only), `detail`: its view (unsupported); either may be None (not read)."""
    if listed is not None and getattr(listed, "read_only", False):
        return READ_ONLY
    if detail is not None and getattr(detail, "unsupported", False):
        return UNSUPPORTED
    return None
