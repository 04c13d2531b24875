"""Export files in S3, Google Cloud Storage and Azure Blob Storage, through obstore (the
`cloud` extra). Effects: network.

How a file is written, create-only and never visible before it verified:

  * Size known (the download's Content-Length) and within one PUT (5 GiB), S3 and Azure:
    the first free name (-1, -2 ... like local files) is found with HEAD; then one PUT with
    `If-None-Match: *` to a URL obstore presigns, its body streamed from the download while
    the download is verified. The last chunk is held back until the whole file verified: a
    PUT whose body never completes creates nothing, so a failed verification or a killed
    run leaves no object and no multipart upload behind.
  * Otherwise (GCS, unknown or huge size): obstore's multipart writer streams the file to a
    hidden staging object `.<name>.<pid>-<random>.osctl-part` beside it (aborted on a failed
    verification), then a create-only copy gives it its name and the staging object is
    deleted. A run killed mid-upload here can leave an incomplete multipart upload, which a
    bucket lifecycle rule removes (obstore cannot list or abort those).

After the object, a sidecar `<name>.sha256` (sha256sum format) is written, create-only.

obstore does not stream a create-only put (mode="create" sends one in-memory PUT), hence
the two paths above. Credentials come only from the cloud's environment (AWS_*, including
the web-identity pair of GitHub OIDC / GitLab ID tokens; GOOGLE_APPLICATION_CREDENTIALS;
AZURE_*), which obstore reads itself; the config's `storage:` block holds no secrets.
Errors name the bucket and the operation, never a credential or a signed URL.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import queue
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from posixpath import basename, dirname
from typing import TYPE_CHECKING, TypeVar

import httpx
import obstore
from obstore import exceptions as oe
from obstore.store import AzureStore, GCSStore, S3Store

from osctl.errors import DestinationError
from osctl.exports import download as dl
from osctl.exports import naming
from osctl.exports.destinations import Fill, Published
from osctl.exports.remote import SCHEMES, RemoteURL

if TYPE_CHECKING:  # obstore's option dicts, declared in its stubs
    from obstore.store import AzureConfig, ClientConfig, RetryConfig, S3Config

# obstore raises its own errors, and built-in ones (FileNotFoundError, OSError, ValueError) for some
_STORE_ERRORS = (oe.BaseError, OSError, ValueError)
SINGLE_PUT_MAX = 5 * 1024**3  # S3's limit for one PUT (Azure allows 5000 MiB)
PART_SIZE = 8 * 1024 * 1024  # multipart writer: part size; memory is about PART_SIZE * PARTS_IN_FLIGHT
PARTS_IN_FLIGHT = 2
QUEUE_CHUNKS = 64  # streaming PUT: chunks (64 KiB) between the verifier and the sender
SIGNED_URL_LIFETIME = timedelta(hours=1)  # only the start of the PUT must fall within it
TEMP_SUFFIX = dl.TEMP_SUFFIX
R = TypeVar("R")

_CREDENTIAL_HINTS = {
    "s3": ("AWS", ("AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                   "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE"),
    "gs": ("Google Cloud", ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_SERVICE_ACCOUNT", "GOOGLE_SERVICE_ACCOUNT_KEY",
                            "GOOGLE_SERVICE_ACCOUNT_PATH"),
           "GOOGLE_APPLICATION_CREDENTIALS"),
    "az": ("Azure", ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY", "AZURE_CLIENT_SECRET",
                     "AZURE_FEDERATED_TOKEN_FILE", "AZURE_STORAGE_SAS_KEY", "AZURE_STORAGE_SAS_TOKEN",
                     "AZURE_USE_AZURE_CLI"),
           "AZURE_STORAGE_ACCOUNT_KEY, or AZURE_CLIENT_ID with AZURE_FEDERATED_TOKEN_FILE or AZURE_CLIENT_SECRET"),
}


class Bucket:
    """One bucket (Azure: container) of one store."""

    def __init__(self, scheme: str, bucket: str, options: dict, environ: Mapping[str, str] | None = None):
        self.scheme, self.bucket, self.options = scheme, bucket, options
        self.environ = os.environ if environ is None else environ
        self.store = self._open()
        self.http = httpx.Client(timeout=httpx.Timeout(300.0, connect=10.0), follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    # -- writing ----------------------------------------------------------------------
    def publish(self, url: RemoteURL, fill: Fill, size: int | None) -> Published:
        if size is not None and size <= SINGLE_PUT_MAX and self.scheme in ("s3", "az"):
            return self._streamed_put(url, fill, size)
        return self._staged(url, fill)

    def _streamed_put(self, url: RemoteURL, fill: Fill, size: int) -> Published:
        key = self._free_name(url.key)
        signed = self._call("sign an upload URL for", key, lambda: obstore.sign(
            self.store, "PUT", key, SIGNED_URL_LIFETIME))
        headers = {"Content-Length": str(size), "If-None-Match": "*", "Content-Type": "application/gzip"}
        if self.scheme == "az":
            headers["x-ms-blob-type"] = "BlockBlob"
        upload = _StreamingPut(self.http, signed, headers)
        try:
            received = fill(upload)
            if received.bytes != size:
                raise dl.DownloadFailed(f"the download has {received.bytes} bytes, not the {size} it announced",
                                        retryable=True)
            response = upload.commit()
        except BaseException:
            upload.abort()
            raise
        status = response.status_code
        if status in (409, 412):  # taken between the HEAD and the PUT: fetch the file again for the next name
            raise dl.DownloadFailed(f"{self._where(key)} was created by someone else during the upload",
                                    retryable=True)
        if status >= 300:
            code = _error_code(response.text)
            why = "the bucket does not exist" if status == 404 else "refused"
            raise DestinationError(f"cannot upload {self._where(key)}: {why} ({status} {code})"
                                   + self._credential_hint(status))
        etag = response.headers.get("ETag")
        version = response.headers.get("x-amz-version-id") or response.headers.get("x-ms-version-id")
        self._sidecar(key, received.sha256)
        return Published(str(url.with_key(key)), received, etag=etag, version=version)

    def _staged(self, url: RemoteURL, fill: Fill) -> Published:
        self._exists(url.key)  # credentials and bucket checked before the download is spent
        staging = _staging_key(url.key)
        writer = self._call("start an upload of", staging, lambda: obstore.open_writer(
            self.store, staging, buffer_size=PART_SIZE, max_concurrency=PARTS_IN_FLIGHT))
        try:
            with writer:  # an exception inside aborts the upload: no object, no parts left
                received = fill(writer)
        except (dl.DownloadFailed, KeyboardInterrupt):
            raise
        except _STORE_ERRORS as exc:
            raise self._error("upload", staging, exc) from None
        try:
            for candidate in naming.candidates(url.key):
                if self._exists(candidate + ".sha256"):
                    continue
                try:
                    obstore.copy(self.store, staging, candidate, overwrite=False)
                except oe.AlreadyExistsError:
                    continue
                except _STORE_ERRORS as exc:
                    raise self._error("copy the verified upload to", candidate, exc) from None
                break
        finally:
            self._quietly_delete(staging)
        meta = self._call("read back", candidate, lambda: obstore.head(self.store, candidate))
        self._sidecar(candidate, received.sha256)
        return Published(str(url.with_key(candidate)), received, etag=meta.get("e_tag"), version=meta.get("version"))

    def _free_name(self, key: str) -> str:
        for candidate in naming.candidates(key):
            if not self._exists(candidate) and not self._exists(candidate + ".sha256"):
                return candidate
        raise AssertionError("unreachable")

    def _sidecar(self, key: str, sha256: str) -> None:
        line = f"{sha256}  {basename(key)}\n".encode()
        self._call("write the checksum file", key + ".sha256",
                   lambda: obstore.put(self.store, key + ".sha256", line, mode="create"))

    # -- reading and deleting ---------------------------------------------------------------
    def _exists(self, key: str) -> bool:
        try:
            obstore.head(self.store, key)
        except FileNotFoundError:  # obstore's "not found"
            return False
        except _STORE_ERRORS as exc:
            raise self._error("look up", key, exc) from None
        return True

    def delete(self, url: RemoteURL) -> bool:
        """Delete a recorded object and its sidecar; False when the object was already gone."""
        existed = self._exists(url.key)
        for key in (url.key, url.key + ".sha256"):
            self._call("delete", key, functools.partial(obstore.delete, self.store, key))
        return existed

    def _quietly_delete(self, key: str) -> None:
        with contextlib.suppress(*_STORE_ERRORS):
            obstore.delete(self.store, key)

    # -- the store and its errors ------------------------------------------------------------
    def _open(self) -> S3Store | AzureStore | GCSStore:
        options = self.options
        client: ClientConfig = {"allow_http": True} if options.get("allow_http") else {}
        retry: RetryConfig = {"max_retries": 3, "retry_timeout": timedelta(seconds=60)}
        try:
            if self.scheme == "s3":
                config: S3Config = {"copy_if_not_exists": "multipart", "checksum_algorithm": "sha256"}
                if options.get("region"):
                    config["region"] = options["region"]
                elif not (self.environ.get("AWS_REGION") or self.environ.get("AWS_DEFAULT_REGION")):
                    config["region"] = "us-east-1"
                if options.get("endpoint"):
                    config["endpoint"] = options["endpoint"]
                return S3Store(self.bucket, config=config, client_options=client, retry_config=retry)
            if self.scheme == "az":
                az_config: AzureConfig = {}
                if options.get("account"):
                    az_config["account_name"] = options["account"]
                if options.get("endpoint"):
                    az_config["endpoint"] = options["endpoint"]
                return AzureStore(self.bucket, config=az_config, client_options=client, retry_config=retry)
            return GCSStore(self.bucket, client_options=client, retry_config=retry)
        except _STORE_ERRORS as exc:
            raise DestinationError(f"cannot open {self.scheme}://{self.bucket} ({SCHEMES[self.scheme]}): "
                                   f"{_short(exc)}" + self._missing_credentials()) from None

    def _call(self, operation: str, key: str, action: Callable[[], R]) -> R:
        try:
            return action()
        except _STORE_ERRORS as exc:
            raise self._error(operation, key, exc) from None

    def _error(self, operation: str, key: str, exc: Exception) -> DestinationError:
        where = self._where(key)
        if isinstance(exc, oe.PermissionDeniedError):
            return DestinationError(f"cannot {operation} {where}: access denied" + self._credential_hint(403))
        if isinstance(exc, oe.UnauthenticatedError):
            return DestinationError(f"cannot {operation} {where}: the credentials were not accepted"
                                    + self._credential_hint(401))
        if isinstance(exc, FileNotFoundError):
            return DestinationError(f"cannot {operation} {where}: not found (does the bucket exist?)")
        return DestinationError(f"cannot {operation} {where}: {_short(exc)}" + self._missing_credentials())

    def _where(self, key: str) -> str:
        return f"{self.scheme}://{self.bucket}/{key}"

    def _credential_hint(self, status: int) -> str:
        if status not in (401, 403):
            return ""
        missing = self._missing_credentials()
        return missing or (f" (check the {_CREDENTIAL_HINTS[self.scheme][0]} credentials in the environment "
                           "and the bucket's permissions)")

    def _missing_credentials(self) -> str:
        cloud, names, hint = _CREDENTIAL_HINTS[self.scheme]
        if any(self.environ.get(name) for name in names):
            return ""
        return f"; no {cloud} credentials found in the environment ({hint}), nor from workload identity"


class _StreamingPut:
    """A write-only sink whose bytes become the body of one PUT, sent by a thread while the
    caller verifies them. The last chunk is held back until commit(), so abort() (or a kill)
    always leaves the body incomplete, and the store keeps nothing."""

    def __init__(self, http: httpx.Client, url: str, headers: dict[str, str]):
        self._queue: queue.Queue[bytes | _End] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._held: bytes | None = None
        self._response: httpx.Response | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._send, args=(http, url, headers), daemon=True,
                                        name="osctl-upload")
        self._thread.start()

    def write(self, chunk: bytes, /) -> int:
        if self._held is not None:
            self._enqueue(self._held)
        self._held = bytes(chunk)
        return len(chunk)

    def commit(self) -> httpx.Response:
        if self._held is not None:
            self._enqueue(self._held)
            self._held = None
        self._enqueue(_End.DONE)
        self._thread.join()
        if self._response is None:
            raise self._failure()
        return self._response

    def abort(self) -> None:
        if not self._thread.is_alive():
            return
        while True:
            try:
                self._queue.put_nowait(_End.ABORT)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
        self._thread.join(timeout=30)

    def _enqueue(self, item: bytes | _End) -> None:
        while True:
            if not self._thread.is_alive():
                raise self._failure()
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _body(self) -> Iterator[bytes]:
        while True:
            item = self._queue.get()
            if item is _End.DONE:
                return
            if item is _End.ABORT:
                raise _Aborted()
            yield item

    def _send(self, http: httpx.Client, url: str, headers: dict[str, str]) -> None:
        try:
            self._response = http.put(url, content=self._body(), headers=headers)
        except BaseException as exc:  # reported by write()/commit() in the caller's thread
            self._error = exc

    def _failure(self) -> dl.DownloadFailed:
        detail = type(self._error).__name__ if self._error is not None else "no answer"
        return dl.DownloadFailed(f"the upload connection was lost ({detail})", retryable=True)


class _End(enum.Enum):
    """What the upload thread is told after the chunks: the body is complete, or abandon it."""

    DONE = "done"
    ABORT = "abort"


class _Aborted(Exception):
    pass


def _staging_key(key: str) -> str:
    name = f".{basename(key)}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
    folder = dirname(key)
    return f"{folder}/{name}" if folder else name


_QUERY = re.compile(r"\?\S*")


def _short(exc: Exception) -> str:
    """The first line of a store error, without query strings (signed URLs carry signatures there)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _QUERY.sub("", text)[:300]


def _error_code(body: str) -> str:
    match = re.search(r"<Code>([^<]{1,80})</Code>", body or "")
    return match.group(1) if match else "no error code"
