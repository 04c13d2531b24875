"""Exports to s3:// destinations, against moto's S3 server on 127.0.0.1 (cloud_servers.py)."""

from __future__ import annotations

import gzip
import hashlib
import re
import uuid

import pytest

from tests.exports import cloud_servers
from tests.exports.fileproxy import FileProxy, run_through_proxy

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture
def s3(harness, monkeypatch):
    server = cloud_servers.require(cloud_servers.moto)
    cloud_servers.clear_cloud_env(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "moto-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-secret-value")
    bucket = server.new_bucket(f"osctl-{uuid.uuid4().hex[:16]}")
    return server, bucket


def storage(server) -> str:
    return f"""\
        storage:
          s3: {{endpoint: "{server.endpoint}", allow_http: true, region: us-east-1}}
        """


def configure(harness, server, bucket: str, *, keep: str = "") -> None:
    harness.write_config(f"""\
        - name: nightly
          app: prod
          kind: subscriptions
          schedule: "0 3 * * *"
          destination: s3://{bucket}/onesignal/{{export}}/{{date}}.csv.gz
        {keep}""", extra=storage(server))


def test_export_streams_to_s3_with_a_sidecar_and_state_records_the_object(harness, s3):
    server, bucket = s3
    configure(harness, server, bucket)
    result = harness.run()
    assert result.failed == [], result.failed
    (data_key, sidecar_key) = server.keys(bucket)
    assert data_key.startswith("onesignal/nightly/") and data_key.endswith(".csv.gz")
    assert DATE.match(data_key.split("/")[-1].removesuffix(".csv.gz"))
    assert sidecar_key == data_key + ".sha256"
    body = server.body(bucket, data_key)
    rows = gzip.decompress(body).decode().splitlines()
    assert len(rows) == 1001  # header and the emulator's 1000 subscriptions
    sha = hashlib.sha256(body).hexdigest()
    assert server.body(bucket, sidecar_key).decode() == f"{sha}  {data_key.split('/')[-1]}\n"
    file = harness.record("nightly").files[0]
    assert file.path == f"s3://{bucket}/{data_key}"
    assert (file.bytes, file.rows, file.sha256) == (len(body), 1000, sha)
    assert file.etag == server.s3().head_object(Bucket=bucket, Key=data_key)["ETag"]
    assert result.succeeded[0][1] == f"s3://{bucket}/{data_key} (1,000 rows)"
    assert harness.files() == []  # nothing written locally
    assert server.pending_uploads(bucket) == []


def test_a_taken_name_gets_the_next_suffix_and_the_existing_object_is_untouched(harness, s3):
    server, bucket = s3
    configure(harness, server, bucket)
    date = harness.now().strftime("%Y-%m-%d")
    taken = f"onesignal/nightly/{date}.csv.gz"
    server.s3().put_object(Bucket=bucket, Key=taken, Body=b"someone else's")
    result = harness.run(forced=["nightly"])
    assert result.failed == [], result.failed
    assert server.keys(bucket) == sorted([taken, f"onesignal/nightly/{date}-1.csv.gz",
                                          f"onesignal/nightly/{date}-1.csv.gz.sha256"])
    assert server.body(bucket, taken) == b"someone else's"
    assert harness.record("nightly").files[0].path == f"s3://{bucket}/onesignal/nightly/{date}-1.csv.gz"


@pytest.mark.parametrize("chunked", [False, True], ids=["size-known", "size-unknown"])
def test_a_corrupt_download_publishes_nothing(harness, s3, chunked):
    server, bucket = s3
    configure(harness, server, bucket)
    result, proxy = run_through_proxy(harness, ["nightly"], corrupt=3, chunked=chunked)  # every attempt is corrupt
    assert len(result.failed) == 1 and proxy.damaged == 3
    assert result.failed[0][1].startswith("download failed 3 time(s): the download is not a complete gzip file")
    assert server.keys(bucket) == []
    assert server.pending_uploads(bucket) == []
    assert harness.record("nightly").files == []


@pytest.mark.parametrize("chunked", [False, True], ids=["size-known", "size-unknown"])
def test_a_corrupt_download_is_fetched_again_and_only_the_good_file_published(harness, s3, chunked):
    server, bucket = s3
    configure(harness, server, bucket)
    result, _ = run_through_proxy(harness, ["nightly"], corrupt=1, chunked=chunked)
    assert result.failed == [], result.failed
    assert len(server.keys(bucket)) == 2, server.keys(bucket)  # no staging object left behind either
    data_key, sidecar_key = server.keys(bucket)
    assert sidecar_key == data_key + ".sha256"
    assert len(gzip.decompress(server.body(bucket, data_key)).splitlines()) == 1001
    assert server.pending_uploads(bucket) == []
    assert len(harness.export_requests()) == 1


def test_a_missing_bucket_is_a_clear_error_naming_it_and_the_operation(harness, s3):
    server, _ = s3
    configure(harness, server, "no-such-bucket")
    result = harness.run(forced=["nightly"])
    (error,) = [text for _, text in result.failed]
    date = harness.now().strftime("%Y-%m-%d")
    assert error == (f"cannot upload s3://no-such-bucket/onesignal/nightly/{date}.csv.gz: "
                     "the bucket does not exist (404 NoSuchBucket)")


def test_no_credentials_in_the_environment_is_said_plainly(harness, s3, monkeypatch):
    server, bucket = s3
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    configure(harness, server, bucket)
    result = harness.run(forced=["nightly"])
    (error,) = [text for _, text in result.failed]
    assert error.startswith(f"cannot look up s3://{bucket}/onesignal/nightly/")
    assert error.endswith("; no AWS credentials found in the environment (AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE), "
                          "nor from workload identity")
    assert server.keys(bucket) == []


def test_killed_mid_upload_leaves_no_object_and_the_next_run_resumes_the_recorded_export(harness, s3):
    from tests.exports.test_kill import kill, start_osctl, wait_for

    server, bucket = s3
    configure(harness, server, bucket)
    with FileProxy(harness.emu.url) as proxy:
        proxy.throttle = (1024, 0.02)  # ~50 KB/s: the upload runs for a while, a chunk behind the download
        env = {"AWS_ACCESS_KEY_ID": "moto-key", "AWS_SECRET_ACCESS_KEY": "moto-secret-value"}
        proc = start_osctl(harness, proxy.url, env=env)
        wait_for(lambda: proxy.sent >= 8 * 1024, proc)  # part of the file is on its way to the bucket
        kill(proc)
        assert server.keys(bucket) == []
        assert server.pending_uploads(bucket) == []
        assert harness.record("nightly").files == [] and len(harness.record("nightly").in_flight) == 1
        proxy.throttle = None
        harness.api_url = proxy.url
        result = harness.run(forced=["nightly"])
    assert result.failed == [], result.failed
    assert len(harness.export_requests()) == 1  # the recorded export was fetched again, not requested again
    file = harness.record("nightly").files[0]
    assert file.bytes > 2 * 8 * 1024  # the kill came before half of the file
    data_key = file.path.removeprefix(f"s3://{bucket}/")
    assert server.keys(bucket) == [data_key, data_key + ".sha256"]
    assert hashlib.sha256(server.body(bucket, data_key)).hexdigest() == file.sha256


def test_retention_deletes_the_recorded_older_object_and_its_sidecar_only(harness, s3):
    server, bucket = s3
    configure(harness, server, bucket, keep="  keep: 1\n")
    server.s3().put_object(Bucket=bucket, Key="onesignal/nightly/1999-01-01.csv.gz", Body=b"not osctl's")
    assert harness.run().failed == []
    first = harness.record("nightly").files[0].path
    harness.emu.advance(86400)
    assert harness.run().failed == []
    second = harness.record("nightly").files[-1].path
    assert first != second
    keys = [f"s3://{bucket}/{k}" for k in server.keys(bucket)]
    assert keys == [f"s3://{bucket}/onesignal/nightly/1999-01-01.csv.gz", second, second + ".sha256"]
    record = harness.record("nightly")
    assert [f.path for f in record.files] == [second] and [p.path for p in record.pruned] == [first]
