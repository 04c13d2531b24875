"""Which exports run and which messages they cover (pure)."""

from __future__ import annotations

from dataclasses import replace

from osctl.config.model import (
    AudienceActivityOptions,
    Config,
    Export,
    ExportKind,
    MessageHistoryOptions,
    MessageSelector,
    Segment,
    StateSettings,
    SubscriptionsOptions,
)
from osctl.exports.due import NO_MESSAGES, make_runs, runs_wanted
from osctl.exports.messages import Candidate, Selection, select, unknown_ids_problem
from osctl.schedule import parse_time
from osctl.state.model import ExportRecord, SegmentRecord, State

NOW = parse_time("2026-11-22T03:05:00Z")
T = int(NOW.timestamp())
H, D = 3600, 86400


def history(selector: MessageSelector, kind: str = "message_history") -> Export:
    options = (MessageHistoryOptions(messages=selector, events="sent") if kind == "message_history"
               else AudienceActivityOptions(messages=selector))
    return Export(name="hist", app="prod", kind=ExportKind(kind), destination="x.csv.gz", schedule="0 3 * * *",
                  options=options)


def test_window_settle_and_bookmarks():
    e = history(MessageSelector(sent_within_seconds=2 * D, settle_seconds=24 * H))
    msgs = [
        Candidate("settled", queued_at=T - 40 * H, completed_at=T - 30 * H),
        Candidate("older-settled", queued_at=T - 47 * H, completed_at=T - 46 * H),
        Candidate("not-settled", queued_at=T - 10 * H, completed_at=T - 2 * H),
        Candidate("sending", queued_at=T - 3 * H, completed_at=None),
        Candidate("outside", queued_at=T - 3 * D, completed_at=T - 3 * D),
        Candidate("done", queued_at=T - 30 * H, completed_at=T - 29 * H),
        Candidate("canceled", queued_at=T - 30 * H, completed_at=T - 29 * H, canceled=True),
    ]
    got = select(e, msgs, done=["done"], now=NOW)
    assert got.messages == ("older-settled", "settled")  # oldest first
    assert got.warnings == ()


def test_message_history_skips_messages_older_than_seven_days_with_a_warning():
    e = history(MessageSelector(ids=("new", "old")))
    msgs = [Candidate("new", queued_at=T - 6 * D), Candidate("old", queued_at=T - 8 * D)]
    got = select(e, msgs, done=[], now=NOW)
    assert got.messages == ("new",)
    assert len(got.warnings) == 1 and "7 days" in got.warnings[0] and "old" in got.warnings[0]
    # audience activity has no such window
    assert select(history(e.messages, "audience_activity"), msgs, [], NOW).messages == ("old", "new")


def test_unknown_ids_are_a_problem_naming_them():
    e = history(MessageSelector(ids=("a", "gone", "lost")))
    assert unknown_ids_problem(e, "app-id", ["lost", "gone"]) == (
        "export.hist: messages gone, lost do not exist in app 'prod' (app-id); remove them from messages.ids "
        "(OneSignal may have deleted them, or no longer keeps them)")


def config(*exports: Export, segments=()) -> Config:
    return Config(directory=".", apps={}, state=StateSettings(), segments=tuple(segments), exports=exports)


def test_due_forced_and_on_demand_runs():
    nightly = Export(name="nightly", app="prod", kind=ExportKind.SUBSCRIPTIONS, destination="x",
                     options=SubscriptionsOptions(), schedule="0 3 * * *")
    adhoc = Export(name="adhoc", app="prod", kind=ExportKind.SUBSCRIPTIONS, destination="x",
                   options=SubscriptionsOptions())
    state = State.new()
    state.exports["nightly"] = ExportRecord(name="nightly", satisfied_tick="2026-11-22T03:00:00Z",
                                            last_success="2026-11-22T03:04:00Z")
    c = config(nightly, adhoc)
    assert runs_wanted(c, state, NOW) == {}
    wanted = runs_wanted(c, state, NOW, forced=["nightly", "adhoc"])
    runs = {r.name: r for r in make_runs(c, state, wanted, {})}
    assert runs["nightly"].reason == "forced (not due)" and runs["nightly"].due_tick is None
    assert runs["nightly"].last_success == "2026-11-22T03:04:00Z"
    assert runs["adhoc"].reason == "on demand"
    state.exports["nightly"] = replace(state.exports["nightly"], satisfied_tick="2026-11-20T03:00:00Z")
    (run,) = make_runs(c, state, runs_wanted(c, state, NOW), {})
    assert run.reason == "due since 2026-11-22T03:00:00Z" and run.due_tick == "2026-11-22T03:00:00Z"


def test_per_message_runs_carry_messages_or_say_there_are_none():
    e = history(MessageSelector(sent_within_seconds=D))
    c = config(e)
    (run,) = make_runs(c, None, runs_wanted(c, None, NOW), {"hist": Selection(("m1", "m2"), ("w",))})
    assert run.messages == ("m1", "m2") and run.warnings == ("w",)
    (run,) = make_runs(c, None, runs_wanted(c, None, NOW), {})
    assert run.messages == () and NO_MESSAGES in run.warnings


def test_export_of_a_segment_being_created_runs_after_it():
    seg = Segment(app="prod", name="VIP", filters=(), digest="d1")
    e = Export(name="vip", app="prod", kind=ExportKind.SUBSCRIPTIONS, destination="x", schedule="@daily",
               options=SubscriptionsOptions(segment="VIP"))
    c = config(e, segments=[seg])
    (run,) = make_runs(c, None, runs_wanted(c, None, NOW), {})
    assert run.after_segment == "segment.prod.VIP"
    state = State.new()
    state.segments["segment.prod.VIP"] = SegmentRecord("prod", "app", "VIP", "id1", (), "d1")
    (run,) = make_runs(c, state, runs_wanted(c, state, NOW), {})
    assert run.after_segment is None
    (run,) = make_runs(c, state, runs_wanted(c, state, NOW), {}, changing=["segment.prod.VIP"])
    assert run.after_segment == "segment.prod.VIP"
