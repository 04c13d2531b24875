"""Retention (keep:): after a successful run, older files that state recorded are deleted,
locally here (test_remote_s3.py covers a bucket); anything else is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from osctl.exports.retention import to_prune
from osctl.state.model import FileRecord
from tests.exports.test_cli import osctl

ADHOC = """\
    - name: adhoc
      app: prod
      kind: subscriptions
      destination: out/{{export}}-{{tick}}.csv.gz
      keep: {keep}
    """


def run_three(harness, gaps_hours: tuple[float, float]) -> list[str]:
    """Three runs, `gaps_hours` apart; the paths state recorded, oldest first."""
    paths = []
    for gap in (0, *gaps_hours):
        harness.emu.advance(gap * 3600)
        result = harness.run(forced=["adhoc"])
        assert result.failed == [], result.failed
        paths.append(harness.record("adhoc").files[-1].path)
    return paths


def test_keep_n_deletes_exactly_the_recorded_older_files_and_records_them(harness):
    harness.write_config(ADHOC.format(keep=2))
    (harness.dir / "out").mkdir()
    (harness.dir / "out" / "adhoc-20000101T000000Z.csv.gz").write_bytes(b"not written by osctl")
    (harness.dir / "out" / "notes.txt").write_text("mine")
    first, second, third = run_three(harness, (1, 1))
    assert harness.files() == sorted(["out/adhoc-20000101T000000Z.csv.gz", "out/notes.txt", second, third])
    record = harness.record("adhoc")
    assert [f.path for f in record.files] == [second, third]
    (pruned,) = record.pruned
    assert pruned.path == first and pruned.pruned_at == record.last_success
    assert harness.observer.finished[-1].endswith("; 1 old file(s) deleted (keep: 2)")
    text = osctl(harness, "exports", "status", now=harness.now().isoformat())
    assert text.exit_code == 0, text.output
    assert (f"  retention:    keep 2 (2 file(s) kept); 1 file(s) deleted, last {first} at {pruned.pruned_at}"
            in text.stdout.splitlines())


def test_keep_an_age_deletes_the_files_written_before_it(harness):
    harness.write_config(ADHOC.format(keep="2h"))
    first, second, third = run_three(harness, (1, 3))  # at the third run: 4 h and 3 h old
    assert harness.files() == [third]
    assert [p.path for p in harness.record("adhoc").pruned] == [first, second]


def test_a_file_already_gone_is_recorded_as_pruned_and_no_keep_prunes_nothing(harness):
    harness.write_config(ADHOC.format(keep=1))
    first, = run_three(harness, ())[:1]
    (harness.dir / first).unlink()  # someone cleaned up by hand
    harness.emu.advance(3600)
    assert harness.run(forced=["adhoc"]).failed == []
    assert [p.path for p in harness.record("adhoc").pruned] == [first]
    harness.write_config(ADHOC.replace("      keep: {keep}\n", ""))
    for _ in range(2):
        harness.emu.advance(3600)
        assert harness.run(forced=["adhoc"]).failed == []
    assert len(harness.record("adhoc").files) == 3 and len(harness.files()) == 3


def _file(path: str, written: datetime) -> FileRecord:
    return FileRecord(path=path, bytes=1, rows=0, sha256="0" * 64, tick=None,
                      written_at=written.isoformat().replace("+00:00", "Z"))


def test_to_prune_never_takes_the_files_just_written():
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    files = [_file(f"f{i}", now - timedelta(days=10 - i)) for i in range(4)]
    assert [f.path for f in to_prune(files, keep_files=1, keep_seconds=None, now=now)] == ["f0", "f1", "f2"]
    assert [f.path for f in to_prune(files, keep_files=1, keep_seconds=None, now=now,
                                     protected={"f2", "f3"})] == ["f0", "f1"]
    assert [f.path for f in to_prune(files, keep_files=None, keep_seconds=8 * 86400, now=now)] == ["f0", "f1"]
    assert to_prune(files, keep_files=None, keep_seconds=None, now=now) == []
    assert to_prune(files, keep_files=9, keep_seconds=None, now=now) == []
