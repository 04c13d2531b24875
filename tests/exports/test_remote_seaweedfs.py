"""s3:// destinations against SeaweedFS (`weed mini`), which, unlike moto, enforces
credentials and request checksums."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from tests.exports import cloud_servers
from tests.exports.fileproxy import run_through_proxy


@pytest.fixture
def weed(harness, monkeypatch):
    server = cloud_servers.require(cloud_servers.seaweedfs)
    cloud_servers.clear_cloud_env(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", cloud_servers.WEED_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", cloud_servers.WEED_SECRET)
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    harness.write_config(f"""\
        - name: nightly
          app: prod
          kind: subscriptions
          destination: s3://{cloud_servers.WEED_BUCKET}/{prefix}/{{export}}-{{date}}.csv.gz
        """, extra=f"""\
        storage:
          s3: {{endpoint: "{server.endpoint}", allow_http: true, region: us-east-1}}
        """)
    return server, prefix


@pytest.mark.parametrize("chunked", [False, True], ids=["streamed-put", "multipart-with-checksums"])
def test_export_to_seaweedfs_with_enforced_credentials_and_checksums(harness, weed, chunked):
    server, prefix = weed
    result, _ = run_through_proxy(harness, ["nightly"], chunked=chunked)
    assert result.failed == [], result.failed
    file = harness.record("nightly").files[0]
    key = file.path.removeprefix(f"s3://{cloud_servers.WEED_BUCKET}/")
    assert server.keys(prefix) == [key, key + ".sha256"]
    body = server.s3().get_object(Bucket=cloud_servers.WEED_BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == file.sha256 and file.rows == 1000


def test_wrong_credentials_are_a_clear_error_naming_bucket_and_operation_without_the_secret(
        harness, weed, monkeypatch):
    server, prefix = weed
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-right-s3cret")
    result = harness.run(forced=["nightly"])
    (error,) = [text for _, text in result.failed]
    date = harness.now().strftime("%Y-%m-%d")
    assert error == (f"cannot look up s3://{cloud_servers.WEED_BUCKET}/{prefix}/nightly-{date}.csv.gz: "
                     "access denied (check the AWS credentials in the environment and the bucket's permissions)")
    state_text = (harness.dir / ".osctl" / "state.json").read_text()
    for secret in ("not-the-right-s3cret", cloud_servers.WEED_SECRET):
        assert secret not in error and secret not in state_text
    assert server.keys(prefix) == []
