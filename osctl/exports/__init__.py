"""Scheduled exports (docs/design.md#exports): what is due, and running it.

    plan_exports(config, state, clients, now, forced=...)   -> ExportRun values for the plan
    apply_exports(runs, config, store, clients, now_fn, observer, config_dir=...) -> ExportsResult

Modules: due (pure: due runs and why), messages (message selectors and bookmarks),
naming (pure: destination placeholders, -N), polling (pure: when to look again),
columns (pure: documented CSV headers), download (HTTP + files: stream, verify, place),
destinations (local files or object stores behind one interface; objectstore: S3, GCS,
Azure via obstore), remote (pure: destination URLs), retention (pure: keep:),
runner (one export end to end; accounts in parallel, one export per account at a time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from osctl.config.model import Config
    from osctl.exports.polling import PollPolicy
    from osctl.exports.runner import ExportObserver, ExportsResult
    from osctl.onesignal.api import ExportClients
    from osctl.plan.model import ExportRun, SegmentChange
    from osctl.state.model import State
    from osctl.state.store import StateAccess

__all__ = ["apply_exports", "plan_exports"]


def plan_exports(config: Config, state: State | None, clients: ExportClients, now: datetime, *,
                 forced: tuple[str, ...] = (), segment_changes: Iterable[SegmentChange] | None = None,
                 names: Iterable[str] | None = None) -> tuple[ExportRun, ...]:
    """The export runs due at `now` (and the `forced` ones), sorted by name; with `names`,
    only among those exports.

    Effects only for per-message kinds: their messages are read through the message
    list/view endpoints (paced by the client). `segment_changes` (the plan's segment
    changes, if known) tell which segments are created or replaced first."""
    from osctl.config.model import PER_MESSAGE_KINDS
    from osctl.errors import PlanError
    from osctl.exports.due import make_runs, runs_wanted
    from osctl.exports.messages import candidates, select, unknown_ids_problem

    wanted = runs_wanted(config, state, now, forced)
    if names is not None:
        keep = set(names)
        wanted = {name: tick for name, tick in wanted.items() if name in keep}
    records = state.exports if state is not None else {}
    selections = {}
    problems = []
    for export in config.exports:
        if export.name in wanted and export.kind in PER_MESSAGE_KINDS:
            record = records.get(export.name)
            done = record.messages_done if record is not None else ()
            app = config.apps[export.app]
            found, missing = candidates(clients[export.app], app.app_id, export, done, now)
            if missing:
                problems.append(unknown_ids_problem(export, app.app_id, missing))
            selections[export.name] = select(export, found, done, now)
    if problems:
        raise PlanError(problems)
    changing = None
    if segment_changes is not None:
        changing = [c.address for c in segment_changes if c.action.creates_segment]
    return make_runs(config, state, wanted, selections, changing=changing)


def apply_exports(plan_runs: Iterable[ExportRun], config: Config, store: StateAccess, clients: ExportClients,
                  now_fn: Callable[[], datetime], observer: ExportObserver | None = None, *,
                  config_dir: str | Path, failed_segments: Iterable[str] = (),
                  sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                  policy: PollPolicy | None = None, http: httpx.Client | None = None,
                  stop_reason: Callable[[], str | None] = lambda: None) -> ExportsResult:
    """Run the planned exports; state is persisted after every file. Returns ExportsResult
    (succeeded / failed / stopped, each a list of (ExportRun, text)). An export whose
    `after_segment` is in `failed_segments` is not run. Once `stop_reason()` says why (e.g.
    "stopped by SIGTERM"), no export or file starts and waiting for a file ends (its
    request stays in state for the next run); a download under way is finished."""
    from osctl.exports.download import download_client
    from osctl.exports.polling import PollPolicy
    from osctl.exports.runner import NullObserver, Runner

    own_http = http is None
    http = http or download_client()
    try:
        runner = Runner(config=config, store=store, clients=clients, http=http, config_dir=Path(config_dir),
                        now=now_fn, observer=observer or NullObserver(), sleep=sleep, monotonic=monotonic,
                        policy=policy or PollPolicy(), stop_reason=stop_reason)
        try:
            return runner.run_all(tuple(plan_runs), failed_segments=frozenset(failed_segments))
        finally:
            runner.destinations.close()
    finally:
        if own_http:
            http.close()
