"""Errors osctl expects, each carrying the exit code the CLI boundary uses.

    OsctlError (exit 1)                   anything we can explain in one line
     +-- ConfigError                      invalid configuration: carries Diagnostics
     +-- UsageError                       bad command-line usage osctl detects itself
     +-- StateError                       unreadable state, newer format, serial conflict
     |    +-- LockHeld                    another writer holds the lock
     |    +-- StalePlan                   a saved plan no longer matches state or live
     +-- ApiError                         OneSignal answered with an error
     +-- SafetyViolation                  apply refused by prevent_destroy / mass-destroy

Anything else reaching the boundary is a bug: one line, exit 1, traceback with -v.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from osctl.diagnostics import Diagnostic


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
