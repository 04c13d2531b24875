"""Export speed and memory, and polling behaviour.

    python bench/bench_exports.py [--rows 2000000] [--runs 3] [--skip-download] [--skip-polling]

1. Download + verify of a subscriptions export of --rows rows (default 2,000,000),
   served over HTTP on 127.0.0.1 from a gzip file generated once (columns as docs/onesignal-api.md
   documents them; tags as quoted JSON; some quoted fields hold newlines). Each contender runs
   in its own subprocess so its peak RSS is its own:
     osctl     osctl.exports.download: stream to a temp file beside the destination while
               verifying (gzip stream complete, CSV header, rows with the csv module, sha256),
               then place it -- what `apply` does
     baseline  the naive way: the whole body in memory, gzip.decompress, csv parse, write
   Printed: MB/s of CSV verified (uncompressed bytes / wall time, best of --runs) and peak RSS.
   Target: osctl >= 0.9 x baseline speed with peak RSS < 100 MB.

2. Polling: exports taking 5 s, 60 s and 600 s of emulator time, run through the real
   runner against the emulator; the injected sleep advances the emulator clock, so nothing
   really waits. The emulator's export rate is set so the file takes that long, and the
   policy is told that rate (as OneSignal's documented 2,000 records/s tells it in real
   life), or one 25% higher (an estimate 20% short of the real time). Printed per size: looks at the URL, delay between "ready" and "download started",
   and the bound 10% of generation time + 2 s; the same for fixed 10-second polling.
   Target: within the bound with at most 15 looks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


# -- 1. download + verify --------------------------------------------------------------


def generate(path: Path, rows: int) -> int:
    """A gzip CSV like OneSignal's subscriptions export; returns its uncompressed size."""
    import csv
    import gzip

    from osctl.exports.columns import SUBSCRIPTION_COLUMNS

    size = 0
    with gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=6) as out:
        class Counter:
            def write(self, text):
                nonlocal size
                size += len(text.encode())
                return out.write(text)

        writer = csv.writer(Counter(), lineterminator="\n")
        writer.writerow(list(SUBSCRIPTION_COLUMNS) + ["badge_count"])
        for i in range(rows):
            tags = json.dumps({"plan": ["free", "pro", "team"][i % 3], "visits": i % 97,
                               "note": "line one\nline two" if i % 1000 == 0 else "ok"})
            writer.writerow([
                f"{i:08x}-5a1e-4c3b-9d2f-{i:012x}", f"tok{i:016x}{'a' * 40}", i % 500, "en",
                "1.4.2", "17.1", i % 3, "iPhone15,2", tags, f"2026-11-{1 + i % 28:02d} 10:{i % 60:02d}:00",
                i % 9000, f"{(i % 500) / 10:.2f}", "2025-03-01 08:00:00", "f" if i % 7 else "t", i % 5])
    return size


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = lambda *a, **kw: _Quiet(*a, directory=str(directory), **kw)  # noqa: E731
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


CHILD_OSCTL = """
import resource, sys, time
from pathlib import Path
from osctl.exports import download as dl
url, out = sys.argv[1], Path(sys.argv[2])
start = time.perf_counter()
with dl.download_client() as http:
    response = dl.look(http, url)
    final, got = dl.write_verified(out, lambda sink: dl.receive(dl.response_chunks(response, url), sink,
                                                                kind="subscriptions"))
elapsed = time.perf_counter() - start
print(elapsed, got.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

CHILD_BASELINE = """
import csv, gzip, hashlib, io, resource, sys, time
import httpx
url, out = sys.argv[1], sys.argv[2]
start = time.perf_counter()
body = httpx.get(url, timeout=60).content
text = gzip.decompress(body).decode()
rows = sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1
hashlib.sha256(body).hexdigest()
with open(out, "wb") as f:
    f.write(body)
elapsed = time.perf_counter() - start
print(elapsed, rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def run_child(code: str, url: str, out: Path) -> tuple[float, int, int]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code, url, str(out)], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed: {done.stderr}")
    elapsed, rows, rss = done.stdout.split()
    return float(elapsed), int(rows), int(rss)


def bench_download(rows: int, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="osctl-bench-exports-"))
    try:
        source = work / "files"
        source.mkdir()
        print(f"generating a {rows:,}-row subscriptions export ...", flush=True)
        started = time.perf_counter()
        csv_bytes = generate(source / "export.csv.gz", rows)
        gz_bytes = (source / "export.csv.gz").stat().st_size
        print(f"  {csv_bytes / 1e6:,.1f} MB of CSV, {gz_bytes / 1e6:,.1f} MB gzip "
              f"(made in {time.perf_counter() - started:.1f} s)")
        server, base = serve(source)
        url = f"{base}/export.csv.gz"
        results = {}
        try:
            for name, code in (("osctl", CHILD_OSCTL), ("baseline", CHILD_BASELINE)):
                best = None
                for i in range(runs):
                    out = work / f"{name}-{i}" / "export.csv.gz"
                    out.parent.mkdir()
                    elapsed, counted, rss = run_child(code, url, out)
                    if counted != rows:
                        raise SystemExit(f"{name} counted {counted:,} rows, expected {rows:,}")
                    best = (elapsed, rss) if best is None or elapsed < best[0] else (best[0], max(best[1], rss))
                    out.unlink()
                results[name] = best
        finally:
            server.shutdown()
        print("\ndownload + verify                 time      CSV verified   peak RSS")
        for name, (elapsed, rss) in results.items():
            print(f"  {name:<30} {elapsed:6.2f} s   {csv_bytes / 1e6 / elapsed:7.1f} MB/s   {rss / 2**20:7.1f} MiB")
        ratio = results["baseline"][0] / results["osctl"][0]
        rss = results["osctl"][1] / 2**20
        ok = ratio >= 0.9 and rss < 100
        print(f"  osctl speed = {ratio:.2f} x baseline (target >= 0.9); peak RSS {rss:.0f} MiB (target < 100) "
              f"-> {'met' if ok else 'NOT met'}")
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


# -- 2. polling ----------------------------------------------------------------------------


class FixedPolicy:
    """Polling every `every` seconds from the request on: the comparison."""

    def __init__(self, every: float = 10.0):
        self.every = every

    def first_delay(self, records):
        return self.every

    def delay(self, looks, elapsed, rng, retry_after=None):
        return max(self.every, retry_after or 0.0)

    def busy_delay(self, attempt, rng, retry_after=None):
        return max(self.every, retry_after or 0.0)


def bench_polling() -> None:
    from osctl.config.loader import load_or_fail
    from osctl.emulator import Emulator
    from osctl.exports import apply_exports, plan_exports
    from osctl.exports.polling import PollPolicy
    from osctl.onesignal.client import OneSignalClient
    from osctl.state import open_backend
    from osctl.state.model import State
    from osctl.state.store import StateStore

    print("\npolling (emulator time; sleeps advance the emulator clock)")
    print("  generation  policy                      looks   ready -> download   bound (10% + 2 s)")
    with Emulator(seed=1, messages=0, audience=1000) as emu:
        for endpoint in ("messages_list", "message_view"):
            emu.set_rate_limit(endpoint, None)
        for seconds in (5, 60, 600):
            for label, make_policy in (
                    ("osctl, exact estimate", lambda rate: PollPolicy(records_per_second=rate)),
                    ("osctl, estimate 20% short", lambda rate: PollPolicy(records_per_second=rate * 1.25)),
                    ("fixed 10 s", lambda rate: FixedPolicy(10.0))):
                emu.reset()
                for endpoint in ("messages_list", "message_view"):
                    emu.set_rate_limit(endpoint, None)
                now = emu.now()
                (message_id,) = emu.add_messages(emu.app_id, messages=[
                    {"queued_at": now - 7200, "completed_at": now - 7000, "kind": "api"}])
                with tempfile.TemporaryDirectory() as directory, \
                        OneSignalClient(emu.url, emu.api_key, view_interval=0) as client:
                    os.environ["OSCTL_BENCH_KEY"] = emu.api_key
                    Path(directory, "osctl.yaml").write_text(textwrap.dedent(f"""\
                        osctl: 1
                        apps:
                          prod: {{app_id: {emu.app_id}, api_key_env: OSCTL_BENCH_KEY}}
                        exports:
                          - name: activity
                            app: prod
                            kind: audience_activity
                            timeout: 2h
                            destination: out/{{message_id}}.csv.gz
                            audience_activity: {{messages: {{ids: [{message_id}]}}}}
                        """))
                    config = load_or_fail(directory)
                    rows = client.get_message(emu.app_id, message_id).recipients
                    rate = rows / seconds
                    emu.set_export_rate(rate)
                    clock = {"mono": 0.0}

                    def sleep(s, clock=clock):
                        if s > 0:
                            emu.advance(s)
                            clock["mono"] += s

                    def wall():
                        return datetime.fromtimestamp(emu.now(), UTC)

                    runs = plan_exports(config, None, {"prod": client}, wall(), forced=("activity",))
                    store = StateStore(open_backend(config), State.new())
                    emu.clear_requests()
                    result = apply_exports(runs, config, store, {"prod": client}, wall, None,
                                           config_dir=directory, sleep=sleep, monotonic=lambda c=clock: c["mono"],
                                           policy=make_policy(rate))
                    store.flush()
                    if result.failed:
                        raise SystemExit(f"export failed: {result.failed}")
                    (job,) = emu.exports_status()
                    looks = [r for r in emu.requests() if r["path"].startswith("/_files/")]
                    # the log stamps answers; a look starts duration_ms before its stamp
                    started = looks[-1]["time"] - looks[-1]["duration_ms"] / 1000
                    late = started - job["ready_at"]
                    generation = job["ready_at"] - job["requested_at"]
                    bound = 0.1 * generation + 2
                    verdict = "ok" if late <= bound and len(looks) <= 15 else "MISSED"
                    print(f"  {seconds:>6} s    {label:<26} {len(looks):>5}   {late:>10.1f} s      "
                          f"{bound:>8.1f} s   {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-download", action="store_true")
    parser.add_argument("--skip-polling", action="store_true")
    args = parser.parse_args()
    if not args.skip_download:
        bench_download(args.rows, args.runs)
    if not args.skip_polling:
        bench_polling()


if __name__ == "__main__":
    main()
