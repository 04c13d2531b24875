"""Safety checks on a plan. The plan only reports violations; apply enforces them."""

from __future__ import annotations

from collections.abc import Sequence

from osctl.config.model import Config
from osctl.errors import SafetyViolation
from osctl.plan.model import Plan, SegmentChange, Violation
from osctl.state.model import State

MASS_DESTROY_SHARE = 0.30
MASS_DESTROY_MIN = 3  # more than this many, and more than the share


def check_safety(config: Config, state: State | None, changes: Sequence[SegmentChange]) -> tuple[Violation, ...]:
    violations: list[Violation] = []
    protected = [c for c in changes if c.action.is_destructive and _protected(config, c)]
    if protected:
        violations.append(Violation(
            kind="prevent_destroy",
            message="prevent_destroy forbids " + ", ".join(f"{c.action.value} of {c.address}" for c in protected)
            + "; remove prevent_destroy from the configuration first if this is intended",
            overridable=False, addresses=tuple(c.address for c in protected)))
    managed: dict[str, int] = {}
    for record in (state.segments.values() if state else ()):
        managed[record.app] = managed.get(record.app, 0) + 1
    for app, total in sorted(managed.items()):
        destroyed = [c for c in changes if c.app == app and c.action.is_destructive]
        if len(destroyed) > MASS_DESTROY_MIN and len(destroyed) > MASS_DESTROY_SHARE * total:
            violations.append(Violation(
                kind="mass_destroy",
                message=f"the plan deletes or replaces {len(destroyed)} of the {total} segments osctl manages "
                        f"in app '{app}' (more than {int(MASS_DESTROY_SHARE * 100)}% and more than "
                        f"{MASS_DESTROY_MIN}); apply refuses without --allow-mass-destroy",
                overridable=True, addresses=tuple(c.address for c in destroyed)))
    return tuple(violations)


def refusal(plan: Plan, allow_mass_destroy: bool) -> SafetyViolation | None:
    """Why apply must not carry out `plan`, if it must not: the first violation that
    --allow-mass-destroy does not override (when given)."""
    for violation in plan.violations:
        if not violation.overridable or not allow_mass_destroy:
            return SafetyViolation(f"apply refused: {violation.message}")
    return None


def _protected(config: Config, change: SegmentChange) -> bool:
    segment = config.segment(change.app, change.name)
    return bool(segment and segment.prevent_destroy) or change.prevent_destroy
