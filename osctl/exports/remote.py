"""Object-store destinations written as URLs: s3://bucket/key, gs://bucket/key, az://container/key. Pure.

A destination with a scheme is a URL, anything else a local path. The bucket (container)
is written out; placeholders belong in the key. URLs never hold credentials: those come
from the cloud's environment (see osctl.exports.objectstore).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMES = {"s3": "S3", "gs": "Google Cloud Storage", "az": "Azure Blob Storage"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# S3 and GCS bucket names; Azure containers are a subset (3-63 lowercase letters, digits, -)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class RemoteURL:
    scheme: str  # s3 | gs | az
    bucket: str  # the container for az
    key: str  # the object's path inside the bucket, no leading slash

    def __str__(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.key}"

    def with_key(self, key: str) -> RemoteURL:
        return RemoteURL(self.scheme, self.bucket, key)


def url_scheme(destination: str) -> str | None:
    """"s3" for s3://..., None for a local path."""
    match = _SCHEME.match(destination)
    return match.group(1).lower() if match else None


def parse_remote(url: str) -> RemoteURL | None:
    """The parts of an object-store URL; None for a local path (or a URL remote_problem rejects)."""
    if remote_problem(url) is not None:
        return None
    scheme, rest = url.split("://", 1)
    bucket, _, key = rest.partition("/")
    return RemoteURL(scheme.lower(), bucket, key)


def remote_problem(url: str) -> tuple[str, str] | None:
    """(what is wrong, what would be valid) for a destination URL, None when it is fine."""
    scheme = url_scheme(url)
    if scheme is None:
        return None
    valid = "s3://bucket/path/{date}.csv.gz, gs://bucket/... or az://container/..."
    if scheme not in SCHEMES:
        return f"destinations with scheme '{scheme}://' are not supported", valid + ", or a local path"
    rest = url.split("://", 1)[1]
    bucket, slash, key = rest.partition("/")
    if "@" in bucket or ":" in bucket:
        return ("the destination URL holds credentials or a port; credentials come from the environment, "
                "endpoints from the storage: block"), valid
    if "{" in bucket or "}" in bucket:
        return "placeholders go in the object's path, not the bucket name", valid
    if not _BUCKET.match(bucket):
        return f"'{bucket}' is not a valid bucket name", "3-63 lowercase letters, digits, '.', '-' or '_'"
    if not slash or not key or key.endswith("/"):
        return "the destination URL names no object after the bucket", valid
    if key.startswith("/") or "//" in key or any(part in (".", "..") for part in key.split("/")):
        return "the object path has an empty, '.' or '..' segment", valid
    return None


def cloud_extra_installed() -> bool:
    try:
        import obstore  # noqa: F401
    except ImportError:
        return False
    return True
