"""S3 (or any S3-compatible service) through boto3, behind the ObjectStore interface.

The client is built once (see `make_s3_client`) and handed in. Writes are create-only
(`If-None-Match: *` plus a HEAD check for services that ignore it); where the bucket has
Object Lock, each object is written with a retention period so it cannot be deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from archiver.timestamps import utcnow
from storage.errors import NotFound, ObjectExists, StorageError
from storage.store import ObjectInfo

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


def make_s3_client(
    *, endpoint_url: str | None = None, region: str | None = None, retries: int = 5
) -> Any:
    """One boto3 client for the process; credentials come from boto3's usual chain."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        config=Config(retries={"max_attempts": retries, "mode": "standard"}),
    )


class S3Store:
    def __init__(
        self, client: Any, bucket: str, prefix: str = "", *, lock_days: int | None = None
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}"
        self._lock_days = lock_days
        self._protection: dict[str, Any] | None = None

    # -- bucket protection ------------------------------------------------------------
    def protection(self) -> dict[str, Any]:
        """What the bucket offers: versioning status and Object Lock (read once)."""
        if self._protection is None:
            info: dict[str, Any] = {
                "versioning": "Disabled",
                "object_lock": False,
                "default_retention": None,
            }
            try:
                info["versioning"] = self.client.get_bucket_versioning(Bucket=self.bucket).get(
                    "Status", "Disabled"
                )
                lock = self.client.get_object_lock_configuration(Bucket=self.bucket)
                conf = lock.get("ObjectLockConfiguration", {})
                info["object_lock"] = conf.get("ObjectLockEnabled") == "Enabled"
                info["default_retention"] = conf.get("Rule", {}).get("DefaultRetention")
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "NoSuchBucket":
                    raise StorageError(f"bucket does not exist: {self.bucket}") from None
                # ObjectLockConfigurationNotFoundError or a service without Object Lock
            except BotoCoreError as exc:
                raise StorageError(f"cannot reach {self.description}: {exc}") from None
            self._protection = info
        return self._protection

    def _lock_args(self) -> dict[str, Any]:
        prot = self.protection()
        if not prot["object_lock"] or prot["default_retention"] or not self._lock_days:
            return {}
        until = utcnow() + dt.timedelta(days=self._lock_days)
        return {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": until}

    # -- ObjectStore --------------------------------------------------------------------
    def _key(self, key: str) -> str:
        return self.prefix + key

    def _call(self, what: str, key: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if code in _NOT_FOUND or status == "404":
                raise NotFound(f"no such object: {key}") from None
            if code in {"PreconditionFailed", "ConditionalRequestConflict"} or status == "412":
                raise ObjectExists(f"object already exists: {key}") from None
            detail = f"{code} {err.get('Message', '')}".strip()
            raise StorageError(f"{what} {key} on {self.description} failed: {detail}") from None
        except BotoCoreError as exc:
            raise StorageError(f"cannot reach {self.description}: {exc}") from None

    def _put(self, key: str, body: Any, overwrite: bool) -> None:
        extra = self._lock_args()
        if not overwrite:
            if self.exists(key):
                raise ObjectExists(f"object already exists: {key}")
            extra["IfNoneMatch"] = "*"
        self._call("writing", key, self.client.put_object, Key=self._key(key), Body=body, **extra)

    def sync(self) -> None:
        """Nothing to do: S3 acknowledges a PUT once the object is durable."""

    def put_file(self, key: str, path: str, *, overwrite: bool = False) -> None:
        with open(path, "rb") as fh:
            self._put(key, fh, overwrite)

    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        self._put(key, data, overwrite)

    def open(self, key: str) -> BinaryIO:
        resp = self._call("reading", key, self.client.get_object, Key=self._key(key))
        body: BinaryIO = resp["Body"]
        return body

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
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for obj in page.get("Contents", []):
                    yield obj["Key"][len(self.prefix) :]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise StorageError(f"listing {self.description}{prefix} failed: {code}") from None
        except BotoCoreError as exc:
            raise StorageError(f"cannot reach {self.description}: {exc}") from None

    def delete(self, key: str) -> None:
        self._call("deleting", key, self.client.delete_object, Key=self._key(key))
