"""Colour only on a terminal, and never with --no-color or NO_COLOR set."""

from osctl.cli.options import Settings
from osctl.plan.render import render


def test_colour_needs_a_terminal_and_no_opt_out(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Settings().color(stream_isatty=True) is True
    assert Settings().color(stream_isatty=False) is False
    assert Settings(no_color=True).color(stream_isatty=True) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert Settings().color(stream_isatty=True) is False


def test_the_setting_decides_whether_the_text_plan_has_escape_codes():
    plan = {"format_version": "1", "osctl_version": "0", "created_at": "2026-11-22T03:05:00Z",
            "summary": {"create": 1, "replace": 0, "delete": 0, "state_only": 0, "exports_due": 0,
                        "subscribers_affected": 0},
            "changes": [{"address": "segment.prod.A", "action": "create", "symbol": "+", "reason": "new",
                         "reason_text": "declared and not yet created", "app": "prod",
                         "app_id": "5eb5a37e-b458-11e3-ac11-000c2940e62c", "name": "A", "segment_id": None,
                         "before": None, "after": [{"field": "country", "relation": "=", "value": "US"}],
                         "after_digest": "sha256:0", "description": None, "filter_diff": [],
                         "subscriber_count": None, "used_by_exports": [], "prevent_destroy": False}],
            "exports": [], "violations": [], "warnings": [],
            "provenance": {"config_digest": "sha256:0", "state_lineage": None, "state_serial": 0,
                           "live_ids": {}, "refresh": "full", "created_at": "2026-11-22T03:05:00Z",
                           "osctl_version": "0"}}
    assert "\x1b[" in render(plan, "text", color=Settings().color(stream_isatty=True))
    assert "\x1b[" not in render(plan, "text", color=Settings(no_color=True).color(stream_isatty=True))
