"""Which live segment is osctl's: the rules the planner and apply share (pure).

osctl only ever changes or deletes a segment it created or imported. A create whose
answer was lost leaves an intent in state; the segment found later under that name is
taken as the one osctl created only if it has exactly the filters osctl meant to send
and was created after the intent was recorded. Anything else is someone else's.
"""

from __future__ import annotations

from datetime import datetime

from osctl.generate import scalar
from osctl.shell import osctl_command

# OneSignal's clock and ours differ a little, and the list shows created_at to the
# second: a segment created up to this long before the intent still counts as after it.
CLOCK_SKEW_SECONDS = 2.0


def timestamp(value: object) -> float | None:
    """Unix seconds from what OneSignal or state holds: an ISO 8601 string or unix seconds."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # an ISO time without offset cannot be compared safely
    return parsed.timestamp()


def created_after_intent(live_created: object, intent_recorded: object) -> bool | None:
    """True/False when both times are known; None when either is not (then only filters decide)."""
    live_at, intent_at = timestamp(live_created), timestamp(intent_recorded)
    if live_at is None or intent_at is None:
        return None
    return live_at >= intent_at - CLOCK_SKEW_SECONDS


def import_command(address: str, segment_id: str) -> str:
    """The exact command that starts managing `segment_id` as `address` (quoted for a POSIX shell)."""
    return osctl_command("import", address, segment_id)


def in_the_way(address: str, name: str, segment_ids: list[str], why: str = "", *, app: str | None = None) -> str:
    """The "unmanaged segment in the way" message, with the import block to paste and the
    command that imports it."""
    ids = f" (id {', '.join(segment_ids)})" if segment_ids else ""
    text = (f"{address}: unmanaged segment in the way: OneSignal already has a segment named {name!r}"
            f"{ids} that osctl did not create or import")
    if why:
        text += f"; {why}"
    text += ". osctl leaves it alone. "
    if segment_ids:
        block = f"{{segment: {scalar(name)}, " + (f"app: {scalar(app)}, " if app else "") + f"id: {segment_ids[0]}}}"
        text += (f"To manage it with this configuration, add to it: imports: [{block}] "
                 f"(reviewed in the next plan), or run: {import_command(address, segment_ids[0])} "
                 f"(then plan again); or give yours another name")
    else:
        text += "Import it with 'osctl import ADDRESS SEGMENT_ID', or give yours another name"
    return text
