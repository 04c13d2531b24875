"""Remote destinations without a server: Google Cloud Storage (no local emulator works with
obstore's GCS client, so only its configuration and error paths are tested), validation
without the cloud extra, and the storage: block."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.exports import cloud_servers

REPO = cloud_servers.REPO
GS_CONFIG = """\
    - name: nightly
      app: prod
      kind: subscriptions
      destination: gs://acme-data/onesignal/{export}/{date}.csv.gz
    """


@pytest.fixture
def no_cloud_env(monkeypatch):
    cloud_servers.clear_cloud_env(monkeypatch)


def test_gcs_without_credentials_names_bucket_operation_and_what_was_tried(harness, no_cloud_env, monkeypatch):
    harness.write_config(GS_CONFIG)
    result = harness.run(forced=["nightly"])
    (error,) = [text for _, text in result.failed]
    date = harness.now().strftime("%Y-%m-%d")
    assert error.startswith(f"cannot look up gs://acme-data/onesignal/nightly/{date}.csv.gz: ")
    assert error.endswith("; no Google Cloud credentials found in the environment "
                          "(GOOGLE_APPLICATION_CREDENTIALS), nor from workload identity")
    assert "?" not in error  # no query string of a token request


def test_gcs_with_a_broken_key_file_fails_without_printing_the_key(harness, no_cloud_env, monkeypatch, tmp_path):
    secret = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"
    key = tmp_path / "sa.json"
    key.write_text('{"type": "service_account", "client_email": "ci@acme.iam.gserviceaccount.com", '
                   f'"private_key_id": "1", "private_key": "-----BEGIN PRIVATE KEY-----\\n{secret}\\n'
                   '-----END PRIVATE KEY-----\\n"}')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    harness.write_config(GS_CONFIG)
    result = harness.run(forced=["nightly"])
    (error,) = [text for _, text in result.failed]
    assert error.startswith("cannot open gs://acme-data (Google Cloud Storage): ")
    assert secret not in error
    assert harness.record("nightly").files == []


def test_a_remote_destination_without_the_cloud_extra_is_a_validate_error(tmp_path):
    (tmp_path / "osctl.yaml").write_text(textwrap.dedent("""\
        osctl: 1
        apps:
          prod: {app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c}
        exports:
          - name: nightly
            kind: subscriptions
            destination: s3://acme-data/{date}.csv.gz
        """))
    hide_obstore = "import sys; sys.modules['obstore'] = None; from osctl.cli import main; main()"
    result = subprocess.run([sys.executable, "-c", hide_obstore, "-c", str(tmp_path), "validate"],
                            capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert (f"{tmp_path / 'osctl.yaml'}:7:18: exports[0].destination: s3:// destinations need the cloud extra, "
            "which is not installed (valid: pip install 'osctl[cloud]' (or a local path such as "
            "exports/{export}/{date}.csv.gz))") in result.stderr
