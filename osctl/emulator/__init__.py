"""A local, stateful imitation of the parts of the OneSignal REST API osctl uses.

It behaves like OneSignal's API as docs/onesignal-api.md describes it (one documented answer
where sources disagree), not like osctl's expectations, and keeps its own filter validation
so it can catch client bugs. Any client written against OneSignal, such as
OneSignal's Python SDK, works against it unchanged.

Use from Python (tests, `osctl demo`)::

    from osctl.emulator import Emulator
    emu = Emulator(seed=0, messages=5, audience=1000, export_rate=2000.0, latency_ms=0)
    emu.add_app(app_id, api_key, account="default", messages=None, audience=None)
    emu.start(host="127.0.0.1", port=0)   # serves in a background thread
    emu.url                                # "http://127.0.0.1:54321"
    emu.stop()                             # or: with Emulator() as emu: ...

With no app added, start() creates a demo app: `emu.demo_app` (app_id, api_key).
`emu.app_id` / `emu.api_key` are the first app's; `emu.env()` gives
ONESIGNAL_API_URL and ONESIGNAL_API_KEY for a subprocess.

Served at the base URL exactly as OneSignal serves them (also under /api/v1):
    GET/POST        /apps/{app_id}/segments                 list (offset, limit <= 300) / create
    GET/PATCH/DELETE /apps/{app_id}/segments/{id}            view (?include-segment-detail=true) / update / delete
    GET             /notifications?app_id=&limit=&offset=&kind=&time_offset=
    GET             /notifications/{id}?app_id=              (+ outcome_* parameters)
    POST            /players/csv_export?app_id=              subscriptions CSV
    POST            /notifications/{id}/export_events?app_id=  audience activity CSV
    POST            /notifications/{id}/history              message history CSV (app_id in the body)
    GET             /apps/{app_id}/outcomes
    GET             /_files/{random-uuid}/{name}.csv.gz      export downloads; no auth (bearer links)

Emulator time is wall time plus an offset (export readiness, URL expiry,
message times and time filters use it). Python helpers mirror the control API
under /_emulator/ (see control.py): reset(now=None), add_app(), add_messages(),
set_faults(rules, seed) / clear_faults(), set_rate_limit(endpoint, per_second,
burst), set_export_rate(), advance(seconds), set_time(t), now(), requests(),
clear_requests(), exports_status(), describe().
"""

from osctl.emulator.emulator import AppCredentials, Emulator

__all__ = ["AppCredentials", "Emulator"]
