"""Every use of Whoosh's internals, and every patch to it, in one place.

The index relies on Whoosh's public API (schema, queries, writer, searcher, highlighting)
and, for speed, on a few private details of its on-disk codec. Those are all here, each
with what it is and why, so an upgrade is checked against this one module and the gate
test (tests/index/test_whoosh_crosscheck.py compares results, totals, facets and scores
with Whoosh's own searcher). The Whoosh version is pinned in pyproject.toml; an untested
one is refused when archiver.index loads (`check_version`).
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import whoosh
from whoosh import externalsort
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3LeafMatcher, W3PerDocReader, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.util.numeric import byte_to_length

log = logging.getLogger(__name__)

# The distribution and version the index is tested with (pyproject.toml pins the same).
DISTRIBUTION = "whoosh3"
TESTED_VERSION = "3.54.0"
OTHER_DISTRIBUTIONS = ("whoosh-reloaded", "whoosh")  # same `whoosh` package: never both
ALLOW_UNTESTED = "ARCHIVER_WHOOSH_UNTESTED"  # "1": run anyway (to run the gate on a candidate)


class UntestedWhoosh(SystemExit):
    """Raised when archiver.index loads with a Whoosh it was not tested with: uncaught, it
    prints its one line and exits 1 (an import-time error must not be a traceback)."""


def check_version() -> None:
    installed = whoosh.versionstring()
    others = [d for d in OTHER_DISTRIBUTIONS if _installed(d)]
    problem = None
    if installed != TESTED_VERSION:
        problem = f"Whoosh {installed} is installed; the search index is tested with"
    elif others:
        problem = f"{', '.join(others)} is installed beside {DISTRIBUTION} (same package);"
    if problem is None:
        return
    line = (
        f"error: {problem} {DISTRIBUTION}=={TESTED_VERSION} only: "
        f"run `pip uninstall -y {' '.join((*OTHER_DISTRIBUTIONS, DISTRIBUTION))} && "
        f"pip install {DISTRIBUTION}=={TESTED_VERSION}` (or `bash ops/setup.sh`)"
    )
    if os.environ.get(ALLOW_UNTESTED) == "1":
        log.warning("%s; running anyway (%s=1)", line.removeprefix("error: "), ALLOW_UNTESTED)
        return
    raise UntestedWhoosh(line)


def _installed(distribution: str) -> bool:
    """Whether the distribution's metadata sits beside the `whoosh` package (a directory
    listing: importlib.metadata scans every path entry, ~0.1-0.4 s at each start)."""
    site = Path(whoosh.__file__).resolve().parent.parent
    prefix = distribution.replace("-", "_").lower() + "-"
    try:
        names = os.listdir(site)
    except OSError:
        return False
    return any(n.lower().startswith(prefix) and n.endswith(".dist-info") for n in names)


# -- opening --------------------------------------------------------------------------------
def file_storage(path: str) -> FileStorage:
    """Segments are read through the page cache, not memory-mapped: Whoosh copies each
    mapped file of a segment into a BytesIO when a reader opens (~1 GB for a million
    posts, per searcher, so per UI thread). Measured: 7% slower queries, 10x less memory."""
    return FileStorage(path, supports_mmap=False)


# Whoosh's default posting blocks (128 postings, zlib level 3); see ops/docs/search.md.
CODEC = W3Codec(blocklimit=128, compression=3)


def segment_id(reader: Any) -> str:
    """The id of a leaf reader's segment (stable for the segment's life); "-" for the
    single reader of an empty index, which has no segment."""
    segment = reader.segment()
    return str(segment.segment_id()) if segment is not None else "-"


def deleted_docnums(reader: Any) -> Iterable[int]:
    """A segment reader's deleted documents (its `deleted_docs_set`, no public accessor)."""
    return reader.deleted_docs_set if reader.has_deletions() else ()


# -- postings -------------------------------------------------------------------------------
def unfiltered(matcher: Any) -> Any:
    """A segment's postings matcher without the filter that hides deleted documents (its
    `child`): docnums stay those of the segment, deletions are applied at query time."""
    return getattr(matcher, "child", matcher)


def posting_blocks(matcher: Any) -> Iterator[tuple[Any, Any, list[bytes], int]] | None:
    """The raw blocks of a W3 postings matcher, or None for another matcher. Each block is
    W3LeafMatcher's `_data` tuple (read by `_read_data`, stepped by `_next_block`):
    (docnum deltas from the block's start, weights, encoded values, `_blocklength`), with
    weights None (all 1), one float for every posting, or one per posting."""
    if not isinstance(matcher, W3LeafMatcher):
        return None

    def blocks() -> Iterator[tuple[Any, Any, list[bytes], int]]:
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            deltas, weights, values = matcher._data
            yield deltas, weights, values, matcher._blocklength
            matcher._next_block()

    return blocks()


# Whoosh's Positions format encodes a posting's positions as a 4-byte count, then
# pickle.dumps(list of deltas, protocol 2). Most postings are one word once, early in the
# text: exactly these 13 bytes, with the position at byte ONE_POSITION_AT.
ONE_POSITION = b"\x00\x00\x00\x01\x80\x02]q\x00KXa."
ONE_POSITION_AT = 10


# -- columns --------------------------------------------------------------------------------
def numeric_column_bytes(column: Any) -> tuple[bytes, int] | None:
    """A NumericColumn reader's values as one block of (fixed-width, big-endian) bytes and
    its value count, read from its `_dbfile` at `_basepos`; None for another layout.
    Documents past `_count` (absent trailing values) are 0."""
    try:
        raw = column._dbfile.get(column._basepos, column._count * column._fixedlen)
    except AttributeError:
        return None
    return bytes(raw), int(column._count)


def length_column(reader: Any, fieldname: str) -> Any | None:
    """The per-document length-byte column of a scorable field (what BM25 normalises by),
    from the segment's per-document reader `_perdoc` under Whoosh's `_lenfield` name; None
    when the segment has none (an empty index, a field without lengths)."""
    perdoc = getattr(reader, "_perdoc", None)
    lenfield = _lenfield(fieldname)
    if perdoc is None or not perdoc.has_column(lenfield):
        return None
    return perdoc.column_reader(lenfield, LENGTHS_COLUMN)


LENGTH_OF_BYTE = [byte_to_length(b) for b in range(256)]  # the codec's length encoding


# -- patches (applied once, by install_patches) ---------------------------------------------
def _fast_length_lookups() -> None:
    """Patch W3PerDocReader._cached_reader. When Whoosh writes a segment's postings it looks
    up the field length of each posting's document (for block statistics):
    - for a field without a length column (ids, keywords, numbers) it looks on disk again
      at every posting: one stat() each, a quarter of the indexing time here;
    - for a field with one (text) it reads the length byte from the file: a seek and a read
      per posting, ~8% of the indexing time.
    A segment's files do not change: remember "no column", and read a length column whole
    (one byte a document) the first time it is needed."""

    def cached_reader(self: Any, fieldname: str, column: Any) -> Any:
        try:
            return self._readers[fieldname]
        except KeyError:
            reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
            if reader is not None and column is LENGTHS_COLUMN:
                whole = numeric_column_bytes(reader)
                if whole is not None:  # indexable and iterable like the reader
                    reader = whole[0] + bytes(max(0, self._doccount - whole[1]))
            self._readers[fieldname] = reader
            return reader

    W3PerDocReader._cached_reader = cached_reader


SORT_CHUNK = 2048


def _chunked_sort_runs() -> None:
    """Patch externalsort.SortingPool._write_run/_read_run. Whoosh's external sort spills a
    writer's postings to temp files with one pickle.dump per posting and reads them back
    with one pickle.load each: ~4 µs a posting, paid for every posting once a segment
    outgrows `limitmb`. Lists of postings are pickled instead (the merge still streams:
    one list per run is in memory at a time)."""

    def write_run(self: Any, file: Any, items: Iterable[Any]) -> None:
        items = iter(items)
        while chunk := list(islice(items, SORT_CHUNK)):
            pickle.dump(chunk, file, pickle.HIGHEST_PROTOCOL)
        file.close()

    def read_run(self: Any, path: str) -> Iterator[Any]:
        file = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(file)  # noqa: S301 - our own temp file, just written
                except EOFError:
                    return
                yield from chunk
        finally:
            file.close()
            self._remove_run(path)

    externalsort.SortingPool._write_run = write_run
    externalsort.SortingPool._read_run = read_run


_installed_patches = False


def install_patches() -> None:
    """Apply the patches above (idempotent); archiver.index does it when it loads."""
    global _installed_patches
    if not _installed_patches:
        _fast_length_lookups()
        _chunked_sort_runs()
        _installed_patches = True
