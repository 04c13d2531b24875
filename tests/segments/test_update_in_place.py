"""segment_updates: in_place against the emulator over HTTP: one PATCH, the id kept."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import httpx

from osctl.apply import Executor
from osctl.config.loader import load_or_fail
from osctl.filters import filters_digest
from osctl.onesignal import OneSignalClient
from osctl.plan.live import gather
from osctl.plan.planner import make_plan
from osctl.state.local import LocalBackend
from osctl.state.store import StateStore
from tests.onesignal.scripted import ScriptedServer, fixed
from tests.segments.conftest import CA, US, VIP

NOW = datetime(2026, 11, 22, 3, 5, tzinfo=UTC)


def _apply(ws, *args):
    result = ws.osctl("apply", "--auto-approve", "--no-exports", *args)
    assert result.exit_code == 0, result.output
    return result


def _patches(ws) -> list[dict]:
    return [r for r in ws.emulator.requests() if r["method"] == "PATCH"]


def test_an_update_in_place_keeps_the_id_and_readers_always_find_the_segment(ws):
    ws.write({"Buyers": US}, updates="in_place")
    _apply(ws)
    seg_id = ws.live()["Buyers"]
    created = ws.state()["segments"]["segment.prod.Buyers"]["created_at"]
    ws.write({"Buyers": CA}, updates="in_place")
    plan = ws.osctl("plan", "--no-exports", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert "  # segment.prod.Buyers will be updated in place" in plan.stdout
    assert f"id kept: {seg_id} (updated in place)" in plan.stdout
    assert 'filters[0].value: "US" → "CA"' in plan.stdout
    assert "Plan: 0 to create, 1 to update in place, 0 to replace, 0 to delete" in plan.stdout
    assert "subscribers in this segment now" not in plan.stdout  # nobody leaves the segment

    # a reader (a send by segment name, say) polls the list all through the apply
    seen, done = [], threading.Event()

    def read() -> None:
        with httpx.Client(base_url=ws.emulator.url, headers={"Authorization": f"Key {ws.key}"}) as http:
            while not done.is_set():
                listed = http.get(f"/apps/{ws.app_id}/segments", params={"limit": 300}).json()["segments"]
                seen.append({s["name"]: s["id"] for s in listed}.get("Buyers"))

    ws.emulator.set_faults([{"kind": "latency", "latency_ms": 30, "method": "PATCH"}])
    ws.emulator.clear_requests()
    reader = threading.Thread(target=read)
    reader.start()
    try:
        applied = _apply(ws)
    finally:
        done.set()
        reader.join()
    assert "Apply complete! Segments: 0 created, 1 updated in place, 0 replaced, 0 deleted." in applied.stdout
    assert seen and set(seen) == {seg_id}, "the segment was missing, or had another id, for a reader"
    assert ws.live() == {"Buyers": seg_id} and ws.live_filters(seg_id) == CA
    record = ws.state()["segments"]["segment.prod.Buyers"]
    assert (record["id"], record["digest"], record["created_at"]) == (seg_id, filters_digest(CA), created)
    assert record["updated_at"] >= created
    assert [r["method"] for r in ws.emulator.requests() if r["method"] in ("POST", "DELETE", "PATCH")
            and "/segments" in r["path"]] == ["PATCH"]
    assert ws.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_a_segment_can_override_its_apps_strategy(ws):
    ws.write({"A": US, "B": {"filters": US, "update": "replace"}}, updates="in_place")
    _apply(ws)
    ids = ws.live()
    ws.write({"A": CA, "B": {"filters": CA, "update": "replace"}}, updates="in_place")
    plan = ws.osctl("plan", "--no-exports")
    assert "segment.prod.A will be updated in place" in plan.stdout
    assert "segment.prod.B will be replaced" in plan.stdout
    _apply(ws)
    assert ws.live()["A"] == ids["A"] and ws.live()["B"] != ids["B"]


def test_name_drift_is_restored_in_place(ws):
    ws.write({"VIPs": VIP}, updates="in_place")
    _apply(ws)
    seg_id = ws.live()["VIPs"]
    ws.api("PATCH", f"/apps/{ws.app_id}/segments/{seg_id}", json={"name": "VIP customers"})
    plan = ws.osctl("plan", "--no-exports", "--detailed-exitcode", "--refresh", "list")
    assert plan.exit_code == 2
    assert "because the segment was renamed outside osctl (drift)" in plan.stdout
    assert 'name: "VIP customers" → "VIPs"' in plan.stdout
    _apply(ws)
    assert ws.live() == {"VIPs": seg_id}


def test_updates_in_place_are_not_destroys_for_prevent_destroy_or_mass_destroy(ws):
    segments = {f"S{i}": {"filters": US, "prevent_destroy": True} for i in range(6)}
    ws.write(segments, updates="in_place")
    _apply(ws)
    ids = ws.live()
    ws.write({name: {**spec, "filters": CA} for name, spec in segments.items()}, updates="in_place")
    plan = ws.osctl("plan", "--no-exports")
    assert plan.exit_code == 0 and "Refused by apply" not in plan.stdout, plan.output
    _apply(ws)
    assert ws.live() == ids


def test_a_segment_in_an_active_journey_fails_its_update_and_is_never_replaced(ws):
    ws.write({"Onboarding": US, "Other": US}, updates="in_place")
    _apply(ws)
    ids = ws.live()
    ws.emulator.set_in_active_journey(ws.app_id, ids["Onboarding"])
    ws.write({"Onboarding": CA, "Other": CA}, updates="in_place")
    ws.emulator.clear_requests()
    applied = ws.osctl("apply", "--auto-approve", "--no-exports")
    assert applied.exit_code == 1
    assert ("FAILED  segment.prod.Onboarding: OneSignal refused to update segment "
            f"{ids['Onboarding']} in place: This segment is used by an active Journey and cannot be updated. "
            "An active Journey uses it: pause or edit that Journey in the OneSignal dashboard, then apply again. "
            "osctl does not replace it instead") in applied.stdout
    assert "  ok      segment.prod.Other: updated in place" in applied.stdout
    assert ws.live() == ids and ws.live_filters(ids["Onboarding"]) == US
    assert not [r for r in ws.emulator.requests() if r["method"] in ("POST", "DELETE")]
    assert ws.state()["segments"]["segment.prod.Onboarding"]["digest"] == filters_digest(US)
    ws.emulator.set_in_active_journey(ws.app_id, ids["Onboarding"], False)
    _apply(ws)
    assert ws.live_filters(ids["Onboarding"]) == CA


def test_a_lost_update_answer_is_checked_by_viewing_the_segment(ws):
    ws.write({"A": US}, updates="in_place")
    _apply(ws)
    seg_id = ws.live()["A"]
    ws.write({"A": CA}, updates="in_place")
    ws.emulator.set_faults([{"kind": "lost_answer", "method": "PATCH", "times": 1}])
    ws.emulator.clear_requests()
    applied = _apply(ws)
    assert f"Update complete [updated in place (checked by viewing it after the answer was lost), id kept {seg_id}]" \
        in applied.stdout
    assert len(_patches(ws)) == 1, "it had taken effect: not sent again"
    assert ws.live_filters(seg_id) == CA and ws.osctl("plan", "--no-exports", "--detailed-exitcode").exit_code == 0


def test_a_lost_answer_of_an_update_that_did_not_happen_is_sent_again(ws):
    ws.write({"A": US}, updates="in_place")
    _apply(ws)
    seg_id = ws.live()["A"]
    ws.write({"A": CA}, updates="in_place")
    ws.emulator.set_faults([{"kind": "503_html", "method": "PATCH", "times": 1},
                            {"kind": "drop", "method": "PATCH", "times": 1}])
    ws.emulator.clear_requests()
    _apply(ws)
    assert ws.live_filters(seg_id) == CA


def test_a_saved_plan_with_an_update_goes_stale(ws):
    ws.write({"A": US}, updates="in_place")
    _apply(ws)
    seg_id = ws.live()["A"]
    ws.write({"A": CA}, updates="in_place")
    saved = ws.dir / "p.json"
    assert ws.osctl("plan", "--no-exports", "--out", str(saved)).exit_code == 0
    assert ws.api("DELETE", f"/apps/{ws.app_id}/segments/{seg_id}").status_code == 200
    stale = ws.osctl("apply", str(saved))
    assert stale.exit_code == 1
    assert (f"segment.prod.A: segment {seg_id}, which the plan would update, is no longer live"
            in stale.stderr)


def _executor(ws, client, store):
    return Executor(store=store, clients={"prod": client}, observer=_Quiet(), now=lambda: NOW)


class _Quiet:
    def started(self, change, step): ...
    def finished(self, change, step, detail): ...
    def failed(self, change, step, error): ...


def _planned_update(ws, client):
    config = load_or_fail(ws.dir)
    backend = LocalBackend(ws.dir / ".osctl" / "state.json")
    state = backend.read()
    plan = make_plan(config, state, gather(config, state, {"prod": client}, "full"), NOW)
    return plan, StateStore(backend, state)


def test_an_update_of_a_segment_deleted_meanwhile_is_reported_and_created_by_the_next_plan(ws):
    ws.write({"A": US}, updates="in_place")
    _apply(ws)
    seg_id = ws.live()["A"]
    ws.write({"A": CA}, updates="in_place")
    with OneSignalClient(ws.emulator.url, ws.key) as client:
        plan, store = _planned_update(ws, client)
        assert ws.api("DELETE", f"/apps/{ws.app_id}/segments/{seg_id}").status_code == 200
        result = _executor(ws, client, store).run(plan)
        store.flush()
    [(change, error)] = result.failed
    assert error == (f"segment {seg_id} was deleted outside osctl, so it was not updated; "
                     "the next plan creates it again")
    assert "deleted outside osctl" in ws.osctl("plan", "--no-exports").stdout
    _apply(ws)
    assert ws.live_filters(ws.live()["A"]) == CA


def test_a_server_without_segment_updates_suggests_replace(ws):
    ws.write({"A": US}, updates="in_place")
    _apply(ws)
    seg_id = ws.live()["A"]
    ws.write({"A": CA}, updates="in_place")
    with OneSignalClient(ws.emulator.url, ws.key) as client:
        plan, store = _planned_update(ws, client)
    route = f"/apps/{ws.app_id}/segments/{seg_id}"
    with ScriptedServer([("PATCH", route, fixed(405, {"errors": ["Method Not Allowed"]}))]) as server, \
            OneSignalClient(server.url, ws.key) as client:
        result = _executor(ws, client, store).run(plan)
        store.flush()
    [(change, error)] = result.failed
    assert "answered 405" in error
    assert error.endswith("Set 'update: replace' on this segment (or 'segment_updates: replace' on app 'prod') "
                          "to apply the change by delete and create (the segment gets a new id)")
    assert ws.live_filters(seg_id) == US
