"""A targeted plan is the whole plan, planned once, with a selection: its changes, violations
and warnings, and the creates it leaves out, which hold back the exports of their segments.
No I/O."""

from __future__ import annotations

import pytest

from osctl.errors import PlanError
from osctl.plan.build import plan_and_left_out, without_uncreated_segments
from osctl.plan.model import ExportRun
from osctl.plan.planner import PlanOptions, make_plan, plan_everything, select
from tests.unit import test_user_planner as users
from tests.unit.test_planner import CA, NOW, US, config, live, record, state

EXPORTS = ("exports:\n"
           "  - {name: of_a, kind: subscriptions, subscriptions: {segment: A}}\n"
           "  - {name: of_b, kind: subscriptions, subscriptions: {segment: B}}\n"
           "  - {name: of_c, kind: subscriptions, subscriptions: {segment: C}}\n")


@pytest.fixture
def world():
    """A is new (create), B was edited in the dashboard and is protected (replace, a
    prevent_destroy violation), C is as declared, D is no longer declared (delete)."""
    cfg = config(("A", "US"), ("B", "US", "prevent_destroy: true"), ("C", "US"), extra=EXPORTS)
    recorded = state(record("B", US, "id-b"), record("C", US, "id-c"), record("D", US, "id-d"))
    shown = live(("id-b", "B", False), ("id-c", "C", False), ("id-d", "D", False),
                 details={"id-b": (CA, 5, False), "id-c": (US, 6, False), "id-d": (US, 7, False)})
    return cfg, recorded, shown


def test_the_whole_plan_is_what_the_selections_are_made_from(world):
    everything = make_plan(*world, NOW)
    assert [(c.name, c.action.value) for c in everything.changes] == [
        ("D", "delete"), ("B", "replace"), ("A", "create")]
    assert [v.kind for v in everything.violations] == ["prevent_destroy"]


@pytest.mark.parametrize("targets, excludes, expected", [
    (("segment.prod.A",), (), ["A"]),
    (("segment.prod.B", "segment.prod.D"), (), ["D", "B"]),
    (("segment.prod",), ("segment.prod.B",), ["D", "A"]),
    ((), ("segment.prod.A",), ["D", "B"]),
    (("export.of_a",), (), []),
    (("segment.prod.C",), (), []),
])
def test_a_selection_keeps_the_selected_changes_their_violations_and_says_the_plan_is_partial(
        world, targets, excludes, expected):
    selected = make_plan(*world, NOW, PlanOptions(targets=targets, excludes=excludes))
    assert [c.name for c in selected.changes] == expected
    assert [v.kind for v in selected.violations] == (["prevent_destroy"] if "B" in expected else [])
    assert selected.warnings == ("the plan is partial (--target/--exclude): other changes may be pending",)


def test_left_out_creates_are_the_creates_and_replaces_not_selected(world):
    everything = plan_everything(*world, NOW)
    assert everything.left_out_creates(PlanOptions(targets=("export.of_a",))) == {
        "segment.prod.A", "segment.prod.B"}
    assert everything.left_out_creates(PlanOptions(excludes=("segment.prod.B",))) == {"segment.prod.B"}
    assert everything.left_out_creates(PlanOptions(targets=("segment.prod.A", "segment.prod.B"))) == set()


def test_exports_of_segments_left_out_wait(world):
    cfg = world[0]
    runs = tuple(ExportRun(address=f"export.{name}", name=name, app="prod", kind="subscriptions", reason="forced")
                 for name in ("of_a", "of_b", "of_c"))
    kept, waiting = without_uncreated_segments(cfg, runs, frozenset({"segment.prod.A", "segment.prod.B"}))
    assert [r.name for r in kept] == ["of_c"]
    assert waiting == (
        "export.of_a waits: its segment segment.prod.A has a create or replace pending that --target/--exclude "
        "leave out of this plan",
        "export.of_b waits: its segment segment.prod.B has a create or replace pending that --target/--exclude "
        "leave out of this plan")
    assert without_uncreated_segments(cfg, runs, frozenset()) == (runs, ())


def test_a_targeted_plan_is_planned_once_and_leaves_out_what_it_does_not_select(world):
    options = PlanOptions(targets=("export.of_a", "segment.prod.C"))
    the_plan, left_out = plan_and_left_out(*world, NOW, options)
    assert the_plan == make_plan(*world, NOW, options)
    assert left_out == {"segment.prod.A", "segment.prod.B"}
    assert plan_and_left_out(*world, NOW, PlanOptions()) == (make_plan(*world, NOW), frozenset())


def test_a_read_only_segment_left_out_does_not_stop_a_targeted_plan():
    """The whole plan would delete a read-only segment (refused); the targeted one does not."""
    cfg = config(("A", "US"))
    recorded = state(record("R", US, "id-r"))
    shown = live(("id-r", "R", True))
    options = PlanOptions(targets=("segment.prod.A",))
    with pytest.raises(PlanError, match="read-only"):
        make_plan(cfg, recorded, shown, NOW)
    the_plan, left_out = plan_and_left_out(cfg, recorded, shown, NOW, options)
    assert [c.name for c in the_plan.changes] == ["A"] and left_out == frozenset()


def test_a_selection_selects_test_user_changes_too():
    cfg = users.config(segments="  - {name: A, filters: [{field: country, relation: '=', value: US}]}\n")
    shown = users.viewed({"qa-alice": None})
    everything = plan_everything(cfg, None, shown, NOW)
    assert [c.address for c in everything.changes + everything.user_changes] == [
        "segment.prod.A", "user.prod.qa-alice"]
    for selection, expected in [({"targets": ("segment",)}, ["segment.prod.A"]),
                                ({"targets": ("user.prod.qa-alice",)}, ["user.prod.qa-alice"]),
                                ({"excludes": ("user",)}, ["segment.prod.A"])]:
        picked = select(everything, cfg, None, shown, PlanOptions(**selection))
        assert [c.address for c in picked.changes + picked.user_changes] == expected
