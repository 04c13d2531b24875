"""Export to an S3 bucket vs to a local file: speed and memory, in the same run.

    python bench/bench_cloud.py [--rows 2000000] [--runs 2]

The emulator (its own process, --audience ROWS) makes one subscriptions export of --rows
rows; moto's S3 server runs in another process on 127.0.0.1. Each contender then runs in
its own subprocess, so its peak RSS is its own, and does exactly what `osctl exports run`
does with the file: GET it from the emulator and hand it to osctl.exports.destinations,
which streams it to its destination while verifying it (gzip complete, CSV header, rows
with the csv module, sha256) and places it create-only:
    local   destination exports/{date}.csv.gz under a temp config dir
    s3      destination s3://bench/exports/{date}.csv.gz (streamed PUT, then the .sha256 sidecar)
Runs alternate (local, s3, local, s3, ...); the best time of each is compared.
Printed: MB/s of gzip file moved, peak RSS. Target: s3 >= 0.9 x local, s3 peak RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
API_KEY = "os_v2_app_bench" + uuid.uuid4().hex  # a throwaway key for a local emulator
BUCKET = "bench"

MOTO = """
import sys, time
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
sys.stdin.read()
"""

CHILD = """
import resource, sys, time
from pathlib import Path
from osctl.exports import download as dl
from osctl.exports.destinations import Destinations
url, target, config_dir, endpoint = sys.argv[1:5]
storage = {"s3": {"endpoint": endpoint, "allow_http": True, "region": "us-east-1"}}
destinations = Destinations(Path(config_dir), storage)
start = time.perf_counter()
with dl.download_client() as http:
    response = dl.look(http, url)
    size = int(response.headers["Content-Length"])
    published = destinations.publish(
        target, lambda sink: dl.receive(dl.response_chunks(response, url), sink, kind="subscriptions"), size)
elapsed = time.perf_counter() - start
destinations.close()
got = published.received
print(elapsed, got.rows, got.bytes, published.location, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(rows: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "osctl", "emulator", "--port", "0", "--app", f"{APP_ID}={API_KEY}",
         "--messages", "0", "--audience", str(rows), "--export-rate", "1000000000", "-q"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", MOTO, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("moto did not start")
    endpoint = f"http://127.0.0.1:{port}"
    httpx.put(f"{endpoint}/{BUCKET}", timeout=30).raise_for_status()  # moto creates the bucket
    return proc, endpoint


def export_url(emulator: str) -> str:
    """Request the export and wait until its file can be fetched."""
    with httpx.Client(base_url=emulator, timeout=600) as http:
        answer = http.post(f"/players/csv_export?app_id={APP_ID}", json={},
                           headers={"Authorization": f"Key {API_KEY}"})
        answer.raise_for_status()
        url = answer.json()["csv_file_url"]
        while True:
            with http.stream("GET", url) as response:
                if response.status_code == 200:
                    return url
            time.sleep(0.5)


def run_child(url: str, target: str, config_dir: Path, endpoint: str) -> tuple[float, int, int, str, int]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    done = subprocess.run([sys.executable, "-c", CHILD, url, target, str(config_dir), endpoint], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed: {done.stderr[-2000:]}")
    elapsed, rows, size, location, rss = done.stdout.split()
    return float(elapsed), int(rows), int(size), location, int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="osctl-bench-cloud-"))
    emulator, api = start_emulator(args.rows)
    moto, endpoint = start_moto()
    try:
        started = time.perf_counter()
        url = export_url(api)
        print(f"export of {args.rows:,} rows made by the emulator in {time.perf_counter() - started:.1f} s")
        best: dict[str, tuple[float, int]] = {}
        size = 0
        for run in range(args.runs):
            for name, target in (("local", f"exports/{run}.csv.gz"), ("s3", f"s3://{BUCKET}/exports/{run}.csv.gz")):
                elapsed, rows, size, location, rss = run_child(url, target, work, endpoint)
                if rows != args.rows:
                    raise SystemExit(f"{name} counted {rows:,} rows, expected {args.rows:,}")
                print(f"  run {run + 1} {name:<5} {elapsed:6.2f} s  {rss / 2**20:6.1f} MiB  -> {location}")
                previous = best.get(name)
                best[name] = (min(elapsed, previous[0]) if previous else elapsed, max(rss, previous[1] if previous else 0))
        print(f"\nfile: {size / 1e6:,.1f} MB gzip, {args.rows:,} rows")
        print("destination        best time   throughput   peak RSS")
        for name, (elapsed, rss) in best.items():
            print(f"  {name:<15} {elapsed:8.2f} s  {size / 1e6 / elapsed:7.1f} MB/s  {rss / 2**20:7.1f} MiB")
        ratio = best["local"][0] / best["s3"][0]
        rss = best["s3"][1] / 2**20
        ok = ratio >= 0.9 and rss < 150
        print(f"  s3 throughput = {ratio:.2f} x local (target >= 0.9); s3 peak RSS {rss:.0f} MiB (target < 150) "
              f"-> {'met' if ok else 'NOT met'}")
    finally:
        moto.stdin.close()
        moto.kill()
        emulator.terminate()
        emulator.wait(timeout=30)
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
