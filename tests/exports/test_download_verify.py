"""Streaming verification and placement of export files, against local gzip bytes."""

from __future__ import annotations

import gzip
import hashlib
import io

import pytest

from osctl.config.model import SubscriptionsOptions
from osctl.errors import DownloadFailed
from osctl.exports.columns import AUDIENCE_ACTIVITY_COLUMNS, SUBSCRIPTION_COLUMNS
from osctl.exports.download import place, receive, write_verified
from osctl.exports.links import mask_url

HEADER = ",".join(AUDIENCE_ACTIVITY_COLUMNS) + "\n"


def body(rows: int) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        # quoted fields holding commas, quotes and newlines must count as one row
        lines.append(f'u{i},s{i},1,1700000000,,,o{i},,,"line one\nline ""two"", still row {i}"\r\n')
    return gzip.compress("".join(lines).encode())


def chunked(data: bytes, size: int = 1000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_counts_rows_with_a_real_csv_parser_and_hashes_what_was_received():
    data = body(2500)
    sink = io.BytesIO()
    got = receive(chunked(data), sink, kind="audience_activity")
    assert got.rows == 2500
    assert got.bytes == len(data)
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert sink.getvalue() == data


def test_header_only_file_has_zero_rows():
    got = receive([gzip.compress(HEADER.encode())], io.BytesIO(), kind="audience_activity")
    assert got.rows == 0


@pytest.mark.parametrize("damage", ["truncated", "half", "flipped", "html"])
def test_damaged_downloads_are_refused_as_retryable(damage):
    data = body(300)
    bad = {"truncated": data[:-4], "half": data[: len(data) // 2],
           "flipped": data[:40] + bytes([data[40] ^ 0xFF]) + data[41:],
           "html": b"<html><body>Access denied</body></html>"}[damage]
    with pytest.raises(DownloadFailed) as caught:
        receive(chunked(bad), io.BytesIO(), kind="audience_activity")
    assert caught.value.retryable


def test_wrong_header_for_the_kind_is_refused():
    data = gzip.compress(b"player_id,onesignal_id,external_id,target_channel\n1,2,3,push\n")
    with pytest.raises(DownloadFailed, match="lacks"):
        receive([data], io.BytesIO(), kind="subscriptions")


def test_subscriptions_header_must_carry_the_extra_fields_asked_for():
    header = ",".join(SUBSCRIPTION_COLUMNS)
    data = gzip.compress(f"{header},country\n".encode())
    receive([data], io.BytesIO(), kind="subscriptions", options=SubscriptionsOptions(extra_fields=("country",)))
    with pytest.raises(DownloadFailed, match="external_user_id"):
        receive([data], io.BytesIO(), kind="subscriptions", options=SubscriptionsOptions(extra_fields=("external_user_id",)))


def test_nothing_is_left_anywhere_when_verification_fails(tmp_path):
    destination = tmp_path / "out" / "file.csv.gz"
    with pytest.raises(DownloadFailed):
        write_verified(destination, lambda sink: receive([body(10)[:-3]], sink, kind="audience_activity"))
    assert list((tmp_path / "out").iterdir()) == []


def test_placing_never_overwrites(tmp_path):
    destination = tmp_path / "file.csv.gz"
    destination.write_bytes(b"first")
    (tmp_path / "file-1.csv.gz").write_bytes(b"second")
    final, got = write_verified(destination, lambda sink: receive([body(3)], sink, kind="audience_activity"))
    assert final == tmp_path / "file-2.csv.gz"
    assert destination.read_bytes() == b"first"
    assert got.rows == 3 and final.read_bytes() == body(3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file-1.csv.gz", "file-2.csv.gz", "file.csv.gz"]


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    stale = tmp_path / ".file.csv.gz.999999999-abcd1234.osctl-part"
    stale.write_bytes(b"partial")
    write_verified(tmp_path / "file.csv.gz", lambda sink: receive([body(1)], sink, kind="audience_activity"))
    assert not stale.exists()


def test_place_moves_the_temp_file(tmp_path):
    temp = tmp_path / ".x.part"
    temp.write_bytes(b"data")
    assert place(temp, tmp_path / "x.csv.gz") == tmp_path / "x.csv.gz"
    assert not temp.exists()


def test_mask_url_keeps_only_scheme_and_host():
    url = "https://onesignal-data.onesignal.com/csv_exports/app/secret-uuid.csv.gz?X-Amz-Signature=abc"
    assert mask_url(url) == "https://onesignal-data.onesignal.com/…"
    assert mask_url("http://127.0.0.1:4010/files/abc") == "http://127.0.0.1:4010/…"
    assert mask_url("not a url") == "…"
