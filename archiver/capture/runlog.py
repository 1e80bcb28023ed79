"""One capture run as it is being written: pages in, records and events out.

Turns each API page into records (archiver.xapi_records), writes what the run should keep
(everything on a full run, only news on an incremental, never one item twice), keeps every
page verbatim with its provenance under files/pages/<collection>.jsonl.gz, collects the
partial errors a 200 can carry, and remembers what it saw for deletion checks and
follower diffs. The manifest it commits says what was complete, new and skipped.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from archiver.capture.checkpoint import Checkpoint
from archiver.capture.client import Page
from archiver.capture.history import (
    CHECKED_COLLECTIONS,
    MEMBERSHIPS,
    SINCE_COLLECTIONS,
    SOURCE,
    History,
)
from archiver.capture.media import PROVENANCE, MediaFetcher, printable
from archiver.memberships import Snapshot, change_events
from archiver.timestamps import isoformat, utcnow
from archiver.xapi_records import records_from_page
from storage.records import content_hash, item_key
from storage.runs import STAGING_PREFIX, Manifest, RunWriter
from storage.view import EVENTS

if TYPE_CHECKING:
    from archiver.capture.backup import BackupResult

log = logging.getLogger(__name__)

MAX_MEDIA_WARNINGS = 20  # gaps named one by one in a manifest; the provenance has them all
MAX_ERRORS = 1000  # partial errors kept in a manifest; the pages keep them all


class ServedPages:
    """The pages a run was served, verbatim with their provenance: one gzip JSONL per
    collection, staged beside the run's own staging (`archiver gc` removes leftovers) and
    added to the run as files/pages/<collection>.jsonl.gz when it commits."""

    def __init__(self, writer: RunWriter) -> None:
        self.writer = writer
        self._tmp = tempfile.TemporaryDirectory(
            prefix=f"{STAGING_PREFIX}{writer.run_id}-pages-", dir=writer.staging
        )
        self._out: dict[str, gzip.GzipFile] = {}

    def _path(self, collection: str) -> Path:
        return Path(self._tmp.name) / f"{collection}.jsonl.gz"

    def keep(self, collection: str, evidence: dict[str, Any]) -> None:
        out = self._out.get(collection)
        if out is None:
            out = gzip.GzipFile(self._path(collection), "wb", compresslevel=5, mtime=0)
            self._out[collection] = out
        out.write(orjson.dumps(evidence) + b"\n")

    def add_to_run(self) -> None:
        for collection, out in sorted(self._out.items()):
            out.close()
            self.writer.add_file(f"pages/{collection}.jsonl.gz", self._path(collection))
        self._out.clear()

    def close(self) -> None:
        for out in self._out.values():
            with contextlib.suppress(OSError):  # an abandoned run: the temp dir goes anyway
                out.close()
        self._out.clear()
        self._tmp.cleanup()


class RunLog:
    def __init__(
        self, writer: RunWriter, history: History, cp: Checkpoint, result: BackupResult
    ) -> None:
        self.writer = writer
        self.history = history
        self.cp = cp
        self.full = cp.kind == "full"
        self.result = result
        self.complete: set[str] = set()  # walks that reached their end
        self.keys_seen: dict[str, set[str]] = {c: set() for c in CHECKED_COLLECTIONS}
        self.id_span: dict[str, tuple[int, int]] = {}
        self.list_ids: set[str] = set()
        self.members: dict[str, dict[str, str]] = {c: {} for c in MEMBERSHIPS}
        self.membership_base: dict[str, str | None] = {}  # the snapshot compared with
        self.list_members: dict[str, set[str]] = {}  # list id -> member user ids seen
        self.likes_seen: set[str] = set()
        self.errors: list[dict[str, Any]] = []
        self.error_count = 0
        self._seq: Counter[str] = Counter()
        self._walk_seen: Counter[str] = Counter()
        self._written: set[tuple[str, str, str]] = set()
        self._seen_ids: set[tuple[str, str]] = set()
        # beside the run's own staging (storage.staging_path): `archiver gc` removes leftovers
        self._pages = ServedPages(writer)
        self.media: MediaFetcher | None = None  # downloads the written records' media

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pages in --------------------------------------------------------------------------
    def take(
        self,
        walk: str,
        collection: str,
        page: Page,
        *,
        checkpoint: bool = True,
        stop_at_known: bool = False,
    ) -> bool:
        """Keep a page and its records. True when an incremental walk can stop here."""
        if checkpoint:
            self.cp.save(walk, self._seq[walk], page)
        self._seq[walk] += 1
        self.keep_page(collection, page)
        for error in page.errors:
            self.error_count += 1
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(
                    {"endpoint": page.endpoint, "retrieved_at": page.retrieved_at, **error}
                )
        stop = False
        for rec in records_from_page(
            page.body,
            endpoint=page.path,
            account=self.writer.account,
            account_id=self.writer.account_id,
            captured_at=page.retrieved_at,
        ):
            self._walk_seen[walk] += 1
            rid = rec["id"]
            if stop_at_known and not self.full and self.history.holds(collection, rid):
                stop = True
            self._note(collection, rec)
            self._write(collection, rec)
        return stop

    def seen_in(self, walk: str) -> int:
        return self._walk_seen[walk]

    def _note(self, collection: str, rec: dict[str, Any]) -> None:
        rid = rec["id"]
        if (collection, rid) not in self._seen_ids:
            self._seen_ids.add((collection, rid))
            self.result.seen[collection] += 1
        if collection in CHECKED_COLLECTIONS:
            self.keys_seen[collection].add(item_key(rec))
        if collection in SINCE_COLLECTIONS and rid.isdigit():
            low, high = self.id_span.get(collection, (int(rid), int(rid)))
            self.id_span[collection] = (min(low, int(rid)), max(high, int(rid)))
        if rec["kind"] == "list":
            self.list_ids.add(rid)
        if collection in MEMBERSHIPS:
            self.members[collection][rid] = rec["author"].get("username") or ""
        elif rec["kind"] == "list_member":
            list_id, _, user_id = rid.partition(":")
            self.list_members.setdefault(list_id, set()).add(user_id)
        elif collection == "likes":
            self.likes_seen.add(rid)

    def _write(self, collection: str, rec: dict[str, Any]) -> None:
        key = (collection, rec["id"], content_hash(rec))
        if key in self._written:
            return  # the same item on two pages (the list shifted while we paged)
        if not self.full and not self.history.is_new(collection, rec):
            return
        self._written.add(key)
        self.writer.write(rec, collection)
        self.result.written[collection] += 1
        if self.media is not None:
            self.media.want(collection, rec)

    def keep_page(self, collection: str, page: Page) -> None:
        """The response verbatim with its provenance, for evidence (never auth headers)."""
        self._pages.keep(collection, page.evidence())

    # -- inferred facts --------------------------------------------------------------------
    def event(self, event: dict[str, Any]) -> None:
        self.writer.write(event, EVENTS)
        self.result.events[event["type"]] += 1

    def warn(self, message: str) -> None:
        log.warning("%s", message)
        self.result.warnings.append(message)

    def note(self, message: str) -> None:
        log.info("%s", message)
        self.result.notes.append(message)

    def membership_events(self) -> None:
        """Followers and followed accounts gained and lost since the newest snapshot the
        archive holds (an earlier API run or an archive ZIP, see archiver/memberships.py)."""
        # dated like the snapshot this run's lists are (its start: see memberships.py)
        at = str(self.cp.state.get("started_at") or isoformat(utcnow()))
        for collection in MEMBERSHIPS:
            if collection not in self.complete:
                continue  # this run's list is partial: no snapshot, nothing to compare
            base = self.history.snapshots.newest(collection)
            self.membership_base[collection] = base.run_id if base else None
            if base is None:
                continue  # the first snapshot: nothing to compare with
            now = Snapshot(collection, at, self.writer.run_id, SOURCE, self.members[collection])
            names = self.history.snapshots.names
            for event in change_events(collection, base, now, names):
                self.event(event)
        self._list_member_events(at)
        self._unlike_events(at)

    def _list_member_events(self, at: str) -> None:
        """Members added to and removed from the account's lists since an API run saw them."""
        for walk in sorted(self.complete):
            list_id = walk.removeprefix("members-")
            if walk == list_id or list_id not in self.history.lists_captured:
                continue  # not a list's members, or never walked before: nothing to compare
            before = self.history.list_members.get(list_id, set())
            now = self.list_members.get(list_id, set())
            for change, users in (("added", now - before), ("removed", before - now)):
                for user_id in sorted(users, key=lambda u: (len(u), u)):
                    self.event(
                        {
                            "type": f"list_member_{change}",
                            "id": f"{list_id}:{user_id}",
                            "list_id": list_id,
                            "user_id": user_id,
                            "at": at,
                        }
                    )

    def _unlike_events(self, at: str) -> None:
        """Likes an API run captured that a full walk of the likes no longer shows."""
        if not self.full or "likes" not in self.complete:
            return
        withdrawn = self.history.api_ids("likes") - self.likes_seen - self.history.unliked
        for like_id in sorted(withdrawn, key=lambda i: (len(i), i)):
            self.event({"type": "unliked", "collection": "likes", "id": like_id, "at": at})

    def keep_media(self) -> None:
        """List the media stored during the run and their provenance; warn of each gap."""
        assert self.media is not None
        self.result.media = keep_media(self.writer, self.media, self.warn)

    # -- commit ----------------------------------------------------------------------------
    def commit(self, profile: Page, details: dict[str, Any]) -> Manifest:
        self._pages.add_to_run()
        window = {
            c: {"oldest_id": str(low), "newest_id": str(high)}
            for c, (low, high) in sorted(self.id_span.items())
        }
        cursors = {}
        for collection in SINCE_COLLECTIONS:
            seen = self.id_span.get(collection, (0, 0)) if collection in self.complete else (0, 0)
            newest = max(self.history.newest.get(collection, 0), seen[1])
            if newest:
                cursors[collection] = {"newest_id": str(newest)}
        metrics = (profile.items[0].get("public_metrics") if profile.items else None) or {}
        return self.writer.commit(
            window=window,
            cursors=cursors,
            details={
                **details,
                "complete": sorted(self.complete),
                "membership_base": self.membership_base,
                "seen": dict(self.result.seen),
                "written": dict(self.result.written),
                "events": dict(self.result.events),
                **({"media": self.result.media} if self.result.media else {}),
                "pages": dict(self._seq),
                "partial_errors": self.error_count,
                "notes": self.result.notes,
                "profile_metrics": metrics,
            },
            warnings=self.result.warnings,
            errors=self.errors,
        )

    def close(self) -> None:
        self._pages.close()


def keep_media(
    writer: RunWriter, media: MediaFetcher, warn: Callable[[str], None]
) -> dict[str, int]:
    """List the media a run stored and their provenance in it; warn of each gap (any
    platform's capture). Returns the figures its manifest reports."""
    stored = media.stored_here()
    for entry in stored:
        assert entry.key and entry.size is not None and entry.sha256
        writer.add_stored(entry.key.split("/files/", 1)[1], entry.size, entry.sha256)
    if media.files:
        writer.add_bytes(PROVENANCE.removeprefix("files/"), media.lines())
    gaps = media.gaps()
    for entry in gaps[:MAX_MEDIA_WARNINGS]:
        warn(f"media {printable(entry.url)} ({', '.join(entry.records[:3])}): {entry.gap}")
    if len(gaps) > MAX_MEDIA_WARNINGS:
        warn(f"media: {len(gaps) - MAX_MEDIA_WARNINGS} more files not captured")
    return {
        "files": len(media.files),
        "stored": len(stored),
        "bytes": sum(e.size or 0 for e in stored),
        "gaps": len(gaps),
        "requests": media.limiter.requests,
        "retries": media.limiter.retries,
    }
