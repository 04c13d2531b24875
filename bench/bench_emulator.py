"""Benchmark the emulator: segment requests per second, and a 1,000,000-row export.

    python bench/bench_emulator.py [--requests 3000] [--clients 10] [--rows 1000000]

Each emulator runs as `osctl emulator` in its own process on 127.0.0.1 (so the
figures are the server's, not shared with the client's interpreter), without
injected latency. Part 1: 10 concurrent keep-alive clients list, create and
view segments; target >= 500 requests/s each. Part 2: an app with 1,000,000
subscriptions exports them all; the time covers request, generation and the
streamed download (checked row by row), and the server's peak memory is read
from /proc (VmHWM) before and after.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx

APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
KEY = "bench-key"


def start_emulator(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "osctl", "emulator", "--port", "0", "-q", "--app", f"{APP_ID}={KEY}", *args],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"emulator did not start: {line!r}")
    return process, line.split()[-1]


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run_phase(url: str, clients: int, total: int, make_request) -> tuple[float, list[float], int]:
    """`total` requests split over `clients` threads, each with its own keep-alive connection.

    The clients use http.client rather than httpx: the machine's cores are shared
    with the server, and a lighter client leaves more of them to what is measured.
    """
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    per_client = total // clients
    host, port = urlsplit(url).hostname, urlsplit(url).port

    def worker(index: int) -> None:
        nonlocal failures
        mine, bad = [], 0
        connection = http.client.HTTPConnection(host, port, timeout=30)
        for n in range(per_client):
            method, path, body = make_request(index, n)
            headers = {"Authorization": f"Key {KEY}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            bad += response.status >= 400
        connection.close()
        with lock:
            latencies.extend(mine)
            failures += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, failures


def bench_segments(clients: int, total: int) -> None:
    process, url = start_emulator("--audience", "1000", "--messages", "0")
    path = f"/apps/{APP_ID}/segments"
    filters = [{"field": "country", "relation": "=", "value": "US"}, {"operator": "OR"},
               {"field": "tag", "key": "vip", "relation": "exists"}]
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Key {KEY}"}) as warm:
            segment_id = warm.post(path, json={"name": "bench view", "filters": filters}).json()["id"]
        phases = {
            "segment list": lambda i, n: ("GET", f"{path}?limit=50", None),
            "segment create": lambda i, n: ("POST", path, json.dumps({"name": f"bench {i}-{n}", "filters": filters})),
            "segment view": lambda i, n: ("GET", f"{path}/{segment_id}", None),
        }
        print(f"segments: {clients} concurrent keep-alive clients, {total} requests per phase, no latency")
        print(f"  (machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start)")
        for name, request in phases.items():
            cpu_before = cpu_seconds(process.pid)
            rate, latencies, failures = run_phase(url, clients, total, request)
            server_cpu = (cpu_seconds(process.pid) - cpu_before) / len(latencies)
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
            verdict = "ok" if rate >= 500 and not failures else "BELOW TARGET" if rate < 500 else "FAILURES"
            print(f"  {name:15} {rate:7.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  errors {failures}  "
                  f"server CPU {server_cpu * 1e6:5.0f} us/req (= {1 / server_cpu:5.0f} req/s per core)  "
                  f"[{verdict}: target >= 500 req/s]")
    finally:
        process.terminate()
        process.wait()


def bench_export(rows: int) -> None:
    process, url = start_emulator("--audience", str(rows), "--messages", "0", "--export-rate", "1e9")
    try:
        baseline = memory_kib(process.pid, "VmRSS")
        auth = {"Authorization": f"Key {KEY}"}
        started = time.perf_counter()
        answer = httpx.post(f"{url}/players/csv_export", params={"app_id": APP_ID}, headers=auth,
                            json={"extra_fields": ["country", "external_user_id"]}, timeout=600)
        answer.raise_for_status()
        requested = time.perf_counter()
        file_url = answer.json()["csv_file_url"]
        # the URL answers 403 until ready; at this export rate it is ready at once and the
        # download waits for the writer to finish the file
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        lines = compressed = 0
        with httpx.stream("GET", file_url, timeout=600) as response:
            response.raise_for_status()
            first_byte = time.perf_counter()
            for chunk in response.iter_bytes(1 << 16):
                compressed += len(chunk)
                lines += inflate.decompress(chunk).count(b"\n")
        lines += inflate.flush().count(b"\n")
        done = time.perf_counter()
        peak = memory_kib(process.pid, "VmHWM")
        print(f"subscriptions export of {rows:,} rows (streamed, gzip):")
        print(f"  request answered in      {requested - started:7.2f} s")
        print(f"  generation (first byte)  {first_byte - requested:7.2f} s")
        print(f"  download                 {done - first_byte:7.2f} s   {compressed / 1e6:.1f} MB compressed")
        print(f"  total                    {done - started:7.2f} s   ({rows / (done - started):,.0f} rows/s)")
        print(f"  rows in file             {lines - 1:,}   {'ok' if lines - 1 == rows else 'MISMATCH'}")
        print(f"  emulator memory          {baseline / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB "
              f"(+{(peak - baseline) / 1024:.0f} MiB)")
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per segment phase")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    bench_segments(args.clients, args.requests)
    bench_export(args.rows)


if __name__ == "__main__":
    main()
