"""The records destination: a directory (e.g. a mounted share) or an S3 bucket/prefix.

Delivery is atomic (a temporary name then a link or rename; on S3 a create-only PUT, or for
large bundles a multipart upload that only becomes an object when completed: both through
`storage.s3.S3Store`), so a failure leaves nothing at the destination and the next attempt
simply starts again. A bundle already there is left alone when identical
(a re-run is harmless), refused when different, and replaced only when asked (logged).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from archiver.exports.bundle import ExportBundle
from archiver.exports.errors import DestinationError
from storage.errors import NotFound, ObjectExists, StorageError
from storage.retry import RetryPolicy
from storage.s3 import S3Store, make_s3_client
from storage.store import ObjectStore

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Delivery:
    url: str
    status: str  # "written" | "identical" | "replaced"
    previous_sha256: str | None = None


class Destination(Protocol):
    description: str

    def deliver(self, bundle: ExportBundle, key: str, *, replace: bool = False) -> Delivery:
        """Put the bundle's zip at key (relative, '/'-separated)."""


def _check_key(key: str) -> str:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise DestinationError(f"unsafe bundle name {key!r}")
    return path.as_posix()


def _already_there(bundle: ExportBundle, url: str, previous: str | None, replace: bool) -> bool:
    """True if url holds this very bundle; refuses another bundle unless asked to replace."""
    if previous == bundle.sha256:
        log.info("bundle %s: identical copy already at %s", bundle.name, url)
        return True
    if previous and not replace:
        raise _refuse(url, previous, bundle.sha256)
    return False


def _refuse(url: str, old: str, new: str) -> DestinationError:
    return DestinationError(
        f"{url} already holds a different bundle (sha256 {old[:12]}…, new {new[:12]}…); "
        "use --replace to replace it"
    )


class DirectoryDestination:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.description = f"directory {self.root}"

    def deliver(self, bundle: ExportBundle, key: str, *, replace: bool = False) -> Delivery:
        target = self.root / _check_key(key)
        url = str(target)
        previous = _sha256_path(target) if target.is_file() else None
        if _already_there(bundle, url, previous, replace):
            return Delivery(url, "identical")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._write(bundle.path, target, replace=previous is not None)
        except FileExistsError:
            # someone else delivered between our check and our link: compare with theirs
            if _sha256_path(target) == bundle.sha256:
                return Delivery(url, "identical")
            raise _refuse(url, _sha256_path(target) or "", bundle.sha256) from None
        except OSError as exc:
            raise DestinationError(
                f"cannot write to {self.description}: {exc.strerror or exc}"
            ) from None
        if previous:
            log.warning("bundle %s: replaced %s (old sha256 %s)", bundle.name, url, previous)
            return Delivery(url, "replaced", previous)
        return Delivery(url, "written")

    @staticmethod
    def _write(src: Path, target: Path, *, replace: bool) -> None:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".tmp-{target.name}-")
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if replace:
                os.replace(tmp, target)
                return
            try:
                os.link(tmp, target)  # fails if the target exists: create-only
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                # shares without hard links (SMB, some NFS): rename after the check above
                if target.exists():
                    raise FileExistsError(str(target)) from None
                os.rename(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _sha256_path(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DestinationError(f"cannot read {path}: {exc.strerror}") from None
    return h.hexdigest()


class StoreDestination:
    """A destination on an object store (S3 through `storage.s3.S3Store`, the archive's one
    S3 client): its writes are create-only, retried, and multipart for large bundles."""

    def __init__(self, store: ObjectStore, url: str) -> None:
        self.store = store
        self.url = url.rstrip("/")
        self.description = store.description

    def _digest(self, key: str) -> str | None:
        try:
            return self.store.digest(key)
        except NotFound:
            return None

    def deliver(self, bundle: ExportBundle, key: str, *, replace: bool = False) -> Delivery:
        key = _check_key(key)
        url = f"{self.url}/{key}"
        try:
            previous = self._digest(key)
            if _already_there(bundle, url, previous, replace):
                return Delivery(url, "identical")
            try:
                self.store.put_file(
                    key, str(bundle.path), overwrite=previous is not None, sha256=bundle.sha256
                )
            except ObjectExists:
                # someone else delivered between our check and our write: not the same bundle
                raise _refuse(url, self._digest(key) or "", bundle.sha256) from None
        except StorageError as exc:
            raise DestinationError(f"records destination {self.url}: {exc}") from None
        except OSError as exc:
            raise DestinationError(f"reading {bundle.path} failed: {exc}") from None
        if previous:
            log.warning("bundle %s: replaced %s (old sha256 %s)", bundle.name, url, previous)
            return Delivery(url, "replaced", previous)
        return Delivery(url, "written")


def open_destination(
    url: str, *, s3_client: Any = None, policy: RetryPolicy | None = None
) -> Destination:
    """A directory path, a file:// URL or s3://bucket/prefix. S3 uses boto3's usual
    credentials; AWS_ENDPOINT_URL_S3 points it at another S3-compatible service; `policy`
    bounds its retries (the storage.* settings)."""
    if not url:
        raise DestinationError(
            "no records destination: set export.destination in the config or pass --dest"
        )
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise DestinationError(f"export.destination: no bucket in {url!r}")
        client = s3_client or make_s3_client()
        store = S3Store(client, parts.netloc, parts.path, policy=policy)
        return StoreDestination(store, f"s3://{parts.netloc}/{parts.path.strip('/')}")
    if parts.scheme == "file":
        return DirectoryDestination(unquote(parts.path))
    if parts.scheme in ("",) or (len(parts.scheme) == 1 and os.name == "nt"):
        return DirectoryDestination(url)
    raise DestinationError(
        f"export.destination: must be a directory, file:// URL or s3://bucket/prefix, got {url!r}"
    )


def out_destination(
    out: str | os.PathLike[str], file_name: str
) -> tuple[DirectoryDestination, str]:
    """Where `--out` puts a bundle: into a directory under its own name, or at a .zip path."""
    path = Path(out)
    if path.is_dir():
        return DirectoryDestination(path), file_name
    if path.suffix.lower() != ".zip":
        raise DestinationError(f"--out must be a directory or a .zip file name, got {out}")
    return DirectoryDestination(path.parent), path.name
