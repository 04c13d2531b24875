"""The planner against every row of the table in docs/design.md#planning-a-segment, with no I/O."""

from datetime import UTC, datetime

import pytest

from osctl.config.loader import analyse
from osctl.errors import PlanError
from osctl.filters import filters_digest
from osctl.onesignal.types import LiveSegment, SegmentDetail
from osctl.plan.model import Action, Reason
from osctl.plan.planner import AppLive, PlanOptions, make_plan
from osctl.state.model import SegmentRecord, State

NOW = datetime(2026, 11, 22, 3, 5, tzinfo=UTC)
APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
US = [{"field": "country", "relation": "=", "value": "US"}]
CA = [{"field": "country", "relation": "=", "value": "CA"}]


def config(*segments, extra=""):
    text = f"osctl: 1\napps:\n  prod: {{app_id: {APP_ID}}}\nsegments:\n"
    for name, country, *flags in segments:
        text += f"  - name: {name}\n    filters: [{{field: country, relation: '=', value: {country}}}]\n"
        for flag in flags:
            text += f"    {flag}\n"
    if not segments:
        text = text.replace("segments:\n", "")
    analysis = analyse("conf", [("conf/osctl.yaml", text + extra)])
    assert analysis.config is not None, [d.format() for d in analysis.diagnostics]
    return analysis.config


def record(name, filters, seg_id, status="created", created_at=None):
    return SegmentRecord(app="prod", app_id=APP_ID, name=name, id=seg_id, filters=tuple(filters),
                         digest=filters_digest(filters), status=status, created_at=created_at)


def state(*records):
    s = State.new()
    s.serial = 4
    for r in records:
        s.segments[r.address] = r
    return s


def live(*segments, details=None, listed=True, created_at=None):
    rows = tuple(LiveSegment(id=i, name=n, app_id=APP_ID, created_at=created_at, updated_at=None,
                             read_only=ro, is_active=True) for i, n, ro in segments)
    dets = {i: SegmentDetail(id=i, name=None, description=None, filters=f, subscriber_count=c,
                             unsupported=u) for i, (f, c, u) in (details or {}).items()}
    return {"prod": AppLive(rows if listed else None, dets)}


def only(plan):
    [change] = plan.changes
    return change


def test_declared_not_in_state_not_live_is_created():
    change = only(make_plan(config(("A", "US")), None, live(), NOW))
    assert (change.action, change.reason) == (Action.CREATE, Reason.NEW)
    assert change.after == US and change.address == "segment.prod.A"


def test_unmanaged_segment_in_the_way_is_an_error_suggesting_import():
    with pytest.raises(PlanError) as err:
        make_plan(config(("A", "US")), None, live(("id-1", "A", False)), NOW)
    assert "osctl import segment.prod.A id-1" in str(err.value)


def test_same_digest_same_live_filters_is_no_change():
    plan = make_plan(config(("A", "US")), state(record("A", US, "id-1")),
                     live(("id-1", "A", False), details={"id-1": (US, 10, False)}), NOW)
    assert plan.changes == () and not plan.has_changes


def test_live_filters_edited_outside_is_a_replace_showing_live_vs_declared():
    change = only(make_plan(config(("A", "US")), state(record("A", US, "id-1")),
                            live(("id-1", "A", False), details={"id-1": (CA, 7, False)}), NOW))
    assert (change.action, change.reason) == (Action.REPLACE, Reason.EDITED_OUTSIDE)
    assert change.before == CA and change.after == US and change.subscriber_count == 7
    assert 'filters[0].value: "CA" → "US"' in change.filter_diff


def test_changed_digest_is_a_replace_with_the_filter_diff():
    change = only(make_plan(config(("A", "CA")), state(record("A", US, "id-1")),
                            live(("id-1", "A", False), details={"id-1": (US, 12, False)}), NOW))
    assert (change.action, change.reason, change.segment_id) == (Action.REPLACE, Reason.FILTERS_CHANGED, "id-1")
    assert 'filters[0].value: "US" → "CA"' in change.filter_diff


def test_id_gone_is_recreated_as_drift():
    change = only(make_plan(config(("A", "US")), state(record("A", US, "id-1")), live(), NOW))
    assert (change.action, change.reason) == (Action.CREATE, Reason.DELETED_OUTSIDE)


def test_undeclared_and_live_is_deleted():
    change = only(make_plan(config(), state(record("A", US, "id-1")),
                            live(("id-1", "A", False), details={"id-1": (US, 99, False)}), NOW))
    assert (change.action, change.reason, change.segment_id, change.subscriber_count) == \
        (Action.DELETE, Reason.NOT_DECLARED, "id-1", 99)


def test_undeclared_and_gone_is_forgotten():
    change = only(make_plan(config(), state(record("A", US, "id-1")), live(), NOW))
    assert change.action == Action.FORGET


def test_unmanaged_live_segment_is_untouched():
    assert make_plan(config(), None, live(("id-9", "Theirs", False)), NOW).changes == ()


def test_refresh_none_trusts_state():
    plan = make_plan(config(("A", "US")), state(record("A", US, "id-1")), live(listed=False), NOW,
                     PlanOptions(refresh="none"))
    assert plan.changes == ()


def test_rename_is_delete_plus_create():
    plan = make_plan(config(("B", "US")), state(record("A", US, "id-1")), live(("id-1", "A", False)), NOW)
    assert [(c.action, c.name) for c in plan.changes] == [(Action.DELETE, "A"), (Action.CREATE, "B")]


def test_lost_create_answer_is_adopted_by_name_not_duplicated():
    pending = record("A", US, None, status="pending_create")
    change = only(make_plan(config(("A", "US")), state(pending),
                            live(("id-7", "A", False), details={"id-7": (US, 0, False)}), NOW))
    assert (change.action, change.segment_id) == (Action.ADOPT, "id-7")


def test_lost_create_answer_is_adopted_when_created_after_the_intent():
    pending = record("A", US, None, status="pending_create", created_at="2026-11-22T03:00:00Z")
    change = only(make_plan(config(("A", "US")), state(pending),
                            live(("id-7", "A", False), details={"id-7": (US, 0, False)},
                                 created_at="2026-11-22T03:00:01.000Z"), NOW))
    assert (change.action, change.segment_id, change.after) == (Action.ADOPT, "id-7", US)


def test_pending_create_never_adopts_a_segment_with_other_filters():
    pending = record("A", US, None, status="pending_create")
    with pytest.raises(PlanError) as err:
        make_plan(config(("A", "US")), state(pending),
                  live(("id-7", "A", False), details={"id-7": (CA, 5, False)}), NOW)
    assert "segment.prod.A: unmanaged segment in the way" in str(err.value)
    assert "osctl import segment.prod.A id-7" in str(err.value)
    assert err.value.dropped_intents == ("segment.prod.A",)


def test_pending_create_never_adopts_a_segment_created_before_the_intent():
    pending = record("A", US, None, status="pending_create", created_at="2026-11-22T03:00:00Z")
    with pytest.raises(PlanError) as err:
        make_plan(config(("A", "US")), state(pending),
                  live(("id-7", "A", False), details={"id-7": (US, 5, False)},
                       created_at="2026-11-22T02:59:00Z"), NOW)
    assert "unmanaged segment in the way" in str(err.value)
    assert err.value.dropped_intents == ("segment.prod.A",)


def test_undeclared_pending_create_forgets_rather_than_deletes_a_foreign_segment():
    pending = record("A", US, None, status="pending_create")
    change = only(make_plan(config(), state(pending),
                            live(("id-7", "A", False), details={"id-7": (CA, 5, False)}), NOW))
    assert (change.action, change.segment_id) == (Action.FORGET, None)


def test_import_command_is_quoted_for_the_shell():
    with pytest.raises(PlanError) as err:
        make_plan(config(("Spring campaign", "US")), None, live(("id-1", "Spring campaign", False)), NOW)
    assert "run: osctl import 'segment.prod.Spring campaign' id-1 (then plan again)" in str(err.value)


def test_interrupted_create_not_live_is_created_again():
    pending = record("A", US, None, status="pending_create")
    change = only(make_plan(config(("A", "US")), state(pending), live(), NOW))
    assert (change.action, change.reason) == (Action.CREATE, Reason.CREATE_INTERRUPTED)


def test_read_only_segment_is_never_touched():
    with pytest.raises(PlanError, match="read-only"):
        make_plan(config(), state(record("A", US, "id-1")), live(("id-1", "A", True)), NOW)


def test_unsupported_live_filters_are_never_touched():
    with pytest.raises(PlanError, match="unsupported_in_api"):
        make_plan(config(("A", "CA")), state(record("A", US, "id-1")),
                  live(("id-1", "A", False), details={"id-1": (US, 1, True)}), NOW)


def test_description_change_is_state_only():
    change = only(make_plan(config(("A", "US", "description: hello")), state(record("A", US, "id-1")),
                            live(("id-1", "A", False)), NOW))
    assert change.action == Action.UPDATE_STATE and change.action.symbol == "~"


def test_replaced_segment_lists_exports_that_use_it():
    extra = "exports:\n  - name: nightly\n    kind: subscriptions\n    subscriptions: {segment: A}\n"
    change = only(make_plan(config(("A", "CA"), extra=extra), state(record("A", US, "id-1")),
                            live(("id-1", "A", False)), NOW))
    assert change.used_by_exports == ("nightly",)


def test_target_and_exclude_select_addresses():
    cfg = config(("A", "US"), ("B", "US"))
    assert [c.name for c in make_plan(cfg, None, live(), NOW, PlanOptions(targets=("segment.prod.A",))).changes] == ["A"]
    assert [c.name for c in make_plan(cfg, None, live(), NOW, PlanOptions(excludes=("segment.prod.A",))).changes] == ["B"]
    assert len(make_plan(cfg, None, live(), NOW, PlanOptions(targets=("segment.prod",))).changes) == 2


def test_prevent_destroy_is_a_non_overridable_violation():
    plan = make_plan(config(("A", "CA", "prevent_destroy: true")), state(record("A", US, "id-1")),
                     live(("id-1", "A", False)), NOW)
    [violation] = plan.violations
    assert violation.kind == "prevent_destroy" and not violation.overridable


def test_mass_destroy_threshold_more_than_30_percent_and_more_than_3():
    records = [record(f"S{i}", US, f"id-{i}") for i in range(10)]
    listed = live(*[(f"id-{i}", f"S{i}", False) for i in range(10)])
    keep_six = config(*[(f"S{i}", "US") for i in range(6)])
    plan = make_plan(keep_six, state(*records), listed, NOW)
    assert [v.kind for v in plan.violations] == ["mass_destroy"]  # 4 of 10 deleted
    keep_seven = config(*[(f"S{i}", "US") for i in range(7)])
    assert make_plan(keep_seven, state(*records), listed, NOW).violations == ()  # 3 is not more than 3


def test_plan_round_trips_through_its_dict():
    from osctl.plan.model import Plan

    plan = make_plan(config(("A", "CA")), state(record("A", US, "id-1")), live(("id-1", "A", False)), NOW)
    assert Plan.from_dict(plan.to_dict()) == plan


def test_a_name_changed_outside_is_drift_restored_by_replace_by_default():
    change = only(make_plan(config(("A", "US")), state(record("A", US, "id-1")),
                            live(("id-1", "A2", False), details={"id-1": (US, 3, False)}), NOW))
    assert (change.action, change.reason, change.live_name) == (Action.REPLACE, Reason.RENAMED_OUTSIDE, "A2")
    assert change.segment_id == "id-1" and change.subscriber_count == 3


def test_a_name_changed_outside_is_seen_with_refresh_list():
    change = only(make_plan(config(("A", "US")), state(record("A", US, "id-1")),
                            live(("id-1", "A2", False)), NOW, PlanOptions(refresh="list")))
    assert change.reason == Reason.RENAMED_OUTSIDE


def test_a_name_changed_outside_cannot_be_restored_onto_a_foreign_segment():
    with pytest.raises(PlanError, match="unmanaged segment in the way"):
        make_plan(config(("A", "US")), state(record("A", US, "id-1")),
                  live(("id-1", "A2", False), ("id-9", "A", False)), NOW)


def test_a_deletion_shows_the_live_name():
    change = only(make_plan(config(), state(record("A", US, "id-1")), live(("id-1", "A2", False)), NOW))
    assert (change.action, change.name, change.live_name) == (Action.DELETE, "A", "A2")


def test_renamed_from_is_a_rename_in_place_of_the_same_segment():
    plan = make_plan(config(("B", "US", "renamed_from: A", "update: in_place")), state(record("A", US, "id-1")),
                     live(("id-1", "A", False), details={"id-1": (US, 3, False)}), NOW)
    change = only(plan)
    assert (change.action, change.reason, change.segment_id) == (Action.UPDATE, Reason.RENAMED_FROM, "id-1")
    assert (change.name, change.live_name, change.moved_from) == ("B", "A", "segment.prod.A")


def test_renamed_from_under_replace_is_one_replace_not_a_delete_and_a_create():
    change = only(make_plan(config(("B", "US", "renamed_from: [Z, A]")), state(record("A", US, "id-1")),
                            live(("id-1", "A", False)), NOW))
    assert (change.action, change.reason, change.moved_from) == (Action.REPLACE, Reason.RENAMED_FROM,
                                                                "segment.prod.A")


def test_renamed_from_that_oneSignal_already_shows_only_moves_state():
    change = only(make_plan(config(("B", "US", "renamed_from: A", "update: in_place")),
                            state(record("A", US, "id-1")), live(("id-1", "B", False)), NOW))
    assert (change.action, change.moved_from) == (Action.UPDATE_STATE, "segment.prod.A")


def test_renamed_from_matching_nothing_is_a_note_and_a_create():
    plan = make_plan(config(("B", "US", "renamed_from: A")), None, live(), NOW)
    assert only(plan).action == Action.CREATE
    assert plan.warnings == ("segment.prod.B: renamed_from (A) matches nothing in state, so it has no effect: "
                             "the segment is planned by its name",)


def test_renamed_from_matching_two_segments_is_an_error():
    with pytest.raises(PlanError, match=r"segment.prod.C: renamed_from matches 2 segments in state"):
        make_plan(config(("C", "US", "renamed_from: [A, B]")), state(record("A", US, "id-1"), record("B", US, "id-2")),
                  live(("id-1", "A", False), ("id-2", "B", False)), NOW)


def test_renamed_from_is_ignored_when_state_already_holds_the_new_name():
    plan = make_plan(config(("B", "US", "renamed_from: A")), state(record("A", US, "id-1"), record("B", US, "id-2")),
                     live(("id-1", "A", False), ("id-2", "B", False)), NOW)
    assert [(c.action, c.name) for c in plan.changes] == [(Action.DELETE, "A")]


def test_only_creates_and_replaces_create_a_segment():
    assert {action for action in Action if action.creates_segment} == {Action.CREATE, Action.REPLACE}
