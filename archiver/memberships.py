"""Membership snapshots: who followed the account, and whom it followed, at each capture.

A snapshot is a complete list at one moment: an archive ZIP's follower.js / following.js at
the archive's generation date (the import keeps the whole list in its run), or an API run
whose walk of the list reached its end. An incremental API run writes only changes, so its
list is the snapshot it compared with (`details.membership_base`, a run id) plus its gained
events minus its lost events.

Snapshots are ordered by their moment, whatever order they arrived in: the current view is
the newest snapshot, and the changes are the differences between consecutive snapshots,
dated by the later one (`timeline`). Events are written where they are learnt (an API run
against the newest snapshot it knows; an import against its neighbours, see
`neighbour_events`), each dated by the snapshot it describes, so the latest-dated event of a
member always says whether it belongs to the newest snapshot (how the index reads them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from storage.errors import NotFound
from storage.runs import Manifest, iter_records, list_runs
from storage.store import ObjectStore

log = logging.getLogger(__name__)

API_SOURCE = "x-api-v2"
# API runs write only the changes of a complete walk (details.membership_base says against
# which snapshot); other runs (imports) keep their whole list
API_SOURCES = (API_SOURCE, "mastodon-api")
EVENTS = "events"
# collection -> the word its events use ("follower_gained", "following_lost")
MEMBERSHIPS = {"followers": "follower", "following": "following"}
EVENT_COLLECTIONS = {
    f"{word}_{change}": c for c, word in MEMBERSHIPS.items() for change in ("gained", "lost")
}
# every event that starts or ends an item's membership (what the index reads as is:ended):
# type -> (collection, whether it starts). Likes and list members end too (capture.runlog).
MEMBERSHIP_EVENTS: dict[str, tuple[str, bool]] = {
    **{t: (c, t.endswith("_gained")) for t, c in EVENT_COLLECTIONS.items()},
    "unliked": ("likes", False),
    "list_member_added": ("lists", True),
    "list_member_removed": ("lists", False),
}


@dataclass(frozen=True)
class Snapshot:
    collection: str
    at: str  # when the list was true (ISO 8601 UTC)
    run_id: str
    source: str
    members: dict[str, str]  # user id -> username ("" when the source gave none)


@dataclass
class Member:
    user_id: str
    username: str
    first_seen: str
    last_seen: str
    gone_at: str | None = None  # the first snapshot without them after last_seen

    @property
    def current(self) -> bool:
        return self.gone_at is None


@dataclass
class Timeline:
    collection: str
    snapshots: list[Snapshot] = field(default_factory=list)  # oldest first
    members: dict[str, Member] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)  # events, oldest first

    def current(self) -> list[Member]:
        return [m for m in self.members.values() if m.current]

    def ended(self) -> list[Member]:
        return [m for m in self.members.values() if not m.current]


def _snapshot_time(manifest: Manifest) -> str:
    return str(manifest.details.get("started_at") or manifest.committed_at)


def change_events(
    collection: str, before: Snapshot | None, after: Snapshot, names: dict[str, str]
) -> list[dict[str, Any]]:
    """The gained and lost events from one snapshot to the next, dated by the later."""
    if before is None:
        return []
    word = MEMBERSHIPS[collection]
    out: list[dict[str, Any]] = []
    for uid in sorted(set(after.members) - set(before.members), key=_id_order):
        out.append(
            {
                "type": f"{word}_gained",
                "user_id": uid,
                "username": after.members[uid] or names.get(uid, ""),
                "at": after.at,
            }
        )
    for uid in sorted(set(before.members) - set(after.members), key=_id_order):
        out.append(
            {
                "type": f"{word}_lost",
                "user_id": uid,
                "username": before.members[uid] or names.get(uid, ""),
                "at": after.at,
                "last_seen": before.at,
            }
        )
    return out


def _id_order(uid: str) -> tuple[int, str]:
    return (int(uid) if uid.isdigit() else 0, uid)


class SnapshotBuilder:
    """Fed an account's runs (oldest first), record by record; collects their snapshots."""

    def __init__(self) -> None:
        self.snapshots: dict[str, list[Snapshot]] = {c: [] for c in MEMBERSHIPS}
        self.names: dict[str, str] = {}
        self._by_run: dict[tuple[str, str], Snapshot] = {}
        self._last_api: dict[str, Snapshot] = {}
        self._run: Manifest | None = None
        self._records: dict[str, dict[str, str]] = {}
        self._changes: dict[str, dict[str, bool]] = {}  # user id -> gained (True) / lost

    def start(self, manifest: Manifest) -> None:
        self._run = manifest
        self._records = {c: {} for c in MEMBERSHIPS}
        self._changes = {c: {} for c in MEMBERSHIPS}

    def add(self, collection: str, rec: dict[str, Any]) -> None:
        if collection in MEMBERSHIPS:
            uid = str(rec["id"])
            name = str((rec.get("author") or {}).get("username") or "")
            self._records[collection][uid] = name
            if name:
                self.names[uid] = name
        elif collection == EVENTS:
            target = EVENT_COLLECTIONS.get(str(rec.get("type", "")))
            if target:
                uid = str(rec.get("user_id"))
                self._changes[target][uid] = str(rec["type"]).endswith("_gained")
                if rec.get("username"):
                    self.names[uid] = str(rec["username"])

    def end(self) -> None:
        manifest = self._run
        if manifest is None:
            return
        self._run = None
        declared = manifest.details.get("snapshots") or {}
        complete = set(manifest.details.get("complete") or ())
        for collection in MEMBERSHIPS:
            from_api = manifest.source in API_SOURCES
            if from_api and collection in complete:
                members = self._api_members(manifest, collection)
            elif not from_api and collection in declared:
                members = dict(self._records[collection])
            else:
                continue
            at = (
                str((declared.get(collection) or {}).get("at") or _snapshot_time(manifest))
                if not from_api
                else _snapshot_time(manifest)
            )
            snap = Snapshot(collection, at, manifest.run_id, manifest.source, members)
            self.snapshots[collection].append(snap)
            self._by_run[(collection, manifest.run_id)] = snap
            if from_api:
                self._last_api[collection] = snap

    def _api_members(self, manifest: Manifest, collection: str) -> dict[str, str]:
        bases = manifest.details.get("membership_base")
        if isinstance(bases, dict):  # the snapshot this run compared with (None: the first)
            base_run = bases.get(collection)
            base = self._by_run.get((collection, str(base_run))) if base_run else None
        else:  # runs before snapshots were kept: compared with the previous API run
            base = self._last_api.get(collection)
        members = dict(base.members) if base else {}
        members.update(self._records[collection])
        for uid, gained in self._changes[collection].items():
            if gained:
                members.setdefault(uid, self.names.get(uid, ""))
            else:
                members.pop(uid, None)
        return members

    def ordered(self, collection: str) -> list[Snapshot]:
        return sorted(self.snapshots[collection], key=lambda s: (s.at, s.run_id))

    def newest(self, collection: str) -> Snapshot | None:
        snaps = self.ordered(collection)
        return snaps[-1] if snaps else None


def build(store: ObjectStore, manifests: Iterable[Manifest]) -> SnapshotBuilder:
    """Read only the membership collections and events of the runs."""
    builder = SnapshotBuilder()
    for manifest in manifests:
        builder.start(manifest)
        for collection in (*MEMBERSHIPS, EVENTS):
            try:
                for rec in iter_records(store, manifest, collection):
                    builder.add(collection, rec)
            except NotFound:  # `archiver verify` names it; the snapshot is read as absent
                log.warning("run %s: %s is missing from the store", manifest.run_id, collection)
        builder.end()
    return builder


def timeline(
    store: ObjectStore, account_id: str, collection: str, builder: SnapshotBuilder | None = None
) -> Timeline:
    """The account's snapshots of `collection` in time order, its members (current and
    ended, with last seen and found gone), and the changes between consecutive snapshots."""
    if collection not in MEMBERSHIPS:
        raise ValueError(f"not a membership collection: {collection}")
    builder = builder or build(store, list_runs(store, account_id))
    out = Timeline(collection, builder.ordered(collection))
    before: Snapshot | None = None
    for snap in out.snapshots:
        out.changes += change_events(collection, before, snap, builder.names)
        for uid, name in snap.members.items():
            member = out.members.get(uid)
            if member is None:
                member = out.members[uid] = Member(uid, "", snap.at, snap.at)
            member.last_seen, member.gone_at = snap.at, None
            member.username = name or member.username or builder.names.get(uid, "")
        for uid, member in out.members.items():
            if uid not in snap.members and member.gone_at is None:
                member.gone_at = snap.at
        before = snap
    return out


def neighbour_events(builder: SnapshotBuilder, new: Snapshot) -> list[dict[str, Any]]:
    """Events an import of snapshot `new` writes: from the snapshot before it to it, and from
    it to the snapshot after it (if one arrived earlier), each dated by the later one."""
    snaps = [s for s in builder.ordered(new.collection) if s.at != new.at]
    before = [s for s in snaps if s.at < new.at]
    after = [s for s in snaps if s.at > new.at]
    events = change_events(new.collection, before[-1] if before else None, new, builder.names)
    if after:
        events += change_events(new.collection, new, after[0], builder.names)
    return events


def held_snapshot(builder: SnapshotBuilder, collection: str, at: str) -> bool:
    """Whether a snapshot of `collection` at moment `at` is already in the archive."""
    return any(s.at == at for s in builder.snapshots[collection])


def as_of(builder: SnapshotBuilder, collection: str, run: Manifest | None) -> Snapshot | None:
    """The list of `collection` as it stood at a run: the run's own snapshot, else the newest
    taken at or before the run (a run that did not fetch the list, e.g. mentions only); the
    newest of all when `run` is None."""
    snaps = builder.ordered(collection)
    if run is None:
        return snaps[-1] if snaps else None
    own = builder._by_run.get((collection, run.run_id))
    if own is not None:
        return own
    moment = _snapshot_time(run)
    before = [s for s in snaps if s.at <= moment]
    return before[-1] if before else None
