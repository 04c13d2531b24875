"""The one durable atomic write (osctl/fileio.py) and the one-of-each helpers around it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from osctl.config.model import EXPORT_KINDS, ExportKind
from osctl.config.schema import load_schema
from osctl.exports.links import mask_url, mask_urls_in
from osctl.fileio import write_atomic
from osctl.schedule import format_time, parse_time


def test_write_atomic_replaces_the_file_with_the_given_mode(tmp_path: Path):
    target = tmp_path / "sub" / "state.json"
    write_atomic(target, "old\n")
    written = write_atomic(target, b"new\r\n", mode=0o640)
    assert target.read_bytes() == b"new\r\n"  # bytes as given: no newline translation
    assert target.stat().st_mode & 0o777 == 0o640
    assert (written.st_ino, written.st_size) == (target.stat().st_ino, 5)
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_the_old_file_is_in_place_until_the_new_one_is_on_disk(tmp_path: Path):
    target = tmp_path / "plan.json"
    target.write_text("old")
    seen = []
    write_atomic(target, "new", before_replace=lambda: seen.append(target.read_text()))
    assert seen == ["old"] and target.read_text() == "new"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path):
    target = tmp_path / "osctl.yaml"
    target.write_text("old")

    def fail():
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, "new", before_replace=fail)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["osctl.yaml"]


def test_one_timestamp_format_to_the_second_and_both_forms_read():
    moment = datetime(2026, 11, 22, 3, 5, 7, 123456, tzinfo=UTC)
    assert format_time(moment) == "2026-11-22T03:05:07Z"
    # state written by older osctl kept microseconds in created_at
    assert parse_time("2026-11-22T03:05:07.123456Z") == moment
    assert parse_time("2026-11-22T03:05:07Z") == moment.replace(microsecond=0)


def test_export_kinds_are_the_schemas():
    schema = load_schema("osctl")
    kind = schema["properties"]["exports"]["items"]["properties"]["kind"]
    assert list(EXPORT_KINDS) == kind["enum"]
    assert json.dumps(ExportKind.OUTCOMES) == '"outcomes"' and f"{ExportKind.OUTCOMES}" == "outcomes"


def test_urls_in_free_text_are_masked_like_a_single_url():
    link = "https://onesignal-data.example.com/csv/abc123.csv.gz?token=s3cret"
    assert mask_urls_in(f"GET {link} answered 403") == f"GET {mask_url(link)} answered 403"
    assert mask_urls_in("see https://user:pw@host.example") == "see https://host.example/…"
    assert mask_urls_in("at https://api.onesignal.com.") == "at https://api.onesignal.com."
