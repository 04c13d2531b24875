"""Speed of plan and apply end to end: osctl's real entry point against the emulator over HTTP.

    python bench/bench_apply.py [--creates 300] [--latency-ms 50] [--segments 5000]
                                [--full-latency-ms 20] [--rounds 3] [--persist-rounds 5]
                                [--only create,update,plan,persist]

The emulator runs in its own process (`python -m osctl emulator`), so it does not share a
GIL with the osctl under test; osctl runs in this process through osctl.cli.main (after
one warm-up command, so imports are not counted), and once more as a `python -m osctl`
subprocess for the wall time a user sees. Every command's result is checked (exit code,
"No changes", the number of live segments), so a fast failure cannot pass for speed.

Prints, for the issue 4 targets:
  create   apply of N creates at L ms emulator latency, default parallelism (10), vs the
           sequential floor N x L (target <= 0.15 x)
  update   apply of N updates in place (segment_updates: in_place) at L ms, vs the same floor
           (target <= 0.15 x, issue 11), planned with --refresh list; --refresh full shown too
  plan     plan with 5,000 managed segments and no changes: --refresh list (target < 2 s)
           and --refresh full at 20 ms latency (target <= 1.3 x 5,000 x 20 ms / 10)
  persist  apply of N creates (a saved plan: no planning in the timing) with 5,000 segments
           already in state, persisting after every operation vs only at the end, same run,
           rounds interleaved (target: at most +20 %). The baseline runs the same apply with
           the state store replaced by bench/persist_at_end.py's, which writes once at the end.
The 5,000 segments are made by one apply at 0 ms latency (timed and printed too).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from persist_at_end import PersistAtEndStore  # noqa: E402

from osctl.cli import main as osctl_main  # noqa: E402

APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
API_KEY = "os_v2_app_bench" + uuid.uuid4().hex  # a throwaway key for a local emulator
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "JP")
PARALLELISM = 10  # osctl's default


# -- the emulator, in its own process -------------------------------------------------
class EmulatorProcess:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "osctl", "emulator", "--port", "0", "--app", f"{APP_ID}={API_KEY}",
             "--messages", "0", "--audience", "100", "-q"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self.http.request(method, f"/_emulator{path}", json=body)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "/reset")

    def latency(self, ms: int) -> None:
        self.control("PUT", "/settings", {"latency_ms": ms})

    def requests(self) -> list[dict]:
        return self.control("GET", "/requests")["requests"]

    def live_count(self) -> int:
        body = self.http.get(f"/apps/{APP_ID}/segments", params={"limit": 1},
                             headers={"Authorization": f"Key {API_KEY}"}).json()
        return body["total_count"]

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


# -- osctl through its entry point -------------------------------------------------------
def write_config(directory: Path, names: list[str], updates: str = "replace", shift: int = 0) -> None:
    """`shift` moves every segment to another country: each one's filters change."""
    lines = ["osctl: 1", "apps:", f"  prod: {{app_id: {APP_ID}, segment_updates: {updates}}}",
             "segments:" if names else ""]
    for index, name in enumerate(names):
        lines.append(f"  - name: {name}")
        lines.append(f"    filters: [{{field: country, relation: '=', value: {COUNTRIES[(index + shift) % len(COUNTRIES)]}}},"
                     f" {{field: tag, key: plan, relation: '=', value: tier-{index % 7}}}]")
    (directory / "osctl.yaml").write_text("\n".join(lines) + "\n")


def osctl(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """Run `osctl ARGS` in this process; (exit code, stdout + stderr, seconds)."""
    out = io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                osctl_main(list(args))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        elapsed = time.perf_counter() - started
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    text = out.getvalue()
    if API_KEY in text:
        raise SystemExit("the API key appeared in osctl's output")
    return code, text, elapsed


@contextlib.contextmanager
def store_persisting_at_end(enabled: bool):
    """apply (in this process) with PersistAtEndStore in place of StateStore, when enabled."""
    if not enabled:
        yield
        return
    with mock.patch("osctl.state.store.StateStore", PersistAtEndStore):
        yield


def must(code: int, text: str, what: str, expect: int = 0) -> None:
    if code != expect:
        raise SystemExit(f"{what} exited {code}, expected {expect}:\n{text[-3000:]}")


def state_serial(directory: Path) -> int:
    return json.loads((directory / ".osctl" / "state.json").read_text())["serial"]


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


# -- 1. creates ----------------------------------------------------------------------------
def bench_creates(emu: EmulatorProcess, work: Path, creates: int, latency_ms: int, rounds: int) -> None:
    floor = creates * latency_ms / 1000
    times, sub_times = [], []
    for round_number in range(rounds + 1):
        emu.reset()
        emu.latency(latency_ms)
        directory = Path(tempfile.mkdtemp(dir=work))
        write_config(directory, [f"bench-{round_number}-{i}" for i in range(creates)])
        if round_number < rounds:
            code, text, seconds = osctl("apply", "--auto-approve", "--no-exports", "-c", str(directory))
            times.append(seconds)
        else:  # once as a user runs it: a new interpreter, imports and all
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "osctl", "apply", "--auto-approve", "--no-exports",
                                   "-c", str(directory)], env={**os.environ}, capture_output=True, text=True)
            sub_times.append(time.perf_counter() - started)
            code, text = done.returncode, done.stdout + done.stderr
        must(code, text, f"apply of {creates} creates")
        emu.latency(0)
        if emu.live_count() < creates:
            raise SystemExit(f"apply reported success but fewer than {creates} segments are live")
        shutil.rmtree(directory)
    best, median = min(times), statistics.median(times)
    print(f"[create]  apply of {creates} creates at {latency_ms} ms latency, parallelism {PARALLELISM}: "
          f"median {median:.2f} s (best {best:.2f}, runs {', '.join(f'{t:.2f}' for t in times)}); "
          f"as a subprocess {sub_times[0]:.2f} s")
    print(f"          sequential floor {floor:.1f} s; ratio {median / floor:.3f} "
          f"(subprocess {sub_times[0] / floor:.3f}); target <= 0.15  {verdict(median / floor <= 0.15)}")


# -- 1b. updates in place -------------------------------------------------------------------
def bench_updates(emu: EmulatorProcess, work: Path, updates: int, latency_ms: int, rounds: int) -> None:
    """apply of N updates in place (segment_updates: in_place) at L ms, vs the sequential floor
    N x L. The apply plans with --refresh list: an update loses no users, so no segment is
    viewed; the default --refresh full (one view per segment, for drift) is timed too."""
    floor = updates * latency_ms / 1000
    times = {"list": [], "full": []}
    for round_number in range(rounds):
        for refresh in ("list", "full"):
            emu.reset()
            emu.latency(0)
            directory = Path(tempfile.mkdtemp(dir=work))
            names = [f"bench-{round_number}-{i}" for i in range(updates)]
            write_config(directory, names, updates="in_place")
            must(*osctl("apply", "--auto-approve", "--no-exports", "-q", "-c", str(directory))[:2], "setup apply")
            ids = json.loads((directory / ".osctl" / "state.json").read_text())["segments"]
            write_config(directory, names, updates="in_place", shift=1)
            emu.latency(latency_ms)
            code, text, seconds = osctl("apply", "--auto-approve", "--no-exports", "--refresh", refresh,
                                        "-c", str(directory))
            must(code, text, f"apply of {updates} updates in place")
            if f"{updates} updated in place" not in text:
                raise SystemExit(f"apply did not update {updates} segments in place:\n{text[-2000:]}")
            emu.latency(0)
            after = json.loads((directory / ".osctl" / "state.json").read_text())["segments"]
            if {a: r["id"] for a, r in after.items()} != {a: r["id"] for a, r in ids.items()}:
                raise SystemExit("an update in place changed a segment id")
            times[refresh].append(seconds)
            shutil.rmtree(directory)
    for refresh, runs in times.items():
        median = statistics.median(runs)
        verdict_text = f"target <= 0.15  {verdict(median / floor <= 0.15)}" if refresh == "list" else "(for comparison)"
        print(f"[update]  apply of {updates} updates in place at {latency_ms} ms latency, parallelism "
              f"{PARALLELISM}, --refresh {refresh}: median {median:.2f} s (runs {', '.join(f'{t:.2f}' for t in runs)}); "
              f"sequential floor {floor:.1f} s; ratio {median / floor:.3f} {verdict_text}")


# -- 2. plan with 5,000 managed segments, and the state for 3. -------------------------------
def build_managed(emu: EmulatorProcess, work: Path, segments: int) -> Path:
    emu.reset()
    emu.latency(0)
    directory = Path(tempfile.mkdtemp(dir=work))
    write_config(directory, [f"managed-{i}" for i in range(segments)])
    code, text, seconds = osctl("apply", "--auto-approve", "--no-exports", "-q", "-c", str(directory))
    must(code, text, f"apply of {segments} creates (setup)")
    live = emu.live_count()
    if live < segments:
        raise SystemExit(f"setup: only {live} of {segments} segments are live")
    print(f"[setup]   {segments} segments created by one apply at 0 ms latency: {seconds:.1f} s; "
          f"state {(directory / '.osctl' / 'state.json').stat().st_size / 1e6:.1f} MB")
    return directory


def bench_plan(emu: EmulatorProcess, directory: Path, segments: int, full_latency_ms: int, rounds: int) -> None:
    list_times = []
    emu.latency(0)
    for _ in range(rounds):
        code, text, seconds = osctl("plan", "--no-exports", "--refresh", "list", "--detailed-exitcode",
                                    "-c", str(directory))
        must(code, text, "plan --refresh list")
        list_times.append(seconds)
    median = statistics.median(list_times)
    load_times = []
    for _ in range(rounds):
        code, text, seconds = osctl("validate", "-c", str(directory))
        must(code, text, "validate")
        load_times.append(seconds)
    print(f"[plan]    {segments} managed, no changes, --refresh list: median {median:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in list_times)}); target < 2 s  {verdict(median < 2)}")
    print(f"          of which reading and validating the config (osctl validate): median "
          f"{statistics.median(load_times):.2f} s")

    emu.latency(full_latency_ms)
    emu.control("DELETE", "/requests")
    code, text, seconds = osctl("plan", "--no-exports", "--refresh", "full", "--detailed-exitcode",
                                "-c", str(directory))
    must(code, text, "plan --refresh full")
    views = sum(1 for r in emu.requests() if r["method"] == "GET" and "include-segment-detail" in (r["query"] or ""))
    emu.latency(0)
    target = 1.3 * segments * full_latency_ms / 1000 / PARALLELISM
    ideal = segments * full_latency_ms / 1000 / PARALLELISM
    print(f"[plan]    {segments} managed, no changes, --refresh full at {full_latency_ms} ms: {seconds:.2f} s "
          f"({views} segment views); ideal {ideal:.1f} s, target <= {target:.1f} s  {verdict(seconds <= target)}")
    print(f"          for comparison, the same {segments} views through OneSignalClient alone (no config, "
          f"state or planning), {PARALLELISM} threads: {client_floor(emu, directory, full_latency_ms):.2f} s")


def client_floor(emu: EmulatorProcess, directory: Path, latency_ms: int) -> float:
    """What the HTTP layer alone costs: every managed segment viewed, `PARALLELISM` at a time."""
    from osctl.onesignal.client import OneSignalClient

    ids = [r["id"] for r in json.loads((directory / ".osctl" / "state.json").read_text())["segments"].values()]
    emu.latency(latency_ms)
    try:
        with OneSignalClient(emu.url, API_KEY, parallelism=PARALLELISM) as client, \
                ThreadPoolExecutor(PARALLELISM) as pool:
            started = time.perf_counter()
            found = list(pool.map(lambda segment_id: client.get_segment(APP_ID, segment_id), ids))
            elapsed = time.perf_counter() - started
    finally:
        emu.latency(0)
    if any(view is None for view in found):
        raise SystemExit("a managed segment was not found")
    return elapsed


# -- 3. per-operation persistence vs only at the end -------------------------------------------
def bench_persist(emu: EmulatorProcess, directory: Path, segments: int, creates: int, latency_ms: int,
                  rounds: int) -> None:
    base = [f"managed-{i}" for i in range(segments)]
    results: dict[str, list[float]] = {"each": [], "end": []}
    writes: dict[str, list[int]] = {"each": [], "end": []}
    executing: dict[str, list[float]] = {"each": [], "end": []}
    plan_file = directory / "bench.plan.json"
    for round_number in range(rounds):
        for mode in (("each", "end") if round_number % 2 == 0 else ("end", "each")):
            write_config(directory, base + [f"new-{round_number}-{mode}-{i}" for i in range(creates)])
            emu.latency(0)
            code, text, _ = osctl("plan", "--no-exports", "--refresh", "list", "--out", str(plan_file),
                                  "--detailed-exitcode", "-c", str(directory))
            must(code, text, "plan of the creates", expect=2)
            serial = state_serial(directory)
            emu.latency(latency_ms)
            emu.control("DELETE", "/requests")
            with store_persisting_at_end(mode == "end"):
                code, text, seconds = osctl("apply", str(plan_file), "-q", "-c", str(directory))
            ended = time.time()
            must(code, text, f"apply of {creates} creates (persist {mode})")
            results[mode].append(seconds)
            # the execution alone: from the first create request (emulator time is wall time
            # unless moved, and this benchmark never moves it) to the end of the command
            posts = [r for r in emu.requests() if r["method"] == "POST"]
            if len(posts) != creates:
                raise SystemExit(f"expected {creates} create requests, the emulator saw {len(posts)}")
            executing[mode].append(ended - min(r["time"] - r["duration_ms"] / 1000 for r in posts))
            writes[mode].append(state_serial(directory) - serial)
            # back to the 5,000 (300 deletes, untimed)
            emu.latency(0)
            write_config(directory, base)
            code, text, _ = osctl("apply", "--auto-approve", "--no-exports", "--refresh", "list", "-q",
                                  "-c", str(directory))
            must(code, text, "cleanup apply")
    each, end = statistics.median(results["each"]), statistics.median(results["end"])
    overhead = each / end - 1
    best_overhead = min(results["each"]) / min(results["end"]) - 1
    print(f"[persist] apply of {creates} creates at {latency_ms} ms with {segments} segments in state "
          f"(saved plan; {rounds} rounds each, interleaved):")
    print(f"          after every operation: median {each:.2f} s (runs {', '.join(f'{t:.2f}' for t in results['each'])}; "
          f"state writes per apply {statistics.median(writes['each']):.0f})")
    print(f"          only at the end:       median {end:.2f} s (runs {', '.join(f'{t:.2f}' for t in results['end'])}; "
          f"state writes per apply {statistics.median(writes['end']):.0f})")
    print(f"          overhead {100 * overhead:+.1f} % (best run vs best run {100 * best_overhead:+.1f} %); "
          f"target <= +20 %  {verdict(overhead <= 0.20)}")
    each_x, end_x = statistics.median(executing["each"]), statistics.median(executing["end"])
    print(f"          the execution alone (first create request to the end of the command, without config "
          f"loading): {each_x:.2f} s vs {end_x:.2f} s, overhead {100 * (each_x / end_x - 1):+.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--segments", type=int, default=5000)
    parser.add_argument("--full-latency-ms", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--persist-rounds", type=int, default=5,
                        help="rounds of each mode in the persistence comparison (it is the noisiest)")
    parser.add_argument("--only", default="create,update,plan,persist")
    args = parser.parse_args()
    only = set(args.only.split(","))

    for name in list(os.environ):  # a developer's own settings must not steer the benchmark
        if name.startswith(("OSCTL_", "ONESIGNAL_")):
            del os.environ[name]
    emu = EmulatorProcess()
    os.environ.update({"ONESIGNAL_API_URL": emu.url, "ONESIGNAL_API_KEY": API_KEY})
    work = Path(tempfile.mkdtemp(prefix="osctl-bench-apply-"))
    try:
        warm = Path(tempfile.mkdtemp(dir=work))  # warm-up: the imports a first command pays
        write_config(warm, [])
        must(*osctl("plan", "--no-exports", "-c", str(warm))[:2], "warm-up plan")
        print(f"osctl bench_apply: emulator {emu.url} (own process), {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        if "create" in only:
            bench_creates(emu, work, args.creates, args.latency_ms, args.rounds)
        if "update" in only:
            bench_updates(emu, work, args.creates, args.latency_ms, args.rounds)
        if only & {"plan", "persist"}:
            directory = build_managed(emu, work, args.segments)
            if "plan" in only:
                bench_plan(emu, directory, args.segments, args.full_latency_ms, args.rounds)
            if "persist" in only:
                bench_persist(emu, directory, args.segments, args.creates, args.latency_ms, args.persist_rounds)
    finally:
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
