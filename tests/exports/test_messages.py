"""Resolving message selectors through the list/view endpoints, paced like OneSignal asks."""

from __future__ import annotations

from osctl.emulator.ratelimit import DEFAULT_LIMITS


def restore_view_limits(emu):
    for endpoint, (rate, burst) in DEFAULT_LIMITS.items():
        emu.set_rate_limit(endpoint, rate, burst)


def test_sent_within_pages_through_the_list_at_the_published_pace(harness):
    restore_view_limits(harness.emu)
    now = harness.emu.now()
    ids = harness.emu.add_messages(harness.emu.app_id, messages=[
        {"queued_at": now - 3600 - i * 60, "completed_at": now - 3000 - i * 60, "kind": "api"} for i in range(60)])
    harness.write_config("""\
        - name: activity
          app: prod
          kind: audience_activity
          schedule: "@daily"
          destination: out/{message_id}.csv.gz
          audience_activity:
            messages: {sent_within: 1d, kind: api}
        """)
    config = harness.config
    from osctl.exports import plan_exports

    client = harness.client(view_interval=1.0)  # the client's real pacing
    (run,) = plan_exports(config, harness.state(), {"prod": client}, harness.now())
    assert set(ids) <= set(run.messages)
    lists = [r for r in harness.emu.requests() if r["path"] == "/notifications"]
    assert len(lists) >= 2 and all(r["status"] == 200 for r in lists)  # 50 a page; never pushed back
    starts = [r["time"] - r["duration_ms"] / 1000 for r in lists]  # the log stamps answers
    assert starts[1] - starts[0] >= 0.9


def test_ids_are_read_one_by_one_and_429_is_honoured(harness):
    restore_view_limits(harness.emu)
    harness.emu.set_rate_limit("message_view", 1.0, 1)  # stricter than the client's pace at first
    now = harness.emu.now()
    ids = harness.emu.add_messages(harness.emu.app_id, messages=[
        {"queued_at": now - 7200, "completed_at": now - 7000, "kind": "api"} for _ in range(3)])
    harness.write_config(f"""\
        - name: history
          app: prod
          kind: message_history
          destination: out/{{message_id}}.csv.gz
          message_history:
            events: sent
            messages: {{ids: [{", ".join(ids)}]}}
        """)
    from osctl.exports import plan_exports

    client = harness.client(view_interval=0.0)  # no pacing of its own: the server pushes back
    (run,) = plan_exports(harness.config, harness.state(), {"prod": client}, harness.now(), forced=("history",))
    assert run.messages == tuple(sorted(ids, key=lambda i: (now - 7200, i)))
    views = [r for r in harness.emu.requests() if r["path"].startswith("/notifications/")]
    assert 429 in [r["status"] for r in views]  # pushed back at least once ...
    assert sorted(r["path"].rsplit("/", 1)[1] for r in views if r["status"] == 200) == sorted(ids)  # ... all read
