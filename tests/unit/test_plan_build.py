"""A targeted plan is the whole plan narrowed: the same changes, violations and warnings as
make_plan with the selection, and the creates it leaves out hold back the exports of their
segments. No I/O."""

from __future__ import annotations

import pytest

from osctl.errors import PlanError
from osctl.plan.build import left_out_creates, narrow, plan_and_left_out, without_uncreated_segments
from osctl.plan.model import ExportRun
from osctl.plan.planner import PlanOptions, make_plan
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


@pytest.mark.parametrize("targets, excludes", [
    (("segment.prod.A",), ()),
    (("segment.prod.B", "segment.prod.D"), ()),
    (("segment.prod",), ("segment.prod.B",)),
    ((), ("segment.prod.A",)),
    (("export.of_a",), ()),
    (("segment.prod.C",), ()),
])
def test_narrowing_the_whole_plan_is_the_targeted_plan(world, targets, excludes):
    options = PlanOptions(targets=targets, excludes=excludes)
    cfg, recorded, _ = world
    assert narrow(make_plan(*world, NOW), cfg, recorded, options) == make_plan(*world, NOW, options)


def test_left_out_creates_are_the_creates_and_replaces_not_selected(world):
    everything = make_plan(*world, NOW)
    assert left_out_creates(everything, PlanOptions(targets=("export.of_a",))) == {
        "segment.prod.A", "segment.prod.B"}
    assert left_out_creates(everything, PlanOptions(excludes=("segment.prod.B",))) == {"segment.prod.B"}
    assert left_out_creates(everything, PlanOptions(targets=("segment.prod.A", "segment.prod.B"))) == set()


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
    assert plan_and_left_out(cfg, recorded, shown, NOW, options) == (
        make_plan(cfg, recorded, shown, NOW, options), frozenset())


def test_narrowing_selects_test_user_changes_too():
    cfg = users.config(segments="  - {name: A, filters: [{field: country, relation: '=', value: US}]}\n")
    shown = users.viewed({"qa-alice": None})
    everything = make_plan(cfg, None, shown, NOW)
    assert [c.address for c in everything.changes + everything.user_changes] == [
        "segment.prod.A", "user.prod.qa-alice"]
    for selection in [{"targets": ("segment",)}, {"targets": ("user.prod.qa-alice",)}, {"excludes": ("user",)}]:
        options = PlanOptions(**selection)
        assert narrow(everything, cfg, None, options) == make_plan(cfg, None, shown, NOW, options)
