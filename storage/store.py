"""The object-store interface both backends implement (put/get/list/head/delete)."""

from __future__ import annotations

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

    def put_file(self, key: str, path: str, *, overwrite: bool = False) -> None:
        """Upload a local file as one object; raises ObjectExists if the key exists.
        Durable once `sync()` returns (a run syncs once, before its manifest)."""

    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        """Write a small object, durable on return; raises ObjectExists if the key exists."""

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
