"""CPU cost of osctl's HTTP client per request: OneSignalClient.get_segment against the emulator.

    python bench/bench_client.py [--requests 2000] [--threads 1] [--rounds 3] [--profile]

The emulator runs in its own process (`python -m osctl emulator`, no latency), so the CPU
time this process uses (time.process_time: all its threads) is the client's alone: osctl's
Call/Session code, httpx and the parsing of the answer. Each round makes `--requests`
views of segments with include-segment-detail=true (what `plan --refresh full` does per
managed segment) and prints CPU ms per request and the wall time, and for comparison the
emulator's CPU per request (from /proc, Linux only). --profile prints the top
of a cProfile (CPU time) of one round instead (sequential only).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from osctl.onesignal.client import OneSignalClient  # noqa: E402

APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
API_KEY = "os_v2_app_bench" + uuid.uuid4().hex  # a throwaway key for a local emulator
SEGMENTS = 100


def start_emulator() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "osctl", "emulator", "--port", "0", "--app", f"{APP_ID}={API_KEY}",
         "--messages", "0", "--audience", "100", "-q"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def make_segments(url: str) -> list[str]:
    ids = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Key {API_KEY}"}, timeout=30) as http:
        for i in range(SEGMENTS):
            filters = [{"field": "country", "relation": "=", "value": "US"},
                       {"field": "tag", "key": "plan", "relation": "=", "value": f"tier-{i % 7}"}]
            response = http.post(f"/apps/{APP_ID}/segments", json={"name": f"bench-{i}", "filters": filters})
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def one_round(client: OneSignalClient, ids: list[str], requests: int, threads: int) -> tuple[float, float]:
    """(CPU ms per request, wall seconds)"""
    work = [ids[i % len(ids)] for i in range(requests)]
    cpu, wall = time.process_time(), time.perf_counter()
    if threads == 1:
        found = [client.get_segment(APP_ID, segment_id) for segment_id in work]
    else:
        with ThreadPoolExecutor(threads) as pool:
            found = list(pool.map(lambda segment_id: client.get_segment(APP_ID, segment_id), work))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if any(view is None or not view.filters for view in found):
        raise SystemExit("a segment was not found, or came back without its filters")
    return 1000 * cpu / requests, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    proc, url = start_emulator()
    try:
        ids = make_segments(url)
        with OneSignalClient(url, API_KEY, parallelism=10) as client:
            one_round(client, ids, 200, args.threads)  # warm-up: connections, imports, caches
            if args.profile:
                profile = cProfile.Profile(time.process_time)
                profile.enable()
                one_round(client, ids, args.requests, 1)
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
                return
            server_cpu = cpu_seconds(proc.pid)
            results = [one_round(client, ids, args.requests, args.threads) for _ in range(args.rounds)]
            server_cpu = 1000 * (cpu_seconds(proc.pid) - server_cpu) / (args.requests * args.rounds)
        cpu = [r[0] for r in results]
        wall = [r[1] for r in results]
        print(f"[client] {args.requests} get_segment calls, {args.threads} thread(s), emulator in its own process "
              f"at 0 ms: CPU per request median {statistics.median(cpu):.3f} ms "
              f"(rounds {', '.join(f'{c:.3f}' for c in cpu)}); wall median {statistics.median(wall):.2f} s "
              f"({args.requests / statistics.median(wall):.0f} requests/s); the emulator's CPU per request "
              f"{server_cpu:.2f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
