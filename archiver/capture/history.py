"""What the archive already holds for an account, as capture needs it, read in one pass:
what is new, where incrementals start (`since_id`), which posts to look up for deletion,
and who followed the account at the newest snapshot (to record gains and losses)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from archiver import memberships
from archiver.memberships import SnapshotBuilder
from storage.records import item_key
from storage.runs import Manifest, iter_run, list_runs
from storage.store import ObjectStore
from storage.view import EVENTS, AccountState

SOURCE = "x-api-v2"
# collections whose ids are time-ordered snowflakes an incremental can start after
SINCE_COLLECTIONS = ("tweets", "mentions", "dms")
# collections whose posts a full run checks for deletion
CHECKED_COLLECTIONS = ("tweets", "mentions")
MEMBERSHIPS = tuple(memberships.MEMBERSHIPS)


def _as_int(value: Any) -> int:
    text = str(value)
    return int(text) if text.isdigit() else 0


@dataclass
class History:
    manifests: list[Manifest] = field(default_factory=list)
    state: AccountState = field(default_factory=AccountState)
    newest: dict[str, int] = field(default_factory=dict)
    # item key -> the newest version id held, per checked collection
    latest: dict[str, dict[str, str]] = field(default_factory=dict)
    deleted: set[tuple[str, str]] = field(default_factory=set)
    # follower/following snapshots of every source, for the gains and losses of this run
    snapshots: SnapshotBuilder = field(default_factory=SnapshotBuilder)
    missing: list[str] = field(default_factory=list)  # listed by a run, gone from the store
    # list id -> member user ids, as API runs last saw them; lists whose members were walked
    list_members: dict[str, set[str]] = field(default_factory=dict)
    lists_captured: set[str] = field(default_factory=set)
    unliked: set[str] = field(default_factory=set)  # likes an API run found withdrawn
    _ids: dict[str, set[str]] = field(default_factory=dict, repr=False)  # from API runs

    @classmethod
    def load(cls, store: ObjectStore, account_id: str) -> History:
        history = cls(manifests=list_runs(store, account_id))
        for manifest in history.manifests:
            history._add_run(manifest, iter_run(store, manifest, history.missing))
        return history

    def _add_run(self, manifest: Manifest, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        from_api = manifest.source == SOURCE
        if from_api:
            complete = set(manifest.details.get("complete") or ())
            self.lists_captured.update(
                w.removeprefix("members-") for w in complete if w.startswith("members-")
            )
            # cursors come only from API walks that reached their end: an import (or a walk
            # the API cut short) never moves where the next incremental starts
            for collection in SINCE_COLLECTIONS:
                newest = (manifest.window.get(collection) or {}).get("newest_id")
                if collection in complete and newest:
                    self.newest[collection] = max(self.newest.get(collection, 0), _as_int(newest))
        self.snapshots.start(manifest)
        for collection, rec in records:
            self.snapshots.add(collection, rec)
            if collection == EVENTS:
                self._add_event(rec, from_api)
                continue
            self.state.add(collection, rec)
            rid = str(rec["id"])
            if rec.get("deleted_at"):
                self.deleted.add((collection, rid))
            if from_api:
                self._ids.setdefault(collection, set()).add(rid)
                if rec.get("kind") == "list_member":
                    list_id, _, user_id = rid.partition(":")
                    self.list_members.setdefault(list_id, set()).add(user_id)
            if collection in CHECKED_COLLECTIONS:
                versions = self.latest.setdefault(collection, {})
                key = item_key(rec)
                if _as_int(rid) >= _as_int(versions.get(key, 0)):
                    versions[key] = rid
        self.snapshots.end()

    def _add_event(self, event: dict[str, Any], from_api: bool) -> None:
        kind = event.get("type")
        if kind == "deleted":
            self.deleted.add((str(event.get("collection")), str(event.get("id"))))
        elif from_api and kind == "unliked":
            self.unliked.add(str(event.get("id")))
        elif from_api and kind in ("list_member_added", "list_member_removed"):
            members = self.list_members.setdefault(str(event.get("list_id")), set())
            if kind == "list_member_added":
                members.add(str(event.get("user_id")))
            else:
                members.discard(str(event.get("user_id")))

    # -- questions capture asks ------------------------------------------------------------
    @property
    def has_capture(self) -> bool:
        return any(m.source == SOURCE for m in self.manifests)

    @property
    def last_run(self) -> str | None:
        return self.manifests[-1].run_id if self.manifests else None

    def since_id(self, collection: str) -> str | None:
        newest = self.newest.get(collection)
        return str(newest) if newest else None

    def api_ids(self, collection: str) -> set[str]:
        """Ids of the collection's items that API runs captured."""
        return set(self._ids.get(collection, ()))

    def holds(self, collection: str, rid: str) -> bool:
        """Whether an earlier API run of this collection captured the item (where an
        incremental newest-first walk may stop; imported items never stop it)."""
        return rid in self._ids.get(collection, ())

    def is_new(self, collection: str, rec: dict[str, Any]) -> bool:
        return self.state.is_new(collection, rec)

    def is_deleted(self, collection: str, rid: str) -> bool:
        return (collection, rid) in self.deleted

    def unseen_in_window(
        self, collection: str, seen_keys: set[str], oldest: int, newest: int
    ) -> list[str]:
        """Newest version ids of held posts inside [oldest, newest] a full run did not see."""
        return sorted(
            (
                rid
                for key, rid in self.latest.get(collection, {}).items()
                if key not in seen_keys
                and oldest <= _as_int(rid) <= newest
                and not self.is_deleted(collection, rid)
                and not self.is_deleted(collection, key)
            ),
            key=_as_int,
        )
