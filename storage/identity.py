"""A store's identity: a small object written once, when the store is first used, that
tells this store from every other (a copy made with `cp -r` or `aws s3 sync` included,
which shares it: a copy is the same archive).

What is derived from a store (its search index) records the identity it was built from,
so it can refuse to serve another store's data.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import orjson

from archiver.timestamps import isoformat, utcnow
from storage.errors import NotFound, ObjectExists, StorageError
from storage.store import ObjectStore, read_bytes

IDENTITY = "store.json"
IDENTITY_FORMAT = "social-archive/store/1"


@dataclass(frozen=True)
class StoreIdentity:
    store_id: str  # 32 hex digits, random
    created_at: str

    def stored(self) -> bytes:
        doc = {"format": IDENTITY_FORMAT, "store_id": self.store_id, "created_at": self.created_at}
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"

    @classmethod
    def parse(cls, data: bytes, where: str) -> StoreIdentity:
        try:
            doc = orjson.loads(data)
            if doc["format"] != IDENTITY_FORMAT:
                raise ValueError(f"format {doc['format']!r}")
            store_id, created_at = str(doc["store_id"]), str(doc["created_at"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise StorageError(f"{where}: unreadable store identity {IDENTITY} ({exc})") from None
        if len(store_id) != 32 or not all(c in "0123456789abcdef" for c in store_id):
            raise StorageError(f"{where}: {IDENTITY} holds no valid store id")
        return cls(store_id, created_at)


def store_identity(store: ObjectStore) -> StoreIdentity:
    """The store's identity, created on first use. Create-only: of two processes creating
    it at once, one write wins and both return the winner's."""
    try:
        return StoreIdentity.parse(read_bytes(store, IDENTITY), store.description)
    except NotFound:
        pass
    mine = StoreIdentity(secrets.token_hex(16), isoformat(utcnow()))
    try:
        store.put_bytes(IDENTITY, mine.stored())
    except ObjectExists:
        return StoreIdentity.parse(read_bytes(store, IDENTITY), store.description)
    return mine
