"""Plan renderers: pure functions from the plan dict (Plan.to_dict() or a saved plan) to text.

Each renderer first cuts URLs in free-text fields to their host (common.redact_plan),
so an export's download link is never printed in full, whichever entry point is used.
"""

from __future__ import annotations

from osctl.plan.render.common import summary_line
from osctl.plan.render.json_render import render_json
from osctl.plan.render.markdown import MARKDOWN_LIMIT, render_markdown
from osctl.plan.render.text import render_text

FORMATS = ("text", "markdown", "json")

__all__ = ["FORMATS", "MARKDOWN_LIMIT", "render", "render_json", "render_markdown", "render_text",
           "summary_line"]


def render(plan_dict: dict, fmt: str, *, color: bool = False) -> str:
    """The plan in `fmt` (text | markdown | json). `color` adds ANSI colours to text only."""
    if fmt == "text":
        return render_text(plan_dict, color=color)
    if fmt == "markdown":
        return render_markdown(plan_dict)
    if fmt == "json":
        return render_json(plan_dict)
    raise ValueError(f"unknown plan format {fmt!r}; expected one of {', '.join(FORMATS)}")
