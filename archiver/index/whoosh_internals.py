"""Every use of Whoosh's internals, and every patch to it, in one place.

The index relies on Whoosh's public API (schema, queries, writer, searcher, highlighting)
and, for speed, on a few private details of its on-disk codec. Those are all here, each
with what it is and why, so an upgrade is checked against this one module and the gate
test (tests/index/test_whoosh_crosscheck.py compares results, totals, facets and scores
with Whoosh's own searcher). The Whoosh version is pinned in pyproject.toml; an untested
one is refused when archiver.index loads (`check_version`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import re
import struct
import threading
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice, pairwise
from pathlib import Path
from typing import Any

import numpy as np
import whoosh
from whoosh import externalsort
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.analysis.filters import LowercaseFilter
from whoosh.analysis.morph import StemFilter
from whoosh.analysis.tokenizers import IDTokenizer, RegexTokenizer, default_pattern
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import (
    COMPRESSION_MIN_SIZE,
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3LeafMatcher,
    W3PerDocReader,
    W3PerDocWriter,
    W3PostingsWriter,
    W3TermInfo,
    _lenfield,
)
from whoosh.columns import NumericColumn
from whoosh.filedb import filetables
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Positions, tokens
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from archiver.index.stored_blocks import StoredBlocksColumn

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


# -- the codec --------------------------------------------------------------------------------
# Whoosh's codec writes stored fields as a `_stored` column: one pickle, zlib'd, a document.
# This codec writes that column in blocks of documents (stored_blocks.py); everything else is
# W3Codec's. A segment records the codec it was written with (pickled in the TOC), so
# segments of an index written before read with W3Codec, as they were written.
STORED_COLUMN = StoredBlocksColumn()
_STORED = "_stored"  # W3PerDocWriter's and W3PerDocReader's name for the column


class _PerDocWriter(W3PerDocWriter):
    def _create_column(self, fieldname: str, column: Any) -> None:
        super()._create_column(fieldname, STORED_COLUMN if fieldname == _STORED else column)


class _PerDocReader(W3PerDocReader):
    def stored_fields(self, docnum: int) -> dict[str, Any]:
        reader = self._cached_reader(_STORED, STORED_COLUMN)
        value = None if reader is None else reader[docnum]
        return {} if value is None else value


_PICKLER = threading.local()


def compact_pickle(obj: Any) -> bytes:
    """`obj` pickled as the W3 codec pickles its posting blocks, their block infos and
    inlined postings (`pickle.dumps(obj, 2)`; `loads` reads any protocol), but smaller and
    faster: protocol 3, whose bytes opcode protocol 2 lacks (there a posting's value is a
    call of `_codecs.encode` on a latin-1 str: ~45 bytes for a 13-byte position, and 12x
    the time), without memo entries (nothing in a block is shared but the repeated values,
    which zlib finds). Measured on a text block of 128 postings: 2.3x smaller zlib'd, 11x
    faster to pickle and 2.2x to compress; an item's key inlined in 23 bytes against 54. A
    pickler per thread, reused: making one costs more than pickling does."""
    kept = getattr(_PICKLER, "pickler", None)
    if kept is None:
        out = io.BytesIO()
        pickler = pickle.Pickler(out, 3)
        pickler.fast = True  # no memo (PUT opcodes), so nothing is kept between dumps
        kept = _PICKLER.pickler = (out, pickler)
    out, pickler = kept
    out.seek(0)
    out.truncate()
    pickler.dump(obj)
    return out.getvalue()


class _PostingsWriter(W3PostingsWriter):
    """W3PostingsWriter that inlines a term of `inlinelimit` postings or fewer into its term
    info, as W3Codec(inlinelimit=1) means to. whoosh3 3.54 tests `len < inlinelimit` (so
    with 1, never) and would then call `set_inline`, which W3TermInfo does not have: every
    rare term (each item's key, most conversation ids and URLs) cost a block of ~52 bytes
    and a 12-byte extent. Whoosh's reader reads inlined postings (`W3Codec.postings_reader`:
    a ListMatcher); vectors (`byteids`) keep their blocks, their extent is what is stored."""

    def finish_postings(self) -> Any:
        if self._byteids or self.written() or not 0 < len(self) <= self._inlinelimit:
            return super().finish_postings()
        terminfo: Any = self._terminfo  # type: ignore[has-type]
        terminfo.add_block(self)
        # a posting without a value is inlined with b"": a ListMatcher of no values answers
        # value() with "" (a str), which Whoosh's merge refuses (PostingPool.add)
        terminfo.set_inlined(self._ids, self._weights, self._values or [b""])
        self._terminfo = None
        return terminfo


class ArchiveCodec(W3Codec):
    """W3Codec with stored fields in blocks, and one-posting terms inlined."""

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        return _PostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def per_document_writer(self, storage: Any, segment: Any) -> Any:
        return _PerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> Any:
        return _PerDocReader(storage, segment)


# Whoosh's default posting blocks (128 postings, zlib level 3); see ops/docs/search.md.
CODEC = ArchiveCodec(blocklimit=128, compression=3)


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


def _table_positions() -> None:
    """Patch Positions.word_values. Whoosh encodes each posting's positions with
    `pickle.dumps` (14% of a rebuild's time, measured); most postings are one word once, at
    a small position, whose encoding is the same bytes every time: those come from a table
    made by the format's own `encode`, the others are encoded as before."""
    original = Positions.word_values
    table = one_position_values(Positions())
    size = len(table)

    def word_values(
        self: Any, value: Any, analyzer: Any, **kwargs: Any
    ) -> Iterator[tuple[str, int, float, bytes]]:
        if type(self) is not Positions:  # a subclass may encode otherwise
            yield from original(self, value, analyzer, **kwargs)
            return
        fb = self.field_boost
        poses: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, float] = defaultdict(float)
        kwargs["positions"] = True
        kwargs["boosts"] = True
        for t in tokens(value, analyzer, kwargs):
            poses[t.text].append(t.pos)
            weights[t.text] += t.boost
        encode = self.encode
        for w, poslist in poses.items():
            first = poslist[0]
            if len(poslist) == 1 and 0 <= first < size:
                yield (w, 1, weights[w] * fb, table[first])
            else:
                yield (w, len(poslist), weights[w] * fb, encode(poslist))

    Positions.word_values = word_values


def _compact_pickles() -> None:
    """Patch whoosh.codec.whoosh3's `dumps`, which W3PostingsWriter._write_block (each
    block's data and info) and W3TermInfo.to_bytes (inlined postings) call, and nothing
    else: their pickles are `compact_pickle`'s, as the segment builder's (TermWriter)."""

    def dumps(obj: Any, protocol: int | None = None) -> bytes:
        return compact_pickle(obj)

    whoosh3.dumps = dumps


def md5_low32(key: bytes) -> int:
    """filetables.md5_hash (the hash of a term dictionary's keys, `int(hexdigest, 16)`'s
    low 32 bits) from the digest's last 4 bytes, without the hex round trip."""
    return int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[12:], "big")


_POINTER = np.dtype([("hash", ">u4"), ("position", ">i8")])  # filetables._pointer ("!Iq")


def _hash_tables_written_whole() -> None:
    """Patch HashWriter._write_hashes (every term dictionary's, at a segment's close): the
    same 256 open-addressed tables (a slot from the hash, the next free one on a
    collision), each written in one piece rather than one 12-byte write a slot (~1% of a
    rebuild)."""
    assert filetables._pointer.format == "!Iq"  # the layout _POINTER writes

    def write_hashes(self: Any) -> None:
        dbfile = self.dbfile
        for entries in self.buckets:
            numslots = 2 * len(entries)
            self.directory.append((dbfile.tell(), numslots))
            hashes = [0] * numslots
            positions = [0] * numslots  # (0, 0) is an empty slot: no key is at 0
            taken = bytearray(numslots)
            for hashval, position in entries:
                slot = (hashval >> 8) % numslots
                while taken[slot]:
                    slot = (slot + 1) % numslots
                taken[slot] = 1
                hashes[slot] = hashval
                positions[slot] = position
            table = np.empty(numslots, _POINTER)
            table["hash"] = hashes
            table["position"] = positions
            dbfile.write(table.tobytes())

    filetables.HashWriter._write_hashes = write_hashes


_installed_patches = False


def install_patches() -> None:
    """Apply the patches above (idempotent); archiver.index does it when it loads."""
    global _installed_patches
    if not _installed_patches:
        _fast_length_lookups()
        _chunked_sort_runs()
        _table_positions()
        _compact_pickles()
        _hash_tables_written_whole()
        _installed_patches = True


# -- writing a segment from whole arrays (segments.py) --------------------------------------
# A rebuild from nothing writes its segments without Whoosh's posting pool: segments.py
# gathers (term, document, weight, value) in arrays, sorts them with numpy and writes the
# W3 codec's files through the codec's own per-document and term-dictionary writers; only
# the posting blocks are laid out here, byte for byte as W3PostingsWriter writes them
# (tests/index/test_segments.py compares the files of both ways).
W3_BLOCK_MAGIC = WHOOSH3_HEADER_MAGIC  # before a term's first block
W3_COMPRESS_FROM = COMPRESSION_MIN_SIZE  # pickled blocks below this are not zlib'd
BLOCK_LIMIT = CODEC._blocklimit  # postings per block
_BLOCK_COMPRESSION = CODEC._compression


class SegmentFiles:
    """The new segments of one commit, written directly (after the index's own).

    Holds a SegmentWriter for Whoosh's lock, generation and TOC. Each segment is made
    with the writer's codec (`new_segment`, `per_document_writer`, `field_writer`) and,
    once closed as SegmentWriter closes its own (per-document files, term files, the
    compound file), put in the writer's `segments`: its commit with merge=False
    (NO_MERGE keeps the list as it is) writes them into the TOC. The writer's own
    segment gets no document (`_added` stays False): its commit closes it unused and
    `clean_files` removes its files."""

    def __init__(self, ix: Any, timeout: float) -> None:
        self.writer = SegmentWriter(ix, timeout=timeout, codec=CODEC)
        self.schema = self.writer.schema
        self._made: list[Any] = []

    def new(self) -> tuple[Any, Any, Any]:
        """(segment, per-document writer, field writer) of the next segment."""
        w = self.writer
        segment = CODEC.new_segment(w.storage, w.indexname)
        self._made.append(segment)
        return (
            segment,
            CODEC.per_document_writer(w.storage, segment),
            CODEC.field_writer(w.storage, segment),
        )

    def close(self, segment: Any, perdoc: Any, fields: Any, doccount: int) -> None:
        perdoc.close()
        fields.close()
        segment.set_doc_count(doccount)
        if self.writer.compound:
            segment.create_compound_file(self.writer.storage)
        self.writer.segments.append(segment)

    def commit(self) -> None:
        self.writer.commit(merge=False)

    def cancel(self) -> None:
        """Close the writer (releasing the lock) and remove every file written."""
        storage = self.writer.storage
        self.writer.cancel()
        for segment in (*self._made, self.writer.newsegment):
            for name in segment.list_files(storage):
                storage.delete_file(name)


# Numeric columns and field lengths written whole at the end of a segment: the
# per-document writer's add_column_value is several Python calls a value (a quarter of
# the per-document time, with the stored fields), for a file that is just the values.
_WHOLE_CODES = frozenset("bBhHiIqQ")  # struct codes numpy reads with the same sizes


def whole_column_code(column: Any) -> str | None:
    """The typecode of a NumericColumn of integers whose default is 0, whose file
    write_whole_column can write at once; None for any other column."""
    if type(column) is NumericColumn and column._default == 0:
        code = column._typecode
        return code if code in _WHOLE_CODES else None
    return None


def open_column(perdoc: Any, name: str, column: Any) -> None:
    """Create the per-document writer's column `name`, as its add_column_value does at
    the column's first value (write_whole_column fills it at the end)."""
    if not perdoc._has_column(name):
        perdoc._create_column(name, column)


def write_whole_column(perdoc: Any, name: str, values: np.ndarray, code: str) -> None:
    """An opened NumericColumn's file at once, as its Writer.add leaves it: every
    document's value big-endian (0 where it has none) up to the last that is not 0."""
    writer = perdoc._get_column(name)
    nonzero = np.flatnonzero(values)
    count = int(nonzero[-1]) + 1 if len(nonzero) else 0
    writer._dbfile.write(values[:count].astype(np.dtype(code).newbyteorder(">")).tobytes())
    writer._count = count


def open_lengths(perdoc: Any, fieldname: str) -> None:
    """At a field's first length, what add_field does: its length column and its entry
    in the segment's field length totals (in the order fields first had a length)."""
    open_column(perdoc, _lenfield(fieldname), LENGTHS_COLUMN)
    perdoc._fieldlengths[fieldname] += 0


def write_lengths(perdoc: Any, fieldname: str, length_bytes: np.ndarray, total: int) -> None:
    """An opened field's length column (each document's length byte) and total length."""
    write_whole_column(perdoc, _lenfield(fieldname), length_bytes, "B")
    perdoc._fieldlengths[fieldname] += total


# W3TermInfo.to_bytes of a term whose postings are in blocks: its struct (not inlined),
# then pack_long(offset) + pack_int(length) of its extent in the postings file
_TERM_INFO = struct.Struct(W3TermInfo._struct.format + "qi")
_ENTRY_LENGTHS = filetables._lengths  # HashWriter.add: (key length, value length), key, value
_NO_LENGTH_BYTE = length_to_byte(0)  # a term info's max length byte without lengths
_FLUSH_BYTES = 1 << 22  # pending postings and term entries written in pieces of this size


class TermWriter:
    """A segment's terms, written as W3FieldWriter's start_term/add/finish_term and
    W3PostingsWriter write them, in batches: each term's blocks (delta-coded ids, the
    weights minified to None / one float / a tuple, the values as a tuple (positions),
    joined (fixed size) or None (no values); each block pickled by compact_pickle, zlib'd from
    W3_COMPRESS_FROM bytes, after a pickled info tuple) go to the postings file, its
    W3TermInfo (the block statistics summed) to the term dictionary (an OrderedHashWriter:
    `add`'s entry bytes, its key positions in `index`, each key's hash in `buckets`), both
    joined and written a few MB at a time rather than several writes a term. Most terms
    have one posting (each item's key, rare words): those are inlined in their term info,
    as _PostingsWriter inlines them."""

    def __init__(self, fields: Any) -> None:
        self._fields = fields
        self._postfile = fields._postfile
        self._tindex = fields._tindex
        self._posts: list[bytes] = []
        self._posts_at = self._postfile.tell()
        self._posts_size = 0
        self._entries: list[bytes] = []
        self._entries_at = self._tindex.dbfile.tell()
        self._entries_size = 0
        self._keys: list[bytes] = []
        self._positions: list[int] = []
        self._prefix = b""

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        self._fields.start_field(fieldname, fieldobj)
        self._prefix = pack_ushort(self._fields._fieldid)

    def finish_field(self) -> None:
        self._fields.finish_field()

    def add(
        self,
        btext: bytes,
        ids: list[int],
        weights: list[float],
        values: Any,
        lengths: list[int] | None,
        gaps: list[int],
    ) -> None:
        """One term's postings, documents ascending. `values` is a list of bytes (variable
        size), one bytes of fixed-size values, or None; `lengths` the document's field
        length of each posting (None: not scorable); `gaps` each id less the one before
        (the first is not read)."""
        if len(ids) == 1:
            value = b"" if values is None else values if isinstance(values, bytes) else values[0]
            length = lengths[0] if lengths is not None else None
            self.add_one(btext, ids[0], weights[0], value, length)
            return
        posts, info = self._blocks(ids, weights, values, lengths, gaps)
        offset = self._posts_at + self._posts_size
        self._posts.append(posts)
        self._posts_size += len(posts)
        self._entry(btext, _TERM_INFO.pack(0, *info, ids[0], ids[-1], offset, len(posts)))

    def add_one(
        self, btext: bytes, docnum: int, weight: float, value: bytes, length: int | None
    ) -> None:
        """A term of one posting (`add` of one): its value (b"" for none) and its
        document's field length (None: not scorable). The posting is inlined in the term
        info (_PostingsWriter): the statistics, then the pickled (ids, weights, values) of
        W3TermInfo.set_inlined, the weight as the writer's array("f") keeps it, pickled by
        compact_pickle (as the codec's W3TermInfo.to_bytes)."""
        if length:
            low_byte = high_byte = length_to_byte(length)
        else:
            low_byte, high_byte = 0, _NO_LENGTH_BYTE
        stats = (1, 0.0 + weight, 1, low_byte, high_byte, max(0.0, weight))
        weight32 = weight if weight == 1.0 else float(np.float32(weight))
        inlined = ((docnum,), (weight32,), (value,))
        info: bytes = W3TermInfo._struct.pack(*stats, docnum, docnum)
        self._entry(btext, info + compact_pickle(inlined))

    def _entry(self, btext: bytes, value: bytes) -> None:
        """A term's entry in the dictionary: its key (field number, text) and term info."""
        key = self._prefix + btext
        self._keys.append(key)
        self._positions.append(self._entries_at + self._entries_size)
        entry = _ENTRY_LENGTHS.pack(len(key), len(value)) + key + value
        self._entries.append(entry)
        self._entries_size += len(entry)
        if self._posts_size + self._entries_size >= _FLUSH_BYTES:
            self.flush()

    @staticmethod
    def _blocks(
        ids: list[int], weights: list[float], values: Any, lengths: list[int] | None, gaps: Any
    ) -> tuple[bytes, tuple[Any, ...]]:
        """A term's blocks of BLOCK_LIMIT postings, and its term info's statistics
        (total weight, postings, min and max length bytes, max weight)."""
        out = [W3_BLOCK_MAGIC]
        n = len(ids)
        fixed = isinstance(values, bytes)
        size = len(values) // n if fixed and n else 0
        total_weight = 0.0
        max_weight = 0.0
        min_length: int | None = None
        max_length = 0
        dumps, compress = compact_pickle, zlib.compress
        for at in range(0, n, BLOCK_LIMIT):
            end = min(at + BLOCK_LIMIT, n)
            block_ids = ids[at:end]
            block_weights = weights[at:end]
            deltas = (block_ids[0], *gaps[at + 1 : end])
            first = block_weights[0]
            top = max(block_weights)
            if top == 1.0 and min(block_weights) == 1.0:
                mini: Any = None
            elif top == first and min(block_weights) == first:
                mini = first
            else:
                mini = tuple(block_weights)
            if values is None:
                block_values: Any = None
            elif fixed:
                block_values = values[at * size : end * size]
            else:
                block_values = tuple(values[at:end])
            data = dumps((deltas, mini, block_values))
            comp = _BLOCK_COMPRESSION if len(data) >= W3_COMPRESS_FROM else 0
            if comp:
                data = compress(data, comp)
            low = high = None
            if lengths is not None:
                block_lengths = [x for x in lengths[at:end] if x]
                if block_lengths:
                    low, high = min(block_lengths), max(block_lengths)
            info = dumps(
                (
                    end - at,
                    block_ids[-1],
                    top,
                    comp,
                    length_to_byte(low),
                    length_to_byte(high or 0),
                ),
            )
            blocklength = len(info) + len(data)
            out += (pack_int(-blocklength if end == n else blocklength), info, data)
            total_weight += sum(block_weights)
            max_weight = max(max_weight, top)
            if low is not None:
                min_length = low if min_length is None else min(min_length, low)
                max_length = max(max_length, high or 0)
        low_byte = 0 if min_length is None else length_to_byte(min_length)
        return b"".join(out), (total_weight, n, low_byte, length_to_byte(max_length), max_weight)

    def flush(self) -> None:
        """Write the pending postings and term entries (keys must increase, as
        OrderedHashWriter.add requires)."""
        tindex = self._tindex
        keys = self._keys
        if keys:
            if keys[0] <= tindex.lastkey or any(a >= b for a, b in pairwise(keys)):
                raise ValueError("terms must be added in increasing order")
            hashfn = md5_low32 if tindex.hashfn is filetables.md5_hash else tindex.hashfn
            buckets = tindex.buckets
            for h, pos in zip(map(hashfn, keys), self._positions, strict=True):
                buckets[h & 255].append((h, pos))
            tindex.index.extend(self._positions)
            tindex.lastkey = keys[-1]
        self._postfile.write(b"".join(self._posts))
        tindex.dbfile.write(b"".join(self._entries))
        self._posts_at += self._posts_size
        self._entries_at += self._entries_size
        self._posts, self._entries, self._keys, self._positions = [], [], [], []
        self._posts_size = self._entries_size = 0


def one_position_values(fmt: Any, count: int = 4096) -> list[bytes]:
    """The encoded value of a one-position posting, by position (the format's own
    encoding, computed once)."""
    return [fmt.encode([pos]) for pos in range(count)]


# A tokenizer's pattern whose group only groups: the same matches without it, so that
# `findall` returns them (Whoosh's default pattern, the text field's). Its optional dot is
# required here: the first run of word characters is whole already, so only a dot can
# extend it (the same matches, 13% faster, measured on posts).
_WITHOUT_GROUPS = {default_pattern.pattern: r"[\w*]+(?:\.[\w*]+)*"}
STEMS_KEPT = 200_000  # words as written, lowercased and stemmed (~30 MB at most)


class _Stems(dict[str, str]):
    """Words as written -> lowercased and stemmed; computed when first asked for (so the
    words already seen are one `map`, in C), at most STEMS_KEPT kept."""

    __slots__ = ("_stem",)

    def __init__(self, stem: Callable[[str], str]) -> None:
        super().__init__()
        self._stem = stem

    def __missing__(self, word: str) -> str:
        if len(self) >= STEMS_KEPT:
            self.clear()
        found = self[word] = self._stem(word.lower())
        return found


def term_words(field: Any) -> tuple[Callable[[str], list[str]], int] | None:
    """For a field whose analyzer is a regex tokenizer or an id tokenizer, then optionally
    a lowercase filter and a stem filter (every field of schema.py): a function giving a
    value's terms in the order of the analyzer's tokens (the stem filter's own cached
    `_stem`, its `ignore` set honoured), and the position the tokenizer gives the first;
    None for any other analyzer (the caller then uses `field.index`)."""
    analyzer = field.analyzer
    items = list(analyzer.items) if isinstance(analyzer, CompositeAnalyzer) else [analyzer]
    tokenizer, *filters = items
    lower = stem = None
    for item in filters:
        if type(item) is LowercaseFilter and lower is None and stem is None:
            lower = str.lower
        elif type(item) is StemFilter and stem is None:
            stem = item
        else:
            return None
    first = 0  # the tokenizer's first position
    if type(tokenizer) is IDTokenizer:
        split: Callable[[str], list[str]] = lambda value: [value]  # noqa: E731
        first = 1
    elif type(tokenizer) is RegexTokenizer and not tokenizer.gaps:
        expression = tokenizer.expression
        same = _WITHOUT_GROUPS.get(expression.pattern) if expression.groups else None
        if same is not None:
            expression = re.compile(same, expression.flags)
        if expression.groups == 0:  # findall gives the matches themselves
            split = expression.findall
        else:
            finditer = expression.finditer
            split = lambda value: [m.group() for m in finditer(value)]  # noqa: E731
    else:
        return None
    stem_word = stem._stem if stem is not None else None
    ignore = stem.ignore if stem is not None else frozenset()
    stems = _Stems(stem_word) if stem_word is not None else None

    def terms(value: str) -> list[str]:
        words = split(value)
        if len(words) == 1 and stem_word is None:  # an id, a keyword: no loop
            return [words[0].lower()] if lower is not None else words
        if lower is not None and stems is not None and not ignore:
            return list(map(stems.__getitem__, words))  # the text field: most words known
        if lower is not None:
            words = [w.lower() for w in words]
        if stem_word is not None:
            words = [w if w in ignore else stem_word(w) for w in words]
        return words

    return terms, first
