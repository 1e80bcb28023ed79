"""The object-store interface both backends implement (put/get/list/head/delete)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


@runtime_checkable
class ObjectStore(Protocol):
    """Keys are '/'-separated relative paths. Writes never overwrite unless asked."""

    description: str  # where the store points, for messages (never holds secrets)

    def put_file(
        self,
        key: str,
        path: str,
        *,
        overwrite: bool = False,
        sha256: str | None = None,
        handed_over: bool = False,
    ) -> None:
        """Upload a local file as one object; raises ObjectExists if the key holds other
        bytes (the same bytes are a success: a retried write meeting itself). `sha256`, when
        the caller knows it, saves hashing the file again. `handed_over`: the caller never
        writes to the file again (a staged run file), so a local store may link it into place
        rather than copy it. Durable once `sync()` returns (a run syncs once, before its
        manifest)."""

    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        """Write a small object, durable on return; create-only like put_file."""

    def digest(self, key: str) -> str:
        """The SHA-256 (hex) of the stored bytes; raises NotFound."""

    def sync(self) -> None:
        """Make every write so far durable (called before a run's manifest, and after it)."""

    def open(self, key: str) -> BinaryIO:
        """Stream an object's bytes; raises NotFound."""

    def head(self, key: str) -> ObjectInfo:
        """Size of an object; raises NotFound."""

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under prefix, in lexical order, however many there are."""

    def delete(self, key: str) -> None:
        """Remove an object; only used for uncommitted run garbage."""


def read_bytes(store: ObjectStore, key: str) -> bytes:
    with store.open(key) as fh:
        return fh.read()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 (hex) of a local file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
