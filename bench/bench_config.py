"""Config speed: `osctl validate` on 5,000 segments in 10 files, and CLI start-up.

    python bench/bench_config.py [--segments 5000] [--files 10] [--runs 7] [--profile] [--keep]

Prints wall times (min and median over --runs, each a fresh subprocess, as a user
or CI would see them) for:
  1. `osctl validate` on a generated config (varied filters, a few exports);  target < 2 s
  2. `osctl --help`;                                                            target < 0.25 s
  3. `python -c 'import osctl.cli'` (the floor under every command);
  4. `osctl fmt --check` on the same config (no target; for information).
--profile also runs the loader in-process under cProfile and prints where the time goes.
The config is written to a temporary directory, removed afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

APPS = {
    "prod": "5eb5a37e-b458-11e3-ac11-000c2940e62c",
    "staging": "7f1e2d3c-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
    "web": "0d3a4f7c-8a51-4b9e-9c2a-6a1b2c3d4e5f",
}
COUNTRIES = ["US", "DE", "FR", "GB", "BR", "IN", "JP", "CA"]
LANGUAGES = ["en", "de", "fr", "es", "pt", "ja"]


def filter_rows(index: int) -> list[str]:
    """A few filters per segment, drawn from every kind the grammar knows, ORs included."""
    kinds = [
        f'{{field: country, relation: "=", value: {COUNTRIES[index % len(COUNTRIES)]}}}',
        f'{{field: last_session, relation: "<", hours_ago: {24 + index % 500}}}',
        f'{{field: tag, key: plan, relation: "=", value: tier-{index % 9}}}',
        f'{{field: session_count, relation: ">", value: {index % 50}}}',
        f'{{field: language, relation: "!=", value: {LANGUAGES[index % len(LANGUAGES)]}}}',
        f'{{field: app_version, relation: ">", value: "{index % 7}.{index % 10}"}}',
        "{field: tag, key: vip, relation: exists}",
        f"{{field: location, radius: {1000 + index % 9000}, lat: {index % 80}.5, long: {index % 170}.25}}",
        f'{{field: first_session, relation: ">", hours_ago: {index % 1000}}}',
        f'{{field: language, relation: in_array, value: "{LANGUAGES[index % 6]},{LANGUAGES[(index + 1) % 6]}"}}',
    ]
    count = 1 + index % 5
    rows = [kinds[(index + step * 3) % len(kinds)] for step in range(count)]
    if count >= 3 and index % 2:
        rows.insert(count // 2 + 1, "{operator: OR}")
    return rows


def segment_yaml(index: int) -> str:
    app = list(APPS)[index % len(APPS)]
    lines = [f"  - name: Segment {index:05d}", f"    app: {app}"]
    if index % 4 == 0:
        lines.append(f"    description: generated segment number {index}")
    if index % 50 == 0:
        lines.append("    prevent_destroy: true")
    lines.append("    filters:")
    lines += [f"      - {row}" for row in filter_rows(index)]
    return "\n".join(lines) + "\n"


EXPORTS = """\
exports:
  - name: nightly-subscribers
    app: prod
    kind: subscriptions
    schedule: "0 3 * * *"
    timezone: Europe/Berlin
    subscriptions:
      segment: Segment 00000
      extra_fields: [country, external_user_id]
      last_active_within: 30d
  - name: campaign-activity
    app: staging
    kind: audience_activity
    schedule: "@daily"
    audience_activity:
      messages: {sent_within: 2d, settle: 24h}
  - name: clicks
    app: web
    kind: message_history
    schedule: "30 4 * * 1"
    message_history:
      events: clicked
      messages: {sent_within: 7d, kind: api}
  - name: outcomes
    app: prod
    kind: outcomes
    schedule: "@monthly"
    outcomes:
      names: [os__click.count, purchase.sum]
      time_range: 1mo
      attribution: total
"""


def write_config(directory: Path, segments: int, files: int) -> None:
    head = "osctl: 1\n\napps:\n" + "".join(f"  {alias}:\n    app_id: {app_id}\n" for alias, app_id in APPS.items())
    per_file = -(-segments // files)
    for number in range(files):
        body = "".join(segment_yaml(i) for i in range(number * per_file, min(segments, (number + 1) * per_file)))
        text = "segments:\n" + body
        if number == 0:  # canonical order, so `fmt --check` passes
            text = head + "\n" + text + "\n" + EXPORTS
        (directory / f"segments-{number:02d}.yaml").write_text(text)


def osctl_command() -> list[str]:
    script = shutil.which("osctl")
    return [script] if script else [sys.executable, "-m", "osctl"]


def wall_times(command: list[str], runs: int, expect: int = 0) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys) seconds of each run. CPU time shows the cost when other
    processes share the cores and stretch the wall time."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != expect:
            sys.exit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return walls, cpus


def report(label: str, times: tuple[list[float], list[float]], target: float | None) -> None:
    walls, cpus = times
    verdict = "" if target is None else ("  ok" if min(walls) < target else "  OVER TARGET")
    goal = f"  target < {target:.2f} s" if target else ""
    print(f"{label:<32} wall min {min(walls):6.3f} s  median {statistics.median(walls):6.3f} s"
          f"  | cpu min {min(cpus):6.3f} s{goal}{verdict}")


def profile_loader(directory: Path) -> None:
    from osctl.config.loader import load

    profiler = cProfile.Profile()
    profiler.enable()
    analysis = load(directory)
    profiler.disable()
    assert analysis.config is not None, analysis.diagnostics[:5]
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=5000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="osctl-bench-config-"))
    try:
        write_config(directory, args.segments, args.files)
        size = sum(p.stat().st_size for p in directory.iterdir()) / 1e6
        osctl = osctl_command()
        print(f"config: {args.segments} segments, 4 exports, {args.files} files, {size:.1f} MB in {directory}")
        print(f"osctl:  {' '.join(osctl)}   python {sys.version.split()[0]}   runs: {args.runs}   "
              f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        report("osctl validate", wall_times(osctl + ["validate", "-q", "-c", str(directory)], args.runs), 2.0)
        report("osctl --help", wall_times(osctl + ["--help"], args.runs), 0.25)
        report("python -c 'import osctl.cli'", wall_times([sys.executable, "-c", "import osctl.cli"], args.runs), None)
        report("python -c 'pass' (interpreter)", wall_times([sys.executable, "-c", "pass"], args.runs), None)
        report("osctl fmt --check", wall_times(osctl + ["fmt", "--check", "-c", str(directory)], 3), None)
        if args.profile:
            profile_loader(directory)
    finally:
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
