"""`Index`: the search index of an archive, opened by path, used by the CLI, jobs and UI.

Storage is the source of truth; the index is derived from its committed runs and can be
rebuilt from them at any time. One writer at a time (Whoosh's lock); any number of
readers, each seeing the last commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import index as windex
from whoosh import query as wq
from whoosh.searching import Searcher

from archiver.index import parallel
from archiver.index import schema as f
from archiver.index.columns import Columns
from archiver.index.docsets import matching_docs
from archiver.index.errors import IndexBusy, IndexFormatError, SearchArgumentError, SearchIndexError
from archiver.index.items import IndexedItem, item_id_of
from archiver.index.postings import DEFAULT_CACHE_MB, PostingCache, Postings
from archiver.index.query import (
    ParsedQuery,
    QuerySyntaxError,
    date_range,
    id_query,
    normalise_kind,
    normalise_platform,
    parse_date,
    parse_query,
)
from archiver.index.searching import MAX_PER_PAGE, SORTS, SearchResult, run_search
from archiver.index.sidecars import Sidecars, write_missing
from archiver.index.whoosh_internals import file_storage, segment_id
from archiver.index.writing import (
    LOCK_WAIT,
    PARALLEL_FROM,
    IndexMeta,
    Progress,
    Session,
    UpdateReport,
    apply_runs,
    run_ref,
)
from archiver.timestamps import DISPLAY_TIMEZONE
from storage.runs import Manifest, list_runs

if TYPE_CHECKING:
    from archiver.archive import Archive

log = logging.getLogger(__name__)


def _logged_progress(what: str) -> Progress:
    last = [-1]

    def report(done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if tenth != last[0]:
            last[0] = tenth
            log.info("%s: %d of %d records", what, done, total)

    return report


class Index:
    """Open (or create) the index at `path`: config.index.path. `cache_mb` bounds the
    decoded postings kept between searches (config.index.cache_mb); `zone` is the zone
    people read months in (ui.timezone): the segments' month numbers in it are kept in
    their sidecars, with UTC's."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        cache_mb: float = DEFAULT_CACHE_MB,
        zone: str = DISPLAY_TIMEZONE,
    ) -> None:
        self.path = Path(path)
        self._zones = tuple(dict.fromkeys((zone, "UTC")))
        self._lock = threading.Lock()
        self._local = threading.local()
        self._sidecars = Sidecars(self.path)
        self._columns = Columns(self._sidecars)
        self._postings = PostingCache(cache_mb, self._sidecars)
        self._meta: tuple[tuple[int, int], IndexMeta] | None = None
        self._ix = self._open()
        self.last_update: UpdateReport | None = None

    def _open(self) -> windex.FileIndex:
        try:
            storage = file_storage(str(self.path))
            if storage.index_exists():
                ix = storage.open_index()
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                ix = storage.create_index(f.build_schema())
        except OSError as exc:
            raise SearchIndexError(
                f"cannot open the search index at {self.path}: {exc.strerror or exc}"
            ) from None
        except Exception as exc:  # whoosh raises bare Exceptions for damaged files
            raise SearchIndexError(
                f"the search index at {self.path} is unreadable ({exc}); "
                "run `archiver index --rebuild`"
            ) from None
        if sorted(ix.schema.names()) != sorted(f.build_schema().names()):
            raise IndexFormatError(self._rebuild_message())
        self._inode = os.stat(self.path).st_ino
        return ix

    def _rebuild_message(self) -> str:
        return (
            f"the search index at {self.path} was built by another version of the "
            "archiver; run `archiver index --rebuild`"
        )

    # -- reading ---------------------------------------------------------------------------
    def _current(self) -> windex.FileIndex:
        """The index at the path now: after a rebuild was swapped in, the new one."""
        inode = os.stat(self.path).st_ino if self.path.exists() else None
        with self._lock:
            if inode != self._inode:
                self._ix = self._open()
            return self._ix

    def _searcher(self) -> Searcher:
        """This thread's searcher, moved on to the last commit (or a swapped-in rebuild).
        Take it once per call: the next call may close it."""
        self._current()
        searcher = getattr(self._local, "searcher", None)
        same_index = getattr(self._local, "ix", None) is self._ix
        if searcher is not None and same_index and searcher.up_to_date():
            return searcher
        if searcher is not None:
            searcher.close()
        # a fresh searcher, not refresh(): whoosh cannot refresh from an empty index
        searcher = self._ix.searcher()
        self._local.searcher, self._local.ix = searcher, self._ix
        self._sidecars.forget({segment_id(r) for r, _ in searcher.reader().leaf_readers()})
        return searcher

    def meta(self, searcher: Searcher | None = None) -> IndexMeta:
        """What the index holds (runs, account handles), read once per commit."""
        searcher = searcher or self._searcher()
        generation = (self._inode, searcher.reader().generation())
        cached = self._meta
        if cached is not None and cached[0] == generation:
            return cached[1]
        meta = IndexMeta.load(searcher) or IndexMeta()
        if meta.format != f.FORMAT:
            raise IndexFormatError(self._rebuild_message())
        self._meta = (generation, meta)
        return meta

    def warm(self) -> None:
        """Do what a fresh process's first searches would: open a searcher, read the meta
        document and the columns, map the segments' sidecars and have them read ahead, run
        one search. The UI calls it in a thread at start (serving does not wait for it);
        each thread still opens its own searcher on its first search."""
        started = time.monotonic()
        searcher = self._searcher()
        self.meta(searcher)
        self._columns.arrays(searcher)
        for reader, _ in searcher.reader().leaf_readers():
            self._sidecars.prefetch(reader)
        self.search("the", per_page=1)
        log.info("index %s warmed in %.2f s", self.path, time.monotonic() - started)

    def doc_count(self) -> int:
        """How many items the index holds."""
        searcher = self._searcher()
        meta = searcher.document_number(**{f.KEY: f.META_KEY})
        return int(searcher.doc_count()) - (meta is not None)

    def items(self, item_id: str) -> tuple[list[IndexedItem], set[str]]:
        """Every item an id names (its own id or another version's), as the index stored
        it (versions projected, run ids, deletion), and the runs the index holds
        ("<account id>/<run id>"), read from one commit: runs outside that set may hold
        more of the item."""
        searcher = self._searcher()
        runs = set(self.meta(searcher).runs)
        found = []
        for docnum in searcher.docs_for_query(id_query(item_id)):
            stored = searcher.stored_fields(docnum)
            item = IndexedItem.from_stored(stored[f.KEY], stored[f.STATE], docnum)
            # the IDS field is lowercased: an id differing only in case is another item
            if item.id == item_id or item_id in item.version_ids():
                found.append(item)
        return found, runs

    def indexed_runs(self) -> set[str]:
        """ "<account id>/<run id>" of every run the index holds."""
        return set(self.meta().runs)

    def pending_runs(self, archive: Archive) -> list[Manifest]:
        """Committed runs the index does not hold yet, oldest first."""
        done = self.indexed_runs()
        return [m for m in list_runs(archive.store) if run_ref(m) not in done]

    # -- writing ---------------------------------------------------------------------------
    def update(self, archive: Archive, progress: bool | Progress = False) -> int:
        """Catch up with every committed run not yet indexed; returns how many runs."""
        pending = self.pending_runs(archive)
        if not pending:
            self.last_update = UpdateReport()
            self._write_sidecars(self._ix, self.path)  # an index built before they existed
            return 0
        self.meta()  # refuses an index of another format
        report = apply_runs(
            self._ix, archive.store, pending, self._progress(progress, "index"), self._zones
        )
        self._write_sidecars(self._ix, self.path)
        self.last_update = report
        log.info(
            "index %s: %d runs, %d records, %d items written in %.1f s",
            self.path,
            report.runs,
            report.records,
            report.items_written,
            report.seconds,
        )
        return report.runs

    def rebuild(self, archive: Archive, progress: bool | Progress = False, workers: int = 0) -> int:
        """Build a new index from storage alone in a temporary directory, then swap it in
        (readers never see a half-built index). `workers`: processes that build shares of
        the accounts side by side (0: one per core, parallel.auto_workers; 1: this process
        alone). Returns the number of items."""
        parent = self.path.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers(parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.rebuild-", dir=parent))
        try:
            ix = file_storage(str(tmp)).create_index(f.build_schema())
            manifests = list_runs(archive.store)
            opener = archive.store_opener()
            # one per core only where it pays: below PARALLEL_FROM, starting them costs more
            shares = (
                parallel.partition(manifests, workers)
                if workers
                else parallel.partition(manifests, parallel.auto_workers(), PARALLEL_FROM)
            )
            if len(shares) > 1 and opener is not None:
                ix.close()
                report = self._build_shares(tmp, opener, shares, progress)
                ix = file_storage(str(tmp)).open_index()
            else:
                report = apply_runs(
                    ix, archive.store, manifests, self._progress(progress, "rebuild"), self._zones
                )
            self._write_sidecars(ix, tmp)
            ix.close()
            self._swap(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info(
            "index %s rebuilt: %d runs, %d records in %.1f s",
            self.path,
            report.runs,
            report.records,
            report.seconds,
        )
        self.update(archive)  # runs committed while the rebuild ran
        if self.last_update is not None:
            report.runs += self.last_update.runs
            report.records += self.last_update.records
        self.last_update = report
        return self.doc_count()

    def _build_shares(
        self,
        folder: Path,
        opener: parallel.StoreOpener,
        shares: list[list[Manifest]],
        progress: bool | Progress,
    ) -> UpdateReport:
        """Each share of the accounts built by a worker process, their segments gathered
        into the index at `folder`, and the union of their metas recorded in it."""
        parts = parallel.build_parts(
            folder, opener, shares, self._zones, self._progress(progress, "rebuild")
        )
        parallel.gather(folder, len(parts))
        ix = file_storage(str(folder)).open_index()
        meta = parallel.merged_meta([p.meta for p in parts])
        session = Session(ix, meta, expected=0, parallel=False)
        try:
            session.commit()  # the meta document, in a segment of its own
        except BaseException:
            session.cancel()
            raise
        finally:
            ix.close()
        return UpdateReport(
            runs=sum(p.report.runs for p in parts),
            records=sum(p.report.records for p in parts),
            items_written=sum(p.report.items_written for p in parts),
            rounds=max(p.report.rounds for p in parts),
            seconds=max(p.report.seconds for p in parts),
        )

    def _remove_leftovers(self, parent: Path) -> None:
        """Indexes swapped out, and rebuilds killed long ago (a live one is recent)."""
        stale = time.time() - 6 * 3600
        for path in parent.glob(f".{self.path.name}.*-*"):
            kind = path.name[len(self.path.name) + 2 :].split("-", 1)[0]
            if kind == "old" or (kind == "rebuild" and path.stat().st_mtime < stale):
                log.info("index %s: removing %s left by an earlier rebuild", self.path, path)
                shutil.rmtree(path, ignore_errors=True)

    def _swap(self, built: Path) -> None:
        old = self.path.resolve().parent / f".{self.path.name}.old-{secrets.token_hex(4)}"
        with self._lock:
            lock = self._ix.lock("WRITELOCK") if self.path.exists() else None
            deadline = time.monotonic() + LOCK_WAIT
            while lock is not None and not lock.acquire(blocking=False):
                if time.monotonic() > deadline:
                    raise IndexBusy(
                        f"the search index at {self.path} is being updated by "
                        "another process; try the rebuild again when it has finished"
                    )
                time.sleep(0.1)
            try:
                if self.path.exists():
                    os.rename(self.path, old)
                os.rename(built, self.path)
            finally:
                if lock is not None:
                    lock.release()
            self._ix = self._open()
        shutil.rmtree(old, ignore_errors=True)

    def _write_sidecars(self, ix: windex.FileIndex, folder: Path) -> None:
        """Decoded postings of the new segments' frequent terms, and their columns
        (sidecars.py)."""
        started = time.monotonic()
        with ix.searcher() as searcher:
            written = write_missing(folder, searcher, self._zones)
        if written:
            log.info(
                "index %s: sidecars of %d segments in %.1f s",
                folder,
                written,
                time.monotonic() - started,
            )

    @staticmethod
    def _progress(progress: bool | Progress, what: str) -> Progress | None:
        if callable(progress):
            return progress
        return _logged_progress(what) if progress else None

    # -- searching -------------------------------------------------------------------------
    def search(
        self,
        q: str,
        *,
        account: str | None = None,
        kind: str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        platform: str | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 20,
        highlight: bool = True,
        facets: bool = True,
        zone: str = DISPLAY_TIMEZONE,
    ) -> SearchResult:
        """Search items. `q` is the query language (see query.py); a malformed query is
        searched as words and `notice` says so. `since` is inclusive, `until` exclusive
        (days, YYYY-MM-DD). Bad filters raise SearchArgumentError."""
        if sort not in SORTS:
            raise SearchArgumentError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
        if page < 1:
            raise SearchArgumentError(f"page must be 1 or more, got {page}")
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        parsed = parse_query(q, zone)
        query = self._with_filters(parsed, account, kind, since, until, zone, platform)
        searcher = self._searcher()
        meta = self.meta(searcher)
        return run_search(
            searcher,
            self._columns,
            self._postings,
            parsed,
            query,
            sort=sort,
            page=page,
            per_page=per_page,
            highlight_hits=highlight,
            facets=facets,
            account_names=meta.handles(),
            zone=zone,
        )

    def iter_ids(
        self,
        q: str,
        *,
        account: str | None = None,
        kind: str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        zone: str = DISPLAY_TIMEZONE,
        platform: str | None = None,
    ) -> Iterator[str]:
        """The id of every matching item, oldest first, each once (for exports)."""
        parsed = parse_query(q, zone)
        if parsed.empty:
            return
        query = self._with_filters(parsed, account, kind, since, until, zone, platform)
        # its own searcher: the caller may search again while it consumes this generator
        with self._current().searcher() as searcher:
            created = self._columns.created(searcher)
            seen: set[str] = set()
            docs = matching_docs(searcher, query, created, Postings(searcher, self._postings)).ids
            for docnum in docs[np.argsort(created[docs], kind="stable")].tolist():
                item_id = item_id_of(searcher.stored_fields(docnum)[f.KEY])
                if item_id not in seen:
                    seen.add(item_id)
                    yield item_id

    @staticmethod
    def _with_filters(
        parsed: ParsedQuery,
        account: str | None,
        kind: str | None,
        since: Any,
        until: Any,
        zone: str = DISPLAY_TIMEZONE,
        platform: str | None = None,
    ) -> wq.Query | None:
        clauses = [parsed.query] if parsed.query is not None else []
        if not parsed.ended:  # lost followers and unfollowed accounts only when asked for
            clauses.append(wq.Not(wq.Term(f.IS, "ended")))
        try:
            if account:
                clauses.append(wq.Term(f.ACCOUNT, account.lstrip("@").lower()))
            if kind:
                clauses.append(wq.Term(f.KIND, normalise_kind(kind)))
            if platform:
                clauses.append(wq.Term(f.PLATFORM, normalise_platform(platform)))
            if since or until:
                clauses.append(
                    date_range(
                        parse_date(since, "since") if since else None,
                        parse_date(until, "until") if until else None,
                        zone,
                    )
                )
        except QuerySyntaxError as exc:
            raise SearchArgumentError(str(exc)) from None
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else wq.And(clauses)

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None
        self._ix.close()
