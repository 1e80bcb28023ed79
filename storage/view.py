"""The current view of an account: its runs merged into items with versions and deletions.

An item is keyed by (collection, item_key): an edited post's versions share the first id of
its edit chain. A later version is one whose content differs (metrics do not count). An item
is deleted when a record carries `deleted_at` or a `deleted` event names it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from storage.records import content_hash, item_key
from storage.runs import Manifest, RunCache, find_records, iter_run, list_runs
from storage.store import ObjectStore

EVENTS = "events"  # collection of inferred facts: deletions confirmed, follower changes


@dataclass
class Item:
    collection: str
    key: str
    versions: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    deleted_at: str | None = None
    first_run: str | None = None
    last_run: str | None = None
    runs: list[str] = field(default_factory=list)

    @property
    def latest(self) -> dict[str, Any]:
        return self.versions[-1]

    @property
    def edited(self) -> bool:
        return is_edited(self.versions)


def is_edited(versions: list[dict[str, Any]]) -> bool:
    """Whether an item's versions (oldest first) say it was edited."""
    return len(versions) > 1 or len(versions[-1].get("edit_history_ids") or []) > 1


def version_order(rec: dict[str, Any]) -> tuple[int, str, str]:
    """The sort key of an item's versions, oldest first: within an edit chain later versions
    have later (larger) ids; where an edit keeps its id (a Mastodon status's URI) each
    version's own time orders it (its StatusEdit's `created_at`). The index orders by it too."""
    rid = str(rec["id"])
    if rid.isdigit():
        return (int(rid), "", rec.get("captured_at") or "")
    return (0, str(rec.get("created_at") or ""), rec.get("captured_at") or "")


def merge_runs(
    store: ObjectStore,
    manifests: Iterable[Manifest],
    keep: Callable[[str, dict[str, Any]], bool] | None = None,
    read: Callable[[ObjectStore, Manifest], Iterable[tuple[str, dict[str, Any]]]] = iter_run,
) -> dict[tuple[str, str], Item]:
    """Items keyed by (collection, item_key). `keep(collection, record)`, if given, chooses the
    records to merge (say, the items of one month), so memory holds only those. `read`
    yields a run's (collection, record) pairs: every record by default, or only the lines
    that can matter (see `merge_item`)."""
    items: dict[tuple[str, str], Item] = {}
    seen: dict[tuple[str, str], set[str]] = {}
    deletions: dict[tuple[str, str], str] = {}
    by_id: dict[tuple[str, str], tuple[str, str]] = {}  # any version's id -> item key
    for manifest in manifests:
        for collection, rec in read(store, manifest):
            if collection == EVENTS:
                if rec.get("type") == "deleted":
                    deletions.setdefault((rec["collection"], str(rec["id"])), rec["at"])
                continue
            if keep is not None and not keep(collection, rec):
                continue
            key = (collection, item_key(rec))
            by_id[(collection, str(rec["id"]))] = key
            item = items.get(key)
            if item is None:
                item = items[key] = Item(collection, key[1], first_run=manifest.run_id)
                seen[key] = set()
            if manifest.run_id not in item.runs:
                item.runs.append(manifest.run_id)
            item.last_run = manifest.run_id
            digest = content_hash(rec)
            if digest in seen[key]:
                # same content seen again: keep the freshest copy (metrics) in place
                for i, old in enumerate(item.versions):
                    if content_hash(old) == digest:
                        item.versions[i] = _keep_deletion(old, rec)
                        break
            else:
                seen[key].add(digest)
                item.versions.append(rec)
                item.versions.sort(key=version_order)
            if rec.get("deleted_at") and not item.deleted_at:
                item.deleted_at = rec["deleted_at"]
    for (collection, rid), at in deletions.items():
        item = items.get(by_id.get((collection, rid), (collection, rid)))
        if item and not item.deleted_at:
            item.deleted_at = at
    return items


def merge_item(
    store: ObjectStore,
    manifests: Iterable[Manifest],
    collection: str,
    key: str,
    ids: Iterable[str] = (),
    cache: RunCache | None = None,
) -> Item | None:
    """The item `key` of `collection` merged from `manifests` exactly as merge_runs merges
    it, reading only the lines of those runs that name it (storage.runs.find_records).
    `ids`: other ids of its versions known beforehand, for deletion events naming them;
    `cache` keeps small decompressed objects for the next item."""
    names = {key, *ids}

    def read(store: ObjectStore, manifest: Manifest) -> Iterator[tuple[str, dict[str, Any]]]:
        for rec in find_records(store, manifest, collection, {key}, cache):
            if item_key(rec) == key:
                names.add(str(rec["id"]))
                yield collection, rec
        for rec in find_records(store, manifest, EVENTS, names, cache):
            if rec.get("collection") == collection and str(rec.get("id")) in names:
                yield EVENTS, rec

    return merge_runs(store, manifests, read=read).get((collection, key))


def _keep_deletion(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    if old.get("deleted_at") and not new.get("deleted_at"):
        new = {**new, "deleted_at": old["deleted_at"]}
    return new


def current_view(
    store: ObjectStore, account_id: str, collections: Iterable[str] | None = None
) -> Iterator[Item]:
    """Every item of the account, latest version first-class, in collection then id order."""
    wanted = set(collections) if collections else None
    items = merge_runs(store, list_runs(store, account_id))
    for key in sorted(items, key=lambda k: (k[0], version_order({"id": k[1]}))):
        if wanted is None or key[0] in wanted:
            yield items[key]


class AccountState:
    """What the archive already holds for an account, compactly: used to write only news."""

    def __init__(self) -> None:
        self._hashes: dict[tuple[str, str], set[str]] = {}
        self._deleted: set[tuple[str, str]] = set()
        self.missing: list[str] = []  # objects committed runs list and the store lacks

    @classmethod
    def load(cls, store: ObjectStore, account_id: str) -> AccountState:
        state = cls()
        for manifest in list_runs(store, account_id):
            for collection, rec in iter_run(store, manifest, state.missing):
                if collection == EVENTS:
                    if rec.get("type") == "deleted":
                        state._deleted.add((rec["collection"], str(rec["id"])))
                    continue
                state.add(collection, rec)
        return state

    def add(self, collection: str, rec: dict[str, Any]) -> None:
        key = (collection, str(rec["id"]))
        self._hashes.setdefault(key, set()).add(content_hash(rec)[:32])
        if rec.get("deleted_at"):
            self._deleted.add(key)

    def is_new(self, collection: str, rec: dict[str, Any]) -> bool:
        """True when the record adds something: an unseen item, new content, or a deletion."""
        key = (collection, str(rec["id"]))
        hashes = self._hashes.get(key)
        if hashes is None or content_hash(rec)[:32] not in hashes:
            return True
        return bool(rec.get("deleted_at")) and key not in self._deleted

    def ids(self, collection: str) -> set[str]:
        return {rid for (coll, rid) in self._hashes if coll == collection}

    def is_deleted(self, collection: str, rid: str) -> bool:
        return (collection, rid) in self._deleted
