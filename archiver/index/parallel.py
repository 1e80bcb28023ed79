"""A rebuild in worker processes: each builds the segments of a share of the accounts.

Nothing an index holds links two accounts: an item's key, its versions and the deletion
events that name them all carry the account id, so the accounts' runs can be applied in
separate processes, each into an index of its own (`apply_runs`, a SegmentBuilder, the
sidecars), and the segments gathered into one index afterwards: the same items, documents
and terms as one process would write, in another document order. The meta document (runs,
handles, early deletions) is the union of the workers' and is written last, by the caller.

Workers are spawned (never forked: the UI and the scheduler run threads), open the store
themselves from a picklable opener, send their log records and progress to the parent,
and stop when the parent is gone. Each holds a share of the one process's postings budget,
so a rebuild's peak memory stays about the same.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing as mp
import os
import pickle
import queue as queue_module
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh.index import TOC

from archiver.index import schema as f
from archiver.index.errors import SearchIndexError
from archiver.index.segments import POSTINGS_PER_SEGMENT
from archiver.index.sidecars import DIRNAME as SIDECARS
from archiver.index.sidecars import write_missing
from archiver.index.whoosh_internals import file_storage
from archiver.index.writing import IndexMeta, Progress, UpdateReport, apply_runs
from storage.runs import Manifest
from storage.store import ObjectStore

StoreOpener = Callable[[], ObjectStore]
MAX_AUTO_WORKERS = 4  # more processes split the builder's memory into smaller segments
PARTS = ".parts"  # inside the rebuild's folder: removed before it is swapped in
SHARE = "share.pickle"  # in a part's folder: the runs its worker applies


def auto_workers() -> int:
    """One worker per core this process may use, at most MAX_AUTO_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_AUTO_WORKERS))


def _records(manifest: Manifest) -> int:
    return sum((o.records or 0) for o in manifest.objects if o.collection in f.READ_COLLECTIONS)


def partition(
    manifests: Sequence[Manifest], workers: int, min_records: int = 0
) -> list[list[Manifest]]:
    """The runs in at most `workers` shares of whole accounts, about equal in records
    (largest account first to the lightest share); runs keep their order in a share.
    One share for one account, or below `min_records` (too few to pay for processes)."""
    by_account: dict[str, int] = {}
    for m in manifests:
        by_account[m.account_id] = by_account.get(m.account_id, 0) + _records(m)
    count = min(workers, len(by_account))
    if count < 2 or sum(by_account.values()) < min_records:
        return [list(manifests)] if manifests else []
    loads = [0] * count
    share_of: dict[str, int] = {}
    for account, records in sorted(by_account.items(), key=lambda kv: (-kv[1], kv[0])):
        lightest = loads.index(min(loads))
        share_of[account] = lightest
        loads[lightest] += records
    shares: list[list[Manifest]] = [[] for _ in range(count)]
    for m in manifests:
        shares[share_of[m.account_id]].append(m)
    return [s for s in shares if s]


@dataclass
class PartResult:
    report: UpdateReport
    meta: IndexMeta


def build_parts(
    folder: Path,
    opener: StoreOpener,
    shares: list[list[Manifest]],
    zones: tuple[str, ...],
    progress: Progress | None = None,
) -> list[PartResult]:
    """Build each share into folder/.parts/<n> in a worker process of its own; returns
    their reports and metas in share order. Any failure stops every worker and raises."""
    ctx = mp.get_context("spawn")
    messages: Any = ctx.Queue()
    # a worker's memory is its postings plus a fixed part (the batch of items, the term
    # dictionaries): shares of workers + 1 keep two workers' peak near one process's (at 1M
    # posts, 2 x 2.67M: 752 MB, one process 780 MB; 2 x 4M: 1,002 MB, for 0.6% less CPU)
    postings = max(POSTINGS_PER_SEGMENT // (len(shares) + 1), 100_000)
    level = logging.getLogger("archiver").getEffectiveLevel()
    procs = []
    for n, share in enumerate(shares):
        part = folder / PARTS / str(n)
        part.mkdir(parents=True)
        # the share goes by file: a process's arguments larger than a pipe's buffer block
        # its start until the child reads them, and forever if the child dies first
        (part / SHARE).write_bytes(pickle.dumps(share))
        args = (messages, n, os.getpid(), level, opener, str(part), zones, postings)
        procs.append(ctx.Process(target=_worker, args=args, name=f"index-rebuild-{n}"))
    total = sum(_records(m) for share in shares for m in share)
    done = [0] * len(shares)
    results: dict[int, PartResult] = {}
    try:
        for p in procs:
            p.start()
        dead_since: float | None = None
        while len(results) < len(procs):
            try:
                message = messages.get(timeout=0.5)
            except queue_module.Empty:
                message = None
            # checked with every message too: the others' progress keeps the queue busy
            dead = [i for i, p in enumerate(procs) if p.exitcode is not None and i not in results]
            # a worker's last messages may still be on their way: it is dead once it has
            # said nothing more for two seconds after its exit
            if not dead:
                dead_since = None
            elif dead_since is None:
                dead_since = time.monotonic()
            elif time.monotonic() - dead_since > 2:
                raise SearchIndexError(
                    f"index rebuild worker {dead[0]} stopped unexpectedly (exit code "
                    f"{procs[dead[0]].exitcode}); the current index is unchanged"
                )
            if message is None:
                continue
            kind, n, payload = message
            if kind == "log":
                logging.getLogger(payload.name).handle(payload)
            elif kind == "progress":
                done[n] = payload
                if progress:
                    progress(sum(done), total)
            elif kind == "done":
                results[n] = payload
            else:  # "error": the worker's exception, or its message if it does not pickle
                raise payload if isinstance(payload, BaseException) else SearchIndexError(payload)
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            if p.pid is not None:
                p.join()
        messages.close()
    return [results[n] for n in range(len(procs))]


def gather(folder: Path, count: int) -> None:
    """Move the parts' segments and sidecars into the (empty) index at `folder` and
    write its table of contents listing them all, part by part."""
    storage = file_storage(str(folder))
    ix = storage.open_index()
    schema = ix.schema
    generation = ix.latest_generation()
    ix.close()
    segments = []
    for n in range(count):
        part = folder / PARTS / str(n)
        pix = file_storage(str(part)).open_index()
        part_segments = pix._segments()
        pix.close()
        for name in os.listdir(part):
            if name.startswith(f"{pix.indexname}_") and not name.endswith(".toc"):
                os.rename(part / name, folder / name)
        if (part / SIDECARS).is_dir():
            (folder / SIDECARS).mkdir(exist_ok=True)
            for sidecar in (part / SIDECARS).iterdir():
                if not sidecar.name.startswith("."):
                    os.rename(sidecar, folder / SIDECARS / sidecar.name)
        segments.extend(part_segments)
    TOC(schema, segments, generation + 1).write(storage, ix.indexname)
    shutil.rmtree(folder / PARTS)


def merged_meta(metas: list[IndexMeta]) -> IndexMeta:
    """The workers' metas as one: their accounts never overlap."""
    meta = IndexMeta()
    for part in metas:
        meta.runs |= part.runs
        meta.accounts.update(part.accounts)
        meta.orphans.update(part.orphans)
    return meta


def _worker(
    messages: Any,
    n: int,
    parent: int,
    level: int,
    opener: StoreOpener,
    part: str,
    zones: tuple[str, ...],
    postings: int,
) -> None:
    root = logging.getLogger()
    root.handlers[:] = [_QueueHandler(messages, n)]
    root.setLevel(level)
    try:
        share_file = Path(part) / SHARE
        share: list[Manifest] = pickle.loads(share_file.read_bytes())  # noqa: S301 - ours
        share_file.unlink()
        store = opener()
        ix = file_storage(part).create_index(f.build_schema())

        def progress(done: int, _total: int) -> None:
            if os.getppid() != parent:
                raise SystemExit(1)  # the rebuild was abandoned: stop writing
            messages.put(("progress", n, done))

        meta = IndexMeta()
        report = apply_runs(
            ix, store, share, progress, zones, into=meta, postings_per_segment=postings
        )
        with ix.searcher() as searcher:  # the late rounds' segments (Whoosh's writer)
            write_missing(Path(part), searcher, zones)
        ix.close()
        messages.put(("done", n, PartResult(report, meta)))
    except Exception as exc:  # the parent raises it, or its message
        messages.put(("error", n, _portable(exc)))


def _portable(exc: Exception) -> Exception | str:
    try:
        back = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, just made
    except Exception:
        return str(exc) or type(exc).__name__
    return back if str(back) == str(exc) else str(exc) or type(exc).__name__


class _QueueHandler(logging.handlers.QueueHandler):
    """A worker's log records, formatted (QueueHandler.prepare), tagged for the parent."""

    def __init__(self, messages: Any, n: int) -> None:
        super().__init__(messages)
        self.messages = messages
        self.n = n

    def enqueue(self, record: logging.LogRecord) -> None:
        self.messages.put(("log", self.n, record))
