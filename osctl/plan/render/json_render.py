"""The plan as JSON: Plan.to_dict() as it is, described by schemas/plan.schema.json."""

from __future__ import annotations

import json

from osctl.plan.render.common import redact_plan


def render_json(plan: dict) -> str:
    return json.dumps(redact_plan(plan), indent=2, sort_keys=False) + "\n"
