"""Saved plans: the JSON plan plus what apply needs, and the staleness check (pure)."""

from __future__ import annotations

import json

from osctl.errors import OsctlError
from osctl.plan.model import PLAN_FORMAT_VERSION, Plan


def dumps(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"


def loads(text: str, source: str = "plan file") -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OsctlError(f"{source} is not a saved plan: invalid JSON at line {exc.lineno}") from None
    if not isinstance(data, dict) or "provenance" not in data or "changes" not in data:
        raise OsctlError(f"{source} is not a saved plan (write one with 'osctl plan --out FILE')")
    if data.get("format_version") != PLAN_FORMAT_VERSION:
        raise OsctlError(f"{source} has plan format {data.get('format_version')!r}; this osctl reads "
                         f"format {PLAN_FORMAT_VERSION!r}")
    try:
        return Plan.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise OsctlError(f"{source} is damaged: {exc}") from None


def stale_reasons(plan: Plan, *, config_digest: str, lineage: str | None, serial: int,
                  live_ids: dict[str, set[str]]) -> list[str]:
    """Why a saved plan can no longer be applied as reviewed; empty when it still can."""
    prov = plan.provenance
    reasons = []
    if prov.config_digest != config_digest:
        reasons.append("the configuration changed since the plan was made")
    if prov.state_lineage is None and lineage is not None:
        reasons.append("the plan was made before any state existed, and state has been written since "
                       "(was it applied already?)")
    elif prov.state_lineage is not None and lineage != prov.state_lineage:
        reasons.append(f"the state has another lineage ({lineage}) than the plan ({prov.state_lineage}): "
                       "it belongs to a different state")
    elif serial != prov.state_serial:
        reasons.append(f"the state moved on: serial {serial} now, {prov.state_serial} when planned")
    for change in plan.changes:
        if change.needs_live_segment:
            ids = live_ids.get(change.app)
            if ids is not None and change.segment_id not in ids:
                reasons.append(f"{change.address}: segment {change.segment_id}, which the plan would "
                               f"{change.action.value}, is no longer live")
    return reasons
