"""Addresses: segment.<app>.<name> and export.<name>. Names may contain dots and spaces."""

from __future__ import annotations

from osctl.errors import UsageError

SEGMENT_PREFIX = "segment."
EXPORT_PREFIX = "export."


def segment_address(app: str, name: str) -> str:
    return f"{SEGMENT_PREFIX}{app}.{name}"


def export_address(name: str) -> str:
    return f"{EXPORT_PREFIX}{name}"


def export_name(address: str) -> str | None:
    """The export's name for export.<name>, else None."""
    return address[len(EXPORT_PREFIX):] if address.startswith(EXPORT_PREFIX) else None


def parse_segment_address(address: str, app_aliases) -> tuple[str, str]:
    """(app, name) for segment.<app>.<name>, matching the longest configured app alias."""
    if not address.startswith(SEGMENT_PREFIX):
        raise UsageError(f"{address!r} is not a segment address (valid: segment.APP.NAME)")
    rest = address[len(SEGMENT_PREFIX):]
    for alias in sorted(app_aliases, key=len, reverse=True):
        if rest.startswith(alias + ".") and len(rest) > len(alias) + 1:
            return alias, rest[len(alias) + 1:]
    raise UsageError(f"{address!r} names no configured app (valid: segment.APP.NAME with APP one of "
                     f"{', '.join(sorted(app_aliases)) or 'none'})")
