"""S3 (or any S3-compatible service) through boto3, behind the ObjectStore interface.

The client is built once (see `make_s3_client`) and handed in; this is the only module that
talks to botocore. Writes are create-only (`If-None-Match: *` plus a HEAD check for services
that ignore it); where the bucket has Object Lock, each object is written with a retention
period so it cannot be deleted.

Every request is retried here, through storage.retry, when it fails transiently (a reset, a
drop mid-body, a truncated body, 500/503/SlowDown): botocore's own retries are off, because a
create-only PUT whose first attempt landed answers 412 to botocore's silent retry. A write
that meets an object holding the same bytes (by SHA-256) is therefore a success, not an
"object already exists". Reads that break mid-body resume with a range request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import logging
import mimetypes
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import boto3
import urllib3.exceptions
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as BotoConnectionError

from archiver.timestamps import utcnow
from storage.errors import NotFound, ObjectExists, StorageError
from storage.retry import GaveUp, RetryPolicy, network_failure, retry
from storage.store import ObjectInfo, sha256_file

log = logging.getLogger(__name__)

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_EXISTS = {"PreconditionFailed", "ConditionalRequestConflict"}
# error codes S3 documents as "try again"; any 5xx is treated the same
_TRANSIENT_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTimeout",
    "InternalError",
    "ServiceUnavailable",
    "RequestLimitExceeded",
}
_CHUNK = 1 << 20
MULTIPART_THRESHOLD = 64 * 1024 * 1024  # larger files go up in parts
PART_SIZE = 16 * 1024 * 1024  # at least 5 MiB (S3's minimum) except the last part
# the bounds used when a store is built without a policy: a few seconds in all
DEFAULT_POLICY = RetryPolicy(max_retries=6, backoff_base=0.2, backoff_cap=5.0)


def make_s3_client(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    timeout: float = 60.0,
) -> Any:
    """One boto3 client for the process; credentials come from boto3's usual chain.

    botocore does not retry (`S3Store` does, knowing what a retried create-only write means)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=timeout,
            read_timeout=timeout,
        ),
    )


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def transient(exc: BaseException) -> str | None:
    """S3's transient failures: the network's (storage.retry), botocore's names for them,
    and the error codes and 5xx answers S3 asks clients to retry."""
    if isinstance(exc, ClientError):
        code, status = _code(exc), _status(exc)
        if code in _TRANSIENT_CODES or status >= 500:
            return f"{status} {code}" if code and code != str(status) else str(status)
        return None
    if isinstance(exc, (BotoConnectionError, HTTPClientError, IncompleteReadError)):
        return type(exc).__name__
    return network_failure(exc)


class S3Store:
    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        lock_days: int | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 1000,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}"
        self.policy = policy or DEFAULT_POLICY
        self.page_size = page_size
        self._sleep = sleep
        self._lock_days = lock_days
        self._protection: dict[str, Any] | None = None
        self.retries = 0  # requests retried so far (for reports and tests)

    # -- bucket protection ------------------------------------------------------------
    def protection(self) -> dict[str, Any]:
        """What the bucket offers: versioning status and Object Lock (read once)."""
        if self._protection is None:
            info: dict[str, Any] = {
                "versioning": "Disabled",
                "object_lock": False,
                "default_retention": None,
            }
            versioning = self._call("reading", "", self.client.get_bucket_versioning)
            info["versioning"] = versioning.get("Status", "Disabled")
            # a bucket without Object Lock (or a service without it) answers with these codes;
            # any other failure is an error: never write unprotected because of a fault
            lock = (
                self._call(
                    "reading",
                    "",
                    self.client.get_object_lock_configuration,
                    _absent={"ObjectLockConfigurationNotFoundError", "NotImplemented"},
                )
                or {}
            )
            conf = lock.get("ObjectLockConfiguration", {})
            info["object_lock"] = conf.get("ObjectLockEnabled") == "Enabled"
            info["default_retention"] = conf.get("Rule", {}).get("DefaultRetention")
            self._protection = info
        return self._protection

    def _lock_args(self) -> dict[str, Any]:
        prot = self.protection()
        if not prot["object_lock"] or prot["default_retention"] or not self._lock_days:
            return {}
        until = utcnow() + dt.timedelta(days=self._lock_days)
        return {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": until}

    # -- requests -----------------------------------------------------------------------
    def _key(self, key: str) -> str:
        return self.prefix + key

    def _count_retry(self, _attempt: int, _reason: str) -> None:
        self.retries += 1

    def _call(
        self,
        what: str,
        key: str,
        fn: Callable[..., Any],
        _absent: set[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """One request, retried while it fails transiently; S3's answers become ours
        (None for an error code in `_absent`)."""
        where = f"{what} {key} on {self.description}" if key else f"{what} {self.description}"
        try:
            return retry(
                lambda: fn(Bucket=self.bucket, **kwargs),
                what=where,
                policy=self.policy,
                classify=transient,
                sleep=self._sleep,
                before_retry=self._count_retry,
            )
        except GaveUp as exc:
            raise StorageError(f"{exc}; the store is not answering, try again later") from None
        except ClientError as exc:
            code, status = _code(exc), _status(exc)
            if _absent and code in _absent:
                return None
            if code == "NoSuchBucket":
                raise StorageError(f"bucket does not exist: {self.bucket}") from None
            if code in _NOT_FOUND or status == 404:
                raise NotFound(f"no such object: {key}") from None
            if code in _EXISTS or status == 412:
                raise ObjectExists(f"object already exists: {key}") from None
            if code in ("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId"):
                raise StorageError(f"{where}: access denied ({code})") from None
            detail = f"{code} {exc.response.get('Error', {}).get('Message', '')}".strip()
            raise StorageError(f"{where} failed: {detail}") from None
        except (BotoCoreError, urllib3.exceptions.HTTPError) as exc:
            raise StorageError(f"cannot reach {self.description}: {exc}") from None

    # -- ObjectStore --------------------------------------------------------------------
    def sync(self) -> None:
        """Nothing to do: S3 acknowledges a PUT once the object is durable."""

    def put_file(
        self,
        key: str,
        path: str,
        *,
        overwrite: bool = False,
        sha256: str | None = None,
        handed_over: bool = False,  # a copy is uploaded either way
    ) -> None:
        digest = sha256 or sha256_file(path)
        size = _file_size(path)
        if size > MULTIPART_THRESHOLD:
            self._write(key, digest, overwrite, lambda extra: self._multipart(key, path, extra))
            return

        def once(extra: dict[str, Any]) -> None:
            def send(**kw: Any) -> Any:
                with open(path, "rb") as fh:  # every attempt sends the whole file again
                    return self.client.put_object(Body=fh, **kw)

            self._call("writing", key, send, Key=self._key(key), **extra)

        self._write(key, digest, overwrite, once)

    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        digest = hashlib.sha256(data).hexdigest()

        def once(extra: dict[str, Any]) -> None:
            self._call(
                "writing", key, self.client.put_object, Key=self._key(key), Body=data, **extra
            )

        self._write(key, digest, overwrite, once)

    def _write(
        self, key: str, digest: str, overwrite: bool, upload: Callable[[dict[str, Any]], None]
    ) -> None:
        extra = {**self._lock_args(), "Metadata": {"sha256": digest}}
        content_type = mimetypes.guess_type(key)[0]
        if content_type:  # what a browser or a records system is told when it fetches it
            extra["ContentType"] = content_type
        if not overwrite:
            if self._holds(key, digest):
                return  # an earlier attempt of this very write landed
            extra["IfNoneMatch"] = "*"
        try:
            upload(extra)
        except (ObjectExists, NotFound):
            # NotFound: a completed multipart upload's retried completion (NoSuchUpload).
            # a retry of a write whose first attempt landed meets itself: that is success
            if not self._holds(key, digest):
                raise
            log.info("%s: already holds these bytes (a retried write had landed)", key)

    def _holds(self, key: str, digest: str) -> bool:
        """True if key holds bytes with this SHA-256; False if absent; ObjectExists if other."""
        try:
            stored = self.digest(key)
        except NotFound:
            return False
        if stored != digest:
            raise ObjectExists(f"object already exists: {key}")
        return True

    def digest(self, key: str) -> str:
        """The SHA-256 of the stored bytes: recorded at write, or hashed from the object."""
        head = self._call("reading", key, self.client.head_object, Key=self._key(key))
        recorded = head.get("Metadata", {}).get("sha256")
        if recorded:
            return str(recorded)
        h = hashlib.sha256()  # written by something else: hash what is there
        with self.open(key) as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        return h.hexdigest()

    def _multipart(self, key: str, path: str, extra: dict[str, Any]) -> None:
        """Upload in parts; the object appears only when completed whole. Aborted on failure
        (parts of an unfinished upload are never an object)."""
        if_none_match = extra.pop("IfNoneMatch", None)
        full = self._key(key)
        created = self._call("writing", key, self.client.create_multipart_upload, Key=full, **extra)
        upload_id = created["UploadId"]
        try:
            parts = []
            with open(path, "rb") as fh:
                number = 1
                while chunk := fh.read(PART_SIZE):
                    resp = self._call(
                        "writing",
                        key,
                        self.client.upload_part,
                        Key=full,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=chunk,
                    )
                    parts.append({"ETag": resp["ETag"], "PartNumber": number})
                    number += 1
            done = {"IfNoneMatch": if_none_match} if if_none_match else {}
            self._call(
                "writing",
                key,
                self.client.complete_multipart_upload,
                Key=full,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                **done,
            )
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self._call(
                "aborting upload of",
                key,
                self.client.abort_multipart_upload,
                Key=self._key(key),
                UploadId=upload_id,
            )
        except StorageError as exc:
            # NoSuchUpload: it completed after all; otherwise a lifecycle rule reaps the parts
            log.warning("could not abort upload %s of %s: %s", upload_id, key, exc)

    def open(self, key: str) -> BinaryIO:
        resp = self._call("reading", key, self.client.get_object, Key=self._key(key))
        raw = _ResumingBody(self, key, resp)
        return io.BufferedReader(raw, _CHUNK)

    def head(self, key: str) -> ObjectInfo:
        resp = self._call("reading", key, self.client.head_object, Key=self._key(key))
        return ObjectInfo(key, int(resp["ContentLength"]))

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except NotFound:
            return False
        return True

    def list(self, prefix: str) -> Iterator[str]:
        kwargs: dict[str, Any] = {"Prefix": self._key(prefix), "MaxKeys": self.page_size}
        while True:
            page = self._call("listing", prefix or "/", self.client.list_objects_v2, **kwargs)
            for obj in page.get("Contents", []):
                yield obj["Key"][len(self.prefix) :]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token

    def delete(self, key: str) -> None:
        self._call("deleting", key, self.client.delete_object, Key=self._key(key))


class _ResumingBody(io.RawIOBase):
    """An object's bytes; a read that breaks mid-body is resumed with a range request for
    the rest of the same version (If-Match on its ETag), through the store's retry policy."""

    def __init__(self, store: S3Store, key: str, resp: dict[str, Any]) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._size = int(resp.get("ContentLength", 0))
        self._etag = resp.get("ETag")
        self._body: Any = resp["Body"]
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        view = memoryview(buffer).cast("B")
        where = f"reading {self._key} on {self._store.description}"
        try:
            data: bytes = retry(
                lambda: self._read(len(view)),
                what=where,
                policy=self._store.policy,
                classify=transient,
                sleep=self._store._sleep,
                before_retry=self._reopen,
            )
        except GaveUp as exc:
            raise StorageError(f"{exc}; the store is not answering, try again later") from None
        except ClientError as exc:
            # 412 on If-Match: the object was replaced while it was read
            raise StorageError(f"{where} failed: {_code(exc) or _status(exc)}") from None
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _read(self, n: int) -> bytes:
        if self._body is None:
            extra = {"IfMatch": self._etag} if self._etag else {}
            resp = self._store.client.get_object(
                Bucket=self._store.bucket,
                Key=self._store._key(self._key),
                Range=f"bytes={self._pos}-",
                **extra,
            )
            self._body = resp["Body"]
        data: bytes = self._body.read(n)
        if not data:  # the stream ended before the object did
            raise IncompleteReadError(actual_bytes=self._pos, expected_bytes=self._size)
        return data

    def _reopen(self, attempt: int, _reason: str) -> None:
        self._store._count_retry(attempt, _reason)
        if self._body is not None:
            with contextlib.suppress(Exception):  # the broken stream is dropped anyway
                self._body.close()
        self._body = None

    def close(self) -> None:
        if self._body is not None:
            try:
                self._body.close()
            finally:
                self._body = None
        super().close()


def _file_size(path: str) -> int:
    with open(path, "rb") as fh:
        return fh.seek(0, io.SEEK_END)
