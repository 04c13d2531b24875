"""Speed and memory of `osctl generate` against the emulator over HTTP.

    python bench/bench_generate.py [--segments 2000] [--latency-ms 20] [--rounds 3]

The emulator runs in its own process with N segments made through its API (at 0 ms
latency), then every request is delayed by L ms. `osctl generate --out FILE` runs in a
`python -m osctl` subprocess, timed from start to exit, with its peak RSS read from the
child's rusage. The result is checked: the file holds N declarations and N imports.

Target (issue 12): within 1.3 x (N x L / parallelism), parallelism being osctl's default
of 10; memory flat (peak RSS printed beside that of generating for N/4 segments).

What osctl holds per segment is small (about 2.5 KB of Python objects for its view); the
RSS still grows with N under glibc's default of one malloc arena per worker thread.
Measured on 2 cores: 55 -> 90 MiB from 500 to 2,000 segments by default, 55 -> 59 MiB
with MALLOC_ARENA_MAX=2 in the environment (set it to compare like with like).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_apply import API_KEY, APP_ID, COUNTRIES, PARALLELISM, REPO, EmulatorProcess, verdict  # noqa: E402


def make_segments(emu: EmulatorProcess, start: int, stop: int) -> None:
    headers = {"Authorization": f"Key {API_KEY}"}
    for index in range(start, stop):
        body = {"name": f"Dashboard segment {index:05d}",
                "filters": [{"field": "country", "relation": "=", "value": COUNTRIES[index % len(COUNTRIES)]},
                            {"field": "tag", "key": "plan", "relation": "=", "value": f"tier-{index % 7}"}]}
        emu.http.post(f"/apps/{APP_ID}/segments", json=body, headers=headers).raise_for_status()


def generate(directory: Path, url: str) -> tuple[float, float, Path]:
    """(seconds, peak RSS in MiB, the file written) of one `python -m osctl generate`."""
    out = directory.parent / f"adopted-{time.monotonic_ns()}.yaml"  # outside the config: read by none
    env = {**os.environ, "ONESIGNAL_API_URL": url, "ONESIGNAL_API_KEY": API_KEY}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "osctl", "generate", "-c", str(directory), "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"generate exited {done.returncode}:\n{done.stderr[-2000:]}")
    # ru_maxrss of children is the largest so far: it only says something when it grew
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return seconds, peak, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    emu = EmulatorProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "config"
            work.mkdir()
            (work / "osctl.yaml").write_text(f"osctl: 1\napps:\n  prod: {{app_id: {APP_ID}}}\n")
            small = max(1, args.segments // 4)
            make_segments(emu, 0, small)
            emu.latency(args.latency_ms)
            _, small_rss, _ = generate(work, emu.url)
            emu.latency(0)
            make_segments(emu, small, args.segments)
            emu.latency(args.latency_ms)
            times, peaks = [], []
            for _ in range(args.rounds):
                seconds, peak, out = generate(work, emu.url)
                data = yaml.safe_load(out.read_text())
                made = [s for s in data["segments"] if s["name"].startswith("Dashboard segment")]
                if len(made) != args.segments or len(data["imports"]) != len(data["segments"]):
                    raise SystemExit(f"generate wrote {len(made)} of {args.segments} declarations")
                times.append(seconds)
                peaks.append(peak)
                out.unlink()
            emu.latency(0)
    finally:
        emu.stop()
    floor = args.segments * args.latency_ms / 1000 / PARALLELISM
    best, median = min(times), statistics.median(times)
    print(f"[generate] {args.segments} live segments at {args.latency_ms} ms latency, parallelism {PARALLELISM}: "
          f"best {best:.2f} s, median {median:.2f} s = {median / floor:.2f} x the floor "
          f"({args.segments} x {args.latency_ms} ms / {PARALLELISM} = {floor:.2f} s; target <= 1.3 x) "
          f"{verdict(median <= 1.3 * floor)}")
    print(f"[memory]   peak RSS of the osctl process: {max(peaks):.1f} MiB for {args.segments} segments, "
          f"{small_rss:.1f} MiB for {args.segments // 4}")


if __name__ == "__main__":
    main()
