"""Exports to az:// destinations, against Azurite (Azure Blob Storage emulator) on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import uuid

import pytest

from tests.exports import cloud_servers
from tests.exports.fileproxy import run_through_proxy


@pytest.fixture
def azure(harness, monkeypatch):
    server = cloud_servers.require(cloud_servers.azurite)
    cloud_servers.clear_cloud_env(monkeypatch)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", cloud_servers.AZURITE_KEY)
    container = server.new_container(f"osctl-{uuid.uuid4().hex[:12]}")
    harness.write_config(f"""\
        - name: nightly
          app: prod
          kind: subscriptions
          schedule: "0 3 * * *"
          destination: az://{container}/onesignal/{{export}}/{{date}}.csv.gz
        """, extra=f"""\
        storage:
          az: {{account: {cloud_servers.AZURITE_ACCOUNT}, endpoint: "{server.endpoint}", allow_http: true}}
        """)
    return server, container


def test_export_streams_to_azure_with_a_sidecar_and_a_taken_name_gets_a_suffix(harness, azure):
    server, container = azure
    first = harness.run()
    second = harness.run(forced=["nightly"])
    assert first.failed == [] and second.failed == [], (first.failed, second.failed)
    date = harness.now().strftime("%Y-%m-%d")
    names = [f"onesignal/nightly/{date}.csv.gz", f"onesignal/nightly/{date}-1.csv.gz"]
    assert server.names(container) == sorted(names + [n + ".sha256" for n in names])
    files = harness.record("nightly").files
    assert [f.path for f in files] == [f"az://{container}/{n}" for n in names]
    for name, file in zip(names, files, strict=True):
        body = server.body(container, name)
        assert hashlib.sha256(body).hexdigest() == file.sha256 and file.rows == 1000
        assert len(gzip.decompress(body).splitlines()) == 1001
        assert server.body(container, name + ".sha256").decode() == f"{file.sha256}  {name.split('/')[-1]}\n"
        assert file.etag and file.etag.startswith('"0x')


def test_a_corrupt_download_publishes_nothing_in_azure(harness, azure):
    server, container = azure
    result, proxy = run_through_proxy(harness, ["nightly"], corrupt=3)
    assert len(result.failed) == 1 and proxy.damaged == 3
    assert server.names(container) == []


def test_a_wrong_account_key_is_a_clear_error_without_the_key(harness, azure, monkeypatch):
    server, container = azure
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", wrong)
    result = harness.run(forced=["nightly"])
    (error,) = [text for _, text in result.failed]
    date = harness.now().strftime("%Y-%m-%d")
    assert error == (f"cannot look up az://{container}/onesignal/nightly/{date}.csv.gz: access denied "
                     "(check the Azure credentials in the environment and the bucket's permissions)")
    assert wrong not in error and cloud_servers.AZURITE_KEY not in error
    assert server.names(container) == []
