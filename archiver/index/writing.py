"""Bringing the index up to date with committed runs, in one pass over their records.

Records are streamed run by run (oldest first) and merged into items in batches; an item
already in the index is read back from its stored state (never from storage), changed
items replace their document. The runs applied are recorded in a meta document in the
same Whoosh commit, so a crash leaves the previous commit and the next update redoes the
unrecorded runs (merging is idempotent).

Whoosh cannot replace a document added earlier in the same writer, so a record for an
item already written in this session is set aside ("late", spilled to a temp file) and
applied in another round after the commit; the runs are recorded in the last round.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from whoosh import query as wq
from whoosh.index import FileIndex, LockError
from whoosh.searching import Searcher

from archiver.index import schema as f
from archiver.index.errors import IndexBusy, IndexFormatError
from archiver.index.items import IndexedItem, id_term, item_key_of, project, version_key
from archiver.index.segments import SegmentBuilder
from archiver.index.whoosh_internals import CODEC
from archiver.memberships import MEMBERSHIP_EVENTS
from storage.records import COLLECTION_OF_KIND, UNINDEXED_KINDS
from storage.runs import Manifest, iter_records
from storage.store import ObjectStore
from storage.view import EVENTS

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
BATCH_ITEMS = 10_000  # items merged in memory before they go to the writer
PARALLEL_FROM = 20_000  # records: from here on, a writer process per core pays off
LOCK_WAIT = 60.0  # seconds to wait for another process's update to finish
WRITER_MB = 128  # per writer process; measured: more memory barely helps, cores do


@dataclass
class IndexMeta:
    """What the index holds: runs applied, account handles, deletions seen before items."""

    runs: set[str] = field(default_factory=set)  # "<account id>/<run id>"
    accounts: dict[str, list[str]] = field(default_factory=dict)  # id -> [run id, handle]
    orphans: dict[str, str] = field(default_factory=dict)  # version key -> deleted at
    format: int = f.FORMAT

    @classmethod
    def load(cls, searcher: Searcher) -> IndexMeta | None:
        docnum = searcher.document_number(**{f.KEY: f.META_KEY})
        if docnum is None:
            return None
        state = orjson.loads(searcher.stored_fields(docnum)[f.STATE])
        return cls(set(state["runs"]), state["accounts"], state["orphans"], state["format"])

    def stored(self) -> bytes:
        return orjson.dumps(
            {
                "format": self.format,
                "runs": sorted(self.runs),
                "accounts": self.accounts,
                "orphans": self.orphans,
            }
        )

    def handles(self) -> dict[str, str]:
        return {account_id: handle for account_id, (_, handle) in self.accounts.items()}

    def note_account(self, manifest: Manifest) -> None:
        known = self.accounts.get(manifest.account_id)
        if known is None or known[0] <= manifest.run_id:
            self.accounts[manifest.account_id] = [manifest.run_id, manifest.account]


def run_ref(manifest: Manifest) -> str:
    return f"{manifest.account_id}/{manifest.run_id}"


@dataclass
class UpdateReport:
    runs: int = 0
    records: int = 0
    items_written: int = 0
    rounds: int = 0
    seconds: float = 0.0


class SeenKeys:
    """A Bloom filter of keys written in this session: a few MB for millions of items.

    A false positive only sends a record to the late round, where it is merged correctly.
    """

    def __init__(self, expected: int) -> None:
        bits = 1 << max(23, (max(expected, 1) * 16 - 1).bit_length())
        self._bits = bytearray(bits >> 3)
        self._mask = bits - 1

    def _positions(self, key: str) -> tuple[int, int, int, int]:
        h = hash(key)
        low, high, mask = h & 0xFFFFFFFF, ((h >> 32) & 0xFFFFFFFF) | 1, self._mask
        return low & mask, (low + high) & mask, (low + 2 * high) & mask, (low + 3 * high) & mask

    def add_all(self, keys: list[str]) -> None:
        """Add a batch's keys at once: each key's `_positions`, from numpy."""
        if not keys:
            return
        h = np.fromiter(map(hash, keys), np.int64, len(keys))
        low, high = h & 0xFFFFFFFF, ((h >> 32) & 0xFFFFFFFF) | 1
        positions = np.concatenate([(low + k * high) & self._mask for k in range(4)])
        bits = np.frombuffer(self._bits, np.uint8)
        np.bitwise_or.at(bits, positions >> 3, (1 << (positions & 7)).astype(np.uint8))

    def __contains__(self, key: str) -> bool:
        bits = self._bits
        a, b, c, d = self._positions(key)
        return bool(
            bits[a >> 3] & (1 << (a & 7))
            and bits[b >> 3] & (1 << (b & 7))
            and bits[c >> 3] & (1 << (c & 7))
            and bits[d >> 3] & (1 << (d & 7))
        )


class LateRecords:
    """Entries set aside for the next round, on disk so memory stays flat."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="index-late-")  # noqa: SIM115 - closed in read
        self.count = 0

    def add(self, entry: tuple[Any, ...]) -> None:
        self._file.write(orjson.dumps(entry) + b"\n")
        self.count += 1

    def read(self) -> Iterator[tuple[Any, ...]]:
        self._file.seek(0)
        try:
            for line in self._file:
                yield tuple(orjson.loads(line))
        finally:
            self._file.close()


def entries(
    store: ObjectStore, manifests: Iterable[Manifest], meta: IndexMeta
) -> Iterator[tuple[Any, ...]]:
    """Stream what the index needs from runs, oldest first: items and deletion events."""
    for manifest in manifests:
        meta.note_account(manifest)
        # a run's events after its items: the items they name are then in the batch
        objects = sorted(manifest.objects, key=lambda o: o.collection == EVENTS)
        for obj in objects:
            if obj.collection not in f.READ_COLLECTIONS:
                continue
            for rec in iter_records(store, manifest, obj.collection):
                entry = _entry(manifest, obj.collection, rec)
                if entry is not None:
                    yield entry


def _entry(manifest: Manifest, collection: str, rec: dict[str, Any]) -> tuple[Any, ...] | None:
    if collection == EVENTS:
        kind = rec.get("type")
        if kind == "deleted" and rec.get("collection") and rec.get("id"):
            return ("event", manifest.account_id, rec["collection"], str(rec["id"]), rec.get("at"))
        change = MEMBERSHIP_EVENTS.get(str(kind))
        item_id = rec.get("id") or rec.get("user_id")  # a follower's item is the user's id
        if change and item_id:
            member_of, gained = change
            return ("event", manifest.account_id, member_of, str(item_id), rec.get("at"), gained)
        return None
    if rec.get("kind") in UNINDEXED_KINDS:
        return None  # kept and counted in the run, never searched as an item
    if not rec.get("id") or rec.get("kind") not in COLLECTION_OF_KIND:
        log.warning(
            "account %s run %s: skipped a %s record without id or kind",
            manifest.account,
            manifest.run_id,
            collection,
        )
        return None
    version = project(rec, manifest.run_id)
    version["account"] = version["account"] or manifest.account
    key = item_key_of(manifest.account_id, collection, rec)
    return ("item", manifest.account_id, manifest.account, key, version)


def open_writer(
    ix: FileIndex,
    *,
    parallel: bool,
    build: bool = False,
    zones: tuple[str, ...] | None = None,
    postings_per_segment: int = 0,
) -> Any:
    """Whoosh's writer; for an index without documents or a build's late round (`build`),
    segments.SegmentBuilder (same files, written from arrays: a rebuild's time was mostly
    Whoosh's posting pool), which also writes each segment's sidecar with month numbers in
    `zones` (when given) and holds up to `postings_per_segment` postings in memory (0: its
    default)."""
    try:
        if build:
            return SegmentBuilder(
                ix,
                timeout=LOCK_WAIT,
                sidecar_zones=zones,
                postings_per_segment=postings_per_segment,
            )
        if parallel and (os.cpu_count() or 1) >= 2:
            return ix.writer(
                procs=2, multisegment=True, limitmb=WRITER_MB, timeout=LOCK_WAIT, codec=CODEC
            )
        return ix.writer(limitmb=WRITER_MB // 2, timeout=LOCK_WAIT, codec=CODEC)
    except LockError:
        raise IndexBusy(
            f"the search index at {ix.storage.folder} is being updated by another process; "
            "try again when it has finished"
        ) from None


class Session:
    """One Whoosh writer and the committed index it replaces documents of. With `record`
    False the meta document is not written (a rebuild worker's share: its caller writes
    the union of the shares' metas)."""

    def __init__(
        self,
        ix: FileIndex,
        meta: IndexMeta | None,
        *,
        expected: int,
        parallel: bool,
        zones: tuple[str, ...] | None = None,
        record: bool = True,
        postings_per_segment: int = 0,
        late: bool = False,
    ) -> None:
        """`late`: the late round of a build (into the index the build has just written),
        whose items are written as new segments too, their earlier documents deleted."""
        # the lock first: then a stable view
        self.writer = open_writer(
            ix,
            parallel=parallel,
            build=late or ix.doc_count_all() == 0,
            zones=zones,
            postings_per_segment=postings_per_segment,
        )
        self.searcher = ix.searcher()
        if isinstance(self.writer, SegmentBuilder) and not late and self.searcher.doc_count_all():
            self.cancel()  # another process committed documents before we had the lock
            self.writer = open_writer(ix, parallel=parallel)
            self.searcher = ix.searcher()
        # read under the lock: another process may have committed runs since we looked
        self.meta = meta or IndexMeta.load(self.searcher) or IndexMeta()
        self.lookup = self.searcher.doc_count() > 0  # an empty index has nothing to merge with
        self.batch: dict[str, IndexedItem] = {}
        self.batch_versions: dict[str, str] = {}  # version key -> item key, for events
        self.dirty: set[str] = set()
        self.written = SeenKeys(expected)
        self.items_written = 0
        self.record = record

    # -- applying entries ------------------------------------------------------------------
    def apply(self, entry: tuple[Any, ...], late: LateRecords) -> None:
        if entry[0] == "item":
            self._item(entry, late)
        else:
            self._event(entry, late)
        if len(self.batch) >= BATCH_ITEMS:
            self.flush()

    def _item(self, entry: tuple[Any, ...], late: LateRecords) -> None:
        _, account_id, handle, key, version = entry
        if key in self.written:
            late.add(entry)
            return
        item = self.batch.get(key)
        if item is None:
            item = self._load(key) or IndexedItem(key, handle)
            self.batch[key] = item
        if item.add(version):
            self.dirty.add(key)
        collection = item.collection
        orphans = self.meta.orphans
        for vid in (version["id"], *version["edit_history_ids"]):
            vkey = version_key(account_id, collection, vid)
            self.batch_versions[vkey] = key
            if orphans and vkey in orphans and item.delete(orphans.pop(vkey)):
                self.dirty.add(key)

    def _event(self, entry: tuple[Any, ...], late: LateRecords) -> None:
        _, account_id, collection, vid, at, *membership = entry
        vkey = version_key(account_id, collection, vid)
        key = vkey if vkey in self.batch else self.batch_versions.get(vkey)
        if key is None:
            if vkey in self.written:
                late.add(entry)
                return
            item = self._load(vkey) or self._load_version(account_id, collection, vid)
            if item is None:
                if membership:
                    return  # a membership change of someone never captured
                # a deletion seen before its item: applied when the item arrives
                known = self.meta.orphans.get(vkey)
                if at:
                    self.meta.orphans[vkey] = min(known, at) if known else at
                return
            if item.key in self.written:
                late.add(entry)
                return
            key = item.key
            self.batch.setdefault(key, item)
        item = self.batch[key]
        if item.change_membership(at, membership[0]) if membership else item.delete(at):
            self.dirty.add(key)

    def _load(self, key: str) -> IndexedItem | None:
        if not self.lookup:
            return None
        docnum = self.searcher.document_number(**{f.KEY: key})
        if docnum is None:
            return None
        return IndexedItem.from_stored(key, self.searcher.stored_fields(docnum)[f.STATE], docnum)

    def _load_version(self, account_id: str, collection: str, vid: str) -> IndexedItem | None:
        if not self.lookup:
            return None
        suffix = f"/{collection}/{account_id}"
        for docnum in self.searcher.docs_for_query(wq.Term(f.IDS, id_term(vid))):
            stored = self.searcher.stored_fields(docnum)
            if stored[f.KEY].endswith(suffix):
                return IndexedItem.from_stored(stored[f.KEY], stored[f.STATE], docnum)
        return None

    # -- writing ---------------------------------------------------------------------------
    def flush(self) -> None:
        writer = self.writer
        written = []
        for key in self.dirty:
            item = self.batch[key]
            if item.docnum is not None:
                writer.delete_document(item.docnum)
            writer.add_document(**item.document())
            written.append(key)
            for vid in item.version_ids():
                vkey = version_key(item.account_id, item.collection, vid)
                if vkey != key:  # the item's first id is its key's
                    written.append(vkey)
        self.written.add_all(written)
        self.items_written += len(self.dirty)
        self.batch.clear()
        self.batch_versions.clear()
        self.dirty.clear()

    def commit(self) -> None:
        self.flush()
        if self.record:
            docnum = self.searcher.document_number(**{f.KEY: f.META_KEY})
            if docnum is not None:
                self.writer.delete_document(docnum)
            self.writer.add_document(**{f.KEY: f.META_KEY, f.STATE: self.meta.stored()})
        self.searcher.close()
        self.writer.commit()

    def cancel(self) -> None:
        self.searcher.close()
        if not self.writer.is_closed:  # a failed commit may have closed it: keep its error
            self.writer.cancel()


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while an index is built from nothing: its
    full collections walk every object held (a batch of items, the builder's caches), 8.5%
    of a rebuild's CPU, measured at 100k posts, and a build makes almost no cycles (4,842
    unreachable objects left after 100k posts, the same peak memory). Reference counting
    still frees everything else; the collector is back on when the build ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def apply_runs(
    ix: FileIndex,
    store: ObjectStore,
    manifests: list[Manifest],
    progress: Progress | None = None,
    zones: tuple[str, ...] | None = None,
    *,
    into: IndexMeta | None = None,
    postings_per_segment: int = 0,
) -> UpdateReport:
    """Apply the runs (oldest first) the index does not hold yet, and record them: in its
    meta document, or, for a rebuild worker's share of an empty index, in `into`. Into an
    empty index, the segments' sidecars are written with them, with month numbers in
    `zones` (when given: else sidecars.write_missing writes them afterwards)."""
    started = time.monotonic()
    report = UpdateReport()
    expected = sum(
        (o.records or 0) for m in manifests for o in m.objects if o.collection in f.READ_COLLECTIONS
    )
    session = Session(
        ix,
        into,
        expected=expected,
        parallel=expected >= PARALLEL_FROM,
        zones=zones,
        record=into is None,
        postings_per_segment=postings_per_segment,
    )
    meta = session.meta
    if meta.format != f.FORMAT:
        session.cancel()
        raise IndexFormatError(
            f"the search index at {ix.storage.folder} was built by another "
            "version of the archiver; run `archiver index --rebuild`"
        )
    manifests = [m for m in manifests if run_ref(m) not in meta.runs]
    if not manifests:
        session.cancel()
        return report
    report.runs = len(manifests)
    total = sum(
        (o.records or 0) for m in manifests for o in m.objects if o.collection in f.READ_COLLECTIONS
    )
    source: Iterable[tuple[Any, ...]] = entries(store, manifests, meta)
    # a build from nothing makes segments of its own, with the collector paused
    paused = isinstance(session.writer, SegmentBuilder)
    with collection_paused() if paused else contextlib.nullcontext():
        while True:
            report.rounds += 1
            late = LateRecords()
            try:
                for entry in source:
                    session.apply(entry, late)
                    if report.rounds == 1:
                        report.records += 1
                        if progress and report.records % 1000 == 0:
                            progress(report.records, total)
                if not late.count:
                    meta.runs.update(run_ref(m) for m in manifests)
                session.commit()
            except BaseException:
                session.cancel()
                raise
            report.items_written += session.items_written
            if not late.count:
                break
            log.info(
                "index: %d records of items written earlier in this pass, applying them now",
                late.count,
            )
            source = late.read()
            session = Session(
                ix,
                meta,
                expected=late.count,
                parallel=False,
                zones=zones,
                record=into is None,
                postings_per_segment=postings_per_segment,
                late=isinstance(session.writer, SegmentBuilder),
            )
    if progress:
        progress(total, total)
    report.seconds = time.monotonic() - started
    return report
