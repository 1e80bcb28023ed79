"""Checkpoints: an unfinished capture run's pages, kept in the store so a killed run resumes.

Layout: accounts/<account_id>/checkpoints/<run_id>/state.json (what run this is: kind,
cursors it started from), pages/<walk>/<seq>.json.gz, one object per API page, written as
soon as the page arrives, and media/<url hash>.json, one per media file stored. Nothing here
is part of the archive: runs are only what has a manifest. A resumed run replays these pages
(records are pure functions of pages) and carries on from the last page's `next_token`, and
fetches none of the media files already stored; once the run commits, its checkpoint goes.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from archiver.capture.client import Page
from storage.errors import ObjectExists, StorageError
from storage.store import ObjectStore, read_bytes

log = logging.getLogger(__name__)

STATE = "state.json"


def checkpoints_prefix(account_id: str) -> str:
    return f"accounts/{account_id}/checkpoints/"


@dataclass
class Checkpoint:
    store: ObjectStore
    account_id: str
    run_id: str
    state: dict[str, Any]

    @property
    def prefix(self) -> str:
        return f"{checkpoints_prefix(self.account_id)}{self.run_id}/"

    @property
    def kind(self) -> str:
        return str(self.state.get("kind", "incremental"))

    @classmethod
    def start(
        cls, store: ObjectStore, account_id: str, run_id: str, state: dict[str, Any]
    ) -> Checkpoint:
        cp = cls(store, account_id, run_id, {"run_id": run_id, **state})
        store.put_bytes(cp.prefix + STATE, orjson.dumps(cp.state))
        return cp

    @classmethod
    def find(cls, store: ObjectStore, account_id: str) -> list[Checkpoint]:
        """Every checkpoint the account has, oldest first (normally none or one)."""
        found = []
        for key in store.list(checkpoints_prefix(account_id)):
            rest = key[len(checkpoints_prefix(account_id)) :]
            run_id, _, name = rest.partition("/")
            if name != STATE:
                continue
            try:
                state = orjson.loads(read_bytes(store, key))
            except (orjson.JSONDecodeError, StorageError) as exc:
                log.warning("account %s: unreadable checkpoint %s (%s)", account_id, key, exc)
                state = {}
            found.append(cls(store, account_id, run_id, state))
        return sorted(found, key=lambda cp: cp.run_id)

    def save(self, walk: str, seq: int, page: Page) -> None:
        """Keep one page the moment it arrives (create-only: a page is never rewritten)."""
        data = gzip.compress(orjson.dumps(page.evidence()), compresslevel=5, mtime=0)
        self.store.put_bytes(f"{self.prefix}pages/{walk}/{seq:06d}.json.gz", data)

    def pages(self) -> dict[str, list[Page]]:
        """The pages kept so far, by walk, in the order they arrived."""
        keys: dict[str, list[str]] = {}
        for key in self.store.list(self.prefix + "pages/"):
            walk = key[len(self.prefix + "pages/") :].split("/", 1)[0]
            keys.setdefault(walk, []).append(key)
        by_walk: dict[str, list[Page]] = {}
        for walk, walk_keys in keys.items():
            pages = by_walk.setdefault(walk, [])
            for n, key in enumerate(walk_keys):
                try:
                    doc = orjson.loads(gzip.decompress(read_bytes(self.store, key)))
                except (OSError, EOFError, orjson.JSONDecodeError):
                    # cut short by a crash mid-write: from here on this walk is fetched again
                    log.warning(
                        "account %s: damaged checkpoint page %s; fetching it again",
                        self.account_id,
                        key,
                    )
                    for stale in walk_keys[n:]:
                        self.store.delete(stale)
                    break
                pages.append(Page.from_evidence(doc))
        return by_walk

    def save_media(self, line: dict[str, Any]) -> None:
        """Keep one media file's provenance once it is stored (or found to be a gap)."""
        name = hashlib.sha256(str(line["url"]).encode()).hexdigest()[:32]
        with contextlib.suppress(ObjectExists):  # the same file, kept by an earlier attempt
            self.store.put_bytes(f"{self.prefix}media/{name}.json", orjson.dumps(line))

    def media(self) -> list[dict[str, Any]]:
        """The media provenance lines kept so far (a resumed run fetches none of them again)."""
        lines = []
        for key in self.store.list(self.prefix + "media/"):
            try:
                lines.append(orjson.loads(read_bytes(self.store, key)))
            except (orjson.JSONDecodeError, StorageError):
                log.warning("account %s: damaged media checkpoint %s", self.account_id, key)
        return lines

    def clear(self) -> None:
        for key in list(self.store.list(self.prefix)):
            try:
                self.store.delete(key)
            except StorageError as exc:
                log.warning(
                    "account %s: could not remove checkpoint object %s (%s)",
                    self.account_id,
                    key,
                    exc,
                )
