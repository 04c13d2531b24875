"""Where verified export files go: the runner hands every file to a Destinations and
never cares whether it lands in a local directory or an object store.

    destinations.publish(target, fill, size) -> Published   write, verify in the same pass, place
    destinations.delete(location)                           remove a file osctl recorded (retention)

`target` is the rendered destination: a path relative to the config dir, or an
s3:// gs:// az:// URL. `fill(sink)` writes the file to `sink` while verifying it
(download.receive) and raises if it does not verify; nothing is then left at the
destination. `Published.location` is what state records: the relative path, or the URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from osctl.errors import DestinationError
from osctl.exports import download as dl
from osctl.exports.remote import RemoteURL, parse_remote, url_scheme

if TYPE_CHECKING:  # objectstore needs the cloud extra: imported when a bucket is opened
    from osctl.exports.objectstore import Bucket

Fill = Callable[[dl.Sink], dl.Received]


@dataclass(frozen=True)
class Published:
    location: str  # relative path or object URL
    received: dl.Received
    etag: str | None = None
    version: str | None = None


class LocalFiles:
    """Files under the config dir: temp file beside the destination, fsync, link into place (-N)."""

    def __init__(self, config_dir: Path):
        self.config_dir = config_dir

    def publish(self, target: str, fill: Fill, size: int | None = None) -> Published:
        destination = self.config_dir / target
        try:
            final, received = dl.write_verified(destination, fill)
        except OSError as exc:
            where = exc.filename or destination
            raise DestinationError(f"cannot write the export file {destination}: {exc.strerror or exc} "
                                   f"({where})") from None
        return Published(self._relative(final), received)

    def delete(self, location: str) -> bool:
        """False when the file is already gone."""
        path = Path(location) if Path(location).is_absolute() else self.config_dir / location
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise DestinationError(f"cannot delete {path}: {exc.strerror or exc}") from None
        return True

    def _relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.config_dir.resolve()).as_posix()
        except ValueError:
            return str(path)


class Destinations:
    """Local files and object stores behind one interface; a store is opened once per bucket."""

    def __init__(self, config_dir: Path, storage: dict | None = None):
        self.local = LocalFiles(config_dir)
        self.storage = storage or {}
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def publish(self, target: str, fill: Fill, size: int | None = None) -> Published:
        url = self._remote(target)
        if url is None:
            return self.local.publish(target, fill, size)
        return self._bucket(url).publish(url, fill, size)

    def delete(self, location: str) -> bool:
        url = self._remote(location)
        if url is None:
            return self.local.delete(location)
        return self._bucket(url).delete(url)

    def close(self) -> None:
        for bucket in self._buckets.values():
            with contextlib.suppress(Exception):
                bucket.close()
        self._buckets.clear()

    def _remote(self, target: str) -> RemoteURL | None:
        if url_scheme(target) is None:
            return None
        url = parse_remote(target)
        if url is None:  # the config check rejects these; a recorded location never is one
            raise DestinationError(f"not a supported destination URL: {target}")
        return url

    def _bucket(self, url: RemoteURL) -> Bucket:
        key = (url.scheme, url.bucket)
        if key not in self._buckets:
            try:
                from osctl.exports.objectstore import Bucket
            except ImportError:
                raise DestinationError(f"{url.scheme}:// destinations need the cloud extra: "
                                       "pip install 'osctl[cloud]'") from None
            self._buckets[key] = Bucket(url.scheme, url.bucket, self.storage.get(url.scheme) or {})
        return self._buckets[key]
