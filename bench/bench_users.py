"""Speed of test users: planning against OneSignal's view limit, and applying creates.

    python bench/bench_users.py [--users 100] [--latency-ms 50] [--rounds 2] [--only plan,apply]

The emulator runs in its own process (`python -m osctl emulator`, the user-view limit of
about 1 per second per app enforced as OneSignal does). Every result is checked (exit
code, the number of users live and in state), so a fast failure cannot pass for speed.

Prints, for the issue 15 targets:
  apply  carrying out a plan of N creates (tags and one Email address each) at L ms
         emulator latency: osctl's users executor at the default parallelism (10) vs the
         same with parallelism 1 (sequential). Target <= 0.2 x sequential. The plan is made
         first and not timed, nor is the lookup of who holds the addresses (one subscriptions
         export): `osctl apply` does both while planning, and views each user to create at
         the view limit, which the plan figure below measures.
  plan   `osctl plan --refresh full` (a subprocess, as a user runs it) with N test users
         managed and no changes, at 0 ms latency: it must view every user, one per second.
         Target <= 1.2 x the floor of N views at 1 per second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_apply import API_KEY, APP_ID, EmulatorProcess  # noqa: E402  (the same emulator process)

from osctl.apply import ApplyObserver  # noqa: E402
from osctl.apply_users import UserExecutor  # noqa: E402
from osctl.config.loader import load_or_fail  # noqa: E402
from osctl.onesignal.client import OneSignalClient  # noqa: E402
from osctl.plan.build import PlanFlags, build_plan  # noqa: E402
from osctl.progress import NO_PROGRESS  # noqa: E402
from osctl.state import open_backend  # noqa: E402
from osctl.state.model import State  # noqa: E402
from osctl.state.store import StateStore  # noqa: E402
from osctl.users.owners_lookup import OwnersByApp  # noqa: E402

KEY_ENV = "OSCTL_BENCH_USERS_KEY"
PARALLELISM = 10  # osctl's default


def write_config(directory: Path, users: int) -> None:
    lines = ["osctl: 1", "apps:", "  prod:", f"    app_id: {APP_ID}", f"    api_key_env: {KEY_ENV}",
             "    test_users: {external_id_prefix: qa-bench-, email_domains: [example.com]}",
             "segments:", "  - name: QA testers",
             "    filters: [{field: tag, key: qa, relation: '=', value: '1'}]", "test_users:"]
    for index in range(users):
        lines += [f"  - external_id: qa-bench-{index:04d}", f"    tags: {{qa: '1', cohort: c{index % 7}}}",
                  f"    subscriptions: [{{type: Email, token: qa{index:04d}@example.com}}]"]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "osctl.yaml").write_text("\n".join(lines) + "\n")


class Quiet(ApplyObserver):
    def __init__(self) -> None:
        self.failures: list[str] = []

    def started(self, change, step):
        pass

    def finished(self, change, step, detail):
        pass

    def failed(self, change, step, error):
        self.failures.append(f"{change.address}: {error}")


def apply_users(emu: EmulatorProcess, directory: Path, parallelism: int) -> float:
    """Plan (not timed: no views, the app is known empty) and carry out the user creates."""
    config = load_or_fail(str(directory))
    backend = open_backend(config)
    state = backend.read() or State.new()
    with OneSignalClient(emu.url, API_KEY, parallelism=parallelism) as client:
        clients = {"prod": client}
        the_plan = build_plan(config, state, clients, PlanFlags(refresh="none", include_exports=False),
                              lambda: datetime.now(UTC), lambda: _no_progress())
        creates = [c for c in the_plan.user_changes if c.action == "create"]
        if the_plan.changes:  # the segment: made once, outside the timing
            from osctl.apply import Executor

            Executor(store=StateStore(backend, state), clients=clients, observer=Quiet(),
                     now=lambda: datetime.now(UTC), parallelism=parallelism).run(the_plan)
            state = backend.read()
        store = StateStore(backend, state)
        observer = Quiet()
        # users_viewed: this bench reset the app, so no user can be in the way (a real apply's
        # plan views each user; that cost is the plan figure)
        owners = OwnersByApp(config, clients)
        owners("prod")  # looked up while planning, as `osctl apply` does: not timed
        executor = UserExecutor(store=store, clients=clients, observer=observer, now=lambda: datetime.now(UTC),
                                config=config, token_owners=owners, users_viewed=True, parallelism=parallelism)
        started = time.perf_counter()
        result = executor.run(creates)
        elapsed = time.perf_counter() - started
    if observer.failures or result.failed_addresses:
        raise SystemExit("apply failed:\n" + "\n".join(observer.failures[:5]))
    return elapsed


class _no_progress:
    def __enter__(self):
        return NO_PROGRESS

    def __exit__(self, *exc_info):
        return False


def fresh_workspace(emu: EmulatorProcess, root: Path, users: int) -> Path:
    emu.reset()
    directory = root / uuid.uuid4().hex
    write_config(directory, users)
    return directory


def bench_apply(emu: EmulatorProcess, root: Path, users: int, latency_ms: int, rounds: int) -> None:
    timings: dict[int, list[float]] = {PARALLELISM: [], 1: []}
    for _ in range(rounds):
        for parallelism in (PARALLELISM, 1):
            directory = fresh_workspace(emu, root, users)
            emu.latency(latency_ms)
            timings[parallelism].append(apply_users(emu, directory, parallelism))
            emu.latency(0)
            recorded = json.loads((directory / ".osctl" / "state.json").read_text())["users"]
            if len(recorded) != users:
                raise SystemExit(f"state holds {len(recorded)} users, expected {users}")
    parallel, sequential = statistics.median(timings[PARALLELISM]), statistics.median(timings[1])
    print(f"[apply]  {users} user creates at {latency_ms} ms latency: parallelism {PARALLELISM} "
          f"{parallel:.2f} s, sequential {sequential:.2f} s = {parallel / sequential:.3f} x sequential "
          f"(target <= 0.2 x); rounds {rounds}, all runs {sorted(timings[PARALLELISM])} / {sorted(timings[1])}")


def bench_plan(emu: EmulatorProcess, root: Path, users: int) -> None:
    directory = fresh_workspace(emu, root, users)
    apply_users(emu, directory, PARALLELISM)  # the users exist and are in state
    env = {**os.environ, KEY_ENV: API_KEY, "ONESIGNAL_API_URL": emu.url, "NO_COLOR": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "osctl", "plan", "-c", str(directory), "--refresh", "full",
                           "--no-exports", "--detailed-exitcode"], cwd=REPO, env=env, capture_output=True,
                          text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"plan did not say 'no changes' (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    views = sum(1 for r in emu.requests()
                if r["method"] == "GET" and "/users/by/external_id/" in r["path"])
    floor = users * 1.0
    print(f"[plan]   plan --refresh full of {users} test users, no changes: {elapsed:.1f} s = "
          f"{elapsed / floor:.3f} x the floor of {users} views at 1/s (target <= 1.2 x); {views} views")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="apply,plan")
    args = parser.parse_args()
    only = set(args.only.split(","))
    emu = EmulatorProcess()
    root = Path(tempfile.mkdtemp(prefix="osctl-bench-users-"))
    os.environ[KEY_ENV] = API_KEY
    try:
        print(f"osctl bench_users: {args.users} users, load {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
        if "apply" in only:
            bench_apply(emu, root, args.users, args.latency_ms, args.rounds)
        if "plan" in only:
            bench_plan(emu, root, args.users)
    finally:
        emu.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
