"""Addresses: segment.<app>.<name>, user.<app>.<external_id> and export.<name>. Names and external ids
may contain dots (and names spaces)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from osctl.errors import UsageError

if TYPE_CHECKING:  # osctl.state.model imports this module
    from osctl.config.model import Config
    from osctl.state.model import State

SEGMENT_PREFIX = "segment."
EXPORT_PREFIX = "export."
USER_PREFIX = "user."


def segment_address(app: str, name: str) -> str:
    return f"{SEGMENT_PREFIX}{app}.{name}"


def user_address(app: str, external_id: str) -> str:
    return f"{USER_PREFIX}{app}.{external_id}"


def export_address(name: str) -> str:
    return f"{EXPORT_PREFIX}{name}"


def export_name(address: str) -> str | None:
    """The export's name for export.<name>, else None."""
    return address[len(EXPORT_PREFIX):] if address.startswith(EXPORT_PREFIX) else None


def parse_segment_address(address: str, app_aliases: Collection[str]) -> tuple[str, str]:
    """(app, name) for segment.<app>.<name>, matching the longest configured app alias."""
    return _parse(address, app_aliases, SEGMENT_PREFIX, "a segment address", "segment.APP.NAME")


def parse_user_address(address: str, app_aliases: Collection[str]) -> tuple[str, str]:
    """(app, external_id) for user.<app>.<external_id>, matching the longest configured app alias."""
    return _parse(address, app_aliases, USER_PREFIX, "a test user address", "user.APP.EXTERNAL_ID")


def _parse(address: str, app_aliases: Collection[str], prefix: str, kind: str, valid: str) -> tuple[str, str]:
    if not address.startswith(prefix):
        raise UsageError(f"{address!r} is not {kind} (valid: {valid})")
    rest = address[len(prefix):]
    for alias in sorted(app_aliases, key=len, reverse=True):
        if rest.startswith(alias + ".") and len(rest) > len(alias) + 1:
            return alias, rest[len(alias) + 1:]
    raise UsageError(f"{address!r} names no configured app (valid: {valid} with APP one of "
                     f"{', '.join(sorted(app_aliases)) or 'none'})")


def known_addresses(config: Config, state: State | None) -> list[str]:
    """Every address a --target/--exclude can name: declared and recorded segments and test users,
    exports, and the prefixes that select several (segment, segment.APP, user, user.APP, export)."""
    segments = {s.address for s in config.segments}
    segments |= set(state.segments) if state is not None else set()
    apps = {f"segment.{alias}" for alias in config.apps}
    apps |= {f"segment.{r.app}" for r in (state.segments.values() if state is not None else ())}
    users = {u.address for u in config.test_users}
    users |= set(state.users) if state is not None else set()
    user_apps = {f"user.{u.app}" for u in config.test_users}
    user_apps |= {f"user.{r.app}" for r in (state.users.values() if state is not None else ())}
    exports = {e.address for e in config.exports}
    prefixes = {"segment"} if segments else set()
    prefixes |= {"user"} if users else set()
    prefixes |= {"export"} if exports else set()
    return sorted(segments | apps | users | user_apps | exports | prefixes)


def unmatched_selection(targets: Iterable[str], excludes: Iterable[str], known: list[str]) -> str | None:
    """Why --target/--exclude name an address that matches nothing (a typo would otherwise plan
    "No changes" and exit 0), with the closest known addresses; None when all match."""
    import difflib

    from osctl.shell import quote

    problems = []
    for flag, patterns in (("--target", targets), ("--exclude", excludes)):
        for pattern in patterns:
            if any(a == pattern or a.startswith(pattern + ".") for a in known):
                continue
            by_folded: dict[str, str] = {}
            for address in known:
                if "." in address:  # "segment", "user" or "export" alone is no help
                    by_folded.setdefault(address.casefold(), address)
            folded = pattern.casefold()
            close = [folded] if folded in by_folded else \
                difflib.get_close_matches(folded, list(by_folded), n=3, cutoff=0.6)
            hint = f"; closest: {', '.join(quote(by_folded[c]) for c in close)}" if close else ""
            problems.append(f"{flag} {quote(pattern)} matches nothing in the configuration or state{hint}")
    if not problems:
        return None
    return "\n".join(problems) + " (addresses are segment.APP.NAME, segment.APP, user.APP.EXTERNAL_ID, " \
                                 "user.APP or export.NAME; names are case-sensitive)"
