"""Items as storage holds them, for the item pages: versions, deletion, capture history.

Storage is the source of truth, so an item page shows the records its runs hold, not the
index's projection of them. The index only says where to look: which accounts hold the
id and which runs captured the item (`Index.items`); those runs are then read for that
item's lines only (storage.view.merge_item), plus every run the index does not hold yet.
So an item page never loads an account's history, and memory stays flat whatever the
archive's size. Found items are kept in a small LRU (`max_items`, config
ui.item_cache_items), dropped when the list of committed runs changes; the run objects read
for them stay decompressed up to ui.run_cache_mb (runs never change). The list of runs is
looked at again at most every `recheck_seconds`, by one thread while the others go on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archiver.archive import AccountRef, Archive
from archiver.index.schema import INDEXED_COLLECTIONS
from storage.errors import StorageError
from storage.records import item_key
from storage.runs import Manifest, RunCache, find_records
from storage.view import EVENTS, Item, merge_item

if TYPE_CHECKING:
    from archiver.index import Index
    from archiver.index.items import IndexedItem

# when an id names items in several collections (a post the account also liked), the
# account's own posts come first
_COLLECTION_ORDER = ("tweets", "mentions", "dms", "likes", "bookmarks", "lists")


@dataclass(frozen=True)
class FoundItem:
    account: AccountRef
    item: Item
    runs: tuple[Manifest, ...]  # the committed runs that captured a version, oldest first


@dataclass(frozen=True)
class AccountSummary:
    account: AccountRef
    runs: int
    last_run: Manifest | None
    last_good_run: Manifest | None  # committed without gaps or errors


def is_good(manifest: Manifest) -> bool:
    return not manifest.gaps and not manifest.errors


def _collection_rank(coll: str) -> int:
    return _COLLECTION_ORDER.index(coll) if coll in _COLLECTION_ORDER else len(_COLLECTION_ORDER)


class Catalogue:
    def __init__(
        self,
        archive: Archive,
        *,
        recheck_seconds: float = 5.0,
        max_items: int = 1000,
        run_cache_mb: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.archive = archive
        self.recheck_seconds = recheck_seconds
        self.max_items = max_items
        self._run_bytes = RunCache(run_cache_mb << 20)  # runs read for items, decompressed
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below (held only to swap them)
        self._listing = threading.Lock()  # one thread lists the store at a time
        self._runs: dict[str, list[Manifest]] | None = None
        self._run_refs: frozenset[tuple[str, str]] = frozenset()
        self._generation = 0  # moves on when the committed runs change
        self._checked_at: float | None = None
        self._error: str | None = None  # why the last listing failed, until one succeeds
        self._found: OrderedDict[str, tuple[int, list[FoundItem]]] = OrderedDict()

    def _fresh(self) -> bool:
        checked = self._checked_at
        return checked is not None and self._clock() - checked < self.recheck_seconds

    def runs_by_account(self, *, wait: bool = True) -> dict[str, list[Manifest]]:
        """Committed runs of every account, oldest first, re-listed when stale by one
        thread while the others go on with the last listing instead of queueing. With
        `wait=False` (/healthz) the re-listing runs in the background and the last listing
        is returned at once; a failed listing raises its StorageError until one succeeds."""
        runs = self._runs
        if runs is not None and not wait:
            if not self._fresh() and self._listing.acquire(blocking=False):
                threading.Thread(target=self._list_in_background, daemon=True).start()
            if self._error is not None:
                raise StorageError(self._error)
            return runs
        if runs is not None and (self._fresh() or not self._listing.acquire(blocking=False)):
            if self._error is not None:  # another thread is listing again: it failed before
                raise StorageError(self._error)
            return runs
        if runs is None:
            self._listing.acquire()
        try:
            if self._runs is not None and self._fresh():
                return self._runs
            return self._relist()
        finally:
            self._listing.release()

    def _list_in_background(self) -> None:
        try:
            self._relist()
        except StorageError:
            pass  # kept in self._error for the next caller
        finally:
            self._listing.release()

    def _relist(self) -> dict[str, list[Manifest]]:
        listed: dict[str, list[Manifest]] = {}
        try:
            for manifest in self.archive.runs():
                listed.setdefault(manifest.account_id, []).append(manifest)
        except StorageError as exc:
            self._error = str(exc)
            raise
        refs = frozenset((m.account_id, m.run_id) for ms in listed.values() for m in ms)
        with self._lock:
            if refs != self._run_refs:
                self._run_refs, self._generation = refs, self._generation + 1
                self._found.clear()
            self._runs, self._checked_at, self._error = listed, self._clock(), None
        return listed

    def accounts(self, *, wait: bool = True) -> list[AccountSummary]:
        out = []
        for manifests in self.runs_by_account(wait=wait).values():
            latest = manifests[-1]
            good = [m for m in manifests if is_good(m)]
            out.append(
                AccountSummary(
                    AccountRef(latest.account_id, latest.account),
                    runs=len(manifests),
                    last_run=latest,
                    last_good_run=good[-1] if good else None,
                )
            )
        return sorted(out, key=lambda s: s.account.username.lower())

    def find(self, item_id: str, index: Index | None = None) -> list[FoundItem]:
        """Every item an id names (its own id or any version's), the account's own posts
        first. `index` (when usable) says where to look; without it every run is read."""
        from archiver.index import SearchIndexError

        runs = self.runs_by_account()
        generation = self._generation
        with self._lock:
            cached = self._found.get(item_id)
            if cached is not None and cached[0] == generation:
                self._found.move_to_end(item_id)
                return cached[1]
        indexed: list[IndexedItem] = []
        held: set[str] = set()
        if index is not None:
            # when the index cannot be used, storage alone still answers, reading every run
            with contextlib.suppress(SearchIndexError):
                indexed, held = index.items(item_id)
        found = self._lookup(item_id, runs, indexed, held)
        with self._lock:
            if generation == self._generation:
                self._found[item_id] = (generation, found)
                while len(self._found) > self.max_items:
                    self._found.popitem(last=False)  # the item viewed longest ago
        return found

    def _lookup(
        self,
        item_id: str,
        runs: dict[str, list[Manifest]],
        indexed: list[IndexedItem],
        held: set[str],
    ) -> list[FoundItem]:
        store = self.archive.store
        # (account id, collection, item key) -> (runs that captured it, version ids known)
        wanted: dict[tuple[str, str, str], tuple[set[str], set[str]]] = {}
        for it in indexed:
            wanted[(it.account_id, it.collection, it.id)] = (set(it.runs), it.version_ids())
        deletions = {(it.account_id, it.collection, it.id): it.deleted_at for it in indexed}
        pending = {
            aid: [m for m in ms if f"{aid}/{m.run_id}" not in held] for aid, ms in runs.items()
        }
        pending_ids = {aid: {m.run_id for m in ms} for aid, ms in pending.items()}
        # runs the index does not hold yet may hold the id, as a new item or a new version;
        # collections it never holds (the profile: one small record a run) are read always
        for aid, manifests in runs.items():
            for manifest in manifests:
                new = manifest.run_id in pending_ids[aid]
                for entry in manifest.objects:
                    coll = entry.collection
                    if not coll or coll == EVENTS or not (new or coll not in INDEXED_COLLECTIONS):
                        continue
                    for rec in find_records(store, manifest, coll, {item_id}, self._run_bytes):
                        chain = [str(i) for i in rec.get("edit_history_ids") or ()]
                        if str(rec.get("id")) == item_id or item_id in chain:
                            wanted.setdefault((aid, coll, item_key(rec)), (set(), set()))
        found = []
        for (aid, coll, key), (item_runs, ids) in wanted.items():
            read = item_runs | pending_ids.get(aid, set())
            if coll not in INDEXED_COLLECTIONS:
                read = {m.run_id for m in runs.get(aid, ())}
            manifests = [m for m in runs.get(aid, ()) if m.run_id in read]
            item = (
                merge_item(store, manifests, coll, key, ids, self._run_bytes) if manifests else None
            )
            if item is None:
                continue
            if not item.deleted_at and deletions.get((aid, coll, key)):
                # a deletion event in a run that holds none of the item's records
                item.deleted_at = deletions[(aid, coll, key)]
            by_run = {m.run_id: m for m in manifests}
            account = AccountRef(aid, runs[aid][-1].account)
            item_runs_found = tuple(by_run[r] for r in item.runs if r in by_run)
            found.append(FoundItem(account, item, item_runs_found))
        found.sort(key=lambda f: (_collection_rank(f.item.collection), f.account.username))
        return found
