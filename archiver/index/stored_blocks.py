"""Stored fields in blocks: a Whoosh column that compresses documents together.

Whoosh's codec pickles each document's stored fields and zlib's them one document at a
time (`PickleColumn(CompressedBytesColumn())`). An item's stored state is ~460 bytes, too
little for zlib to find much to share: at 1M posts that was 356 bytes a document, 373 MB,
the largest part of the index, and ~27 µs of CPU a document (zlib's set-up per call).
Here `BLOCK_DOCS` neighbouring documents (same account, same runs, mostly) are pickled
as one list and compressed with zstd: 132 bytes a document and ~3 µs, measured on the
1M index (ops/docs/search.md, "Sixth round").

The column is a Whoosh column (`whoosh.columns.Column`), so Whoosh's writer, its merges
and the segment builder all write it through the codec (whoosh_internals.CODEC), and
every reader reads it through the codec a segment was written with: segments of older
indexes (Whoosh's own column) are read as before.

Layout of the column's file: the compressed blocks, one after another; then the blocks'
start offsets and the end of the last (little-endian u64, one more than there are
blocks); then the trailer (`_TRAILER`: magic, documents a block, blocks).
"""

from __future__ import annotations

import pickle
import struct
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import zstandard
from whoosh.columns import Column, ColumnReader, ColumnWriter

from archiver.index.errors import SearchIndexError

BLOCK_DOCS = 64  # measured: 16 → 153, 64 → 132, 128 → 127 bytes a document
LEVEL = 3  # zstd level: 9 saves 5% more for 3.7x the CPU
_MAGIC = b"SAB1"
_TRAILER = struct.Struct("<4sII")
_CACHED_BLOCKS = 8  # decoded blocks kept per reader: a hits page, a merge's next rows


class StoredBlockError(SearchIndexError):
    """A column whose bytes are not a stored-blocks column (a damaged segment)."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"the search index has a damaged segment (stored fields: {what}); "
            "run `archiver index --rebuild`"
        )


class StoredBlocksColumn(Column):
    """Arbitrary picklable values (Whoosh's stored fields), `BLOCK_DOCS` to a zstd frame."""

    def __init__(self, block_docs: int = BLOCK_DOCS, level: int = LEVEL) -> None:
        self._block_docs = block_docs
        self._level = level

    def writer(self, dbfile: Any) -> ColumnWriter:
        return StoredBlocksWriter(dbfile, self._block_docs, self._level)

    def reader(self, dbfile: Any, basepos: int, length: int, doccount: int) -> ColumnReader:
        return StoredBlocksReader(dbfile, basepos, length, doccount)

    def default_value(self, reverse: bool = False) -> Any:
        return None


class StoredBlocksWriter(ColumnWriter):
    def __init__(self, dbfile: Any, block_docs: int, level: int) -> None:
        super().__init__(dbfile)
        self._block_docs = block_docs
        self._compress = zstandard.ZstdCompressor(level=level).compress
        self._block: list[Any] = []
        self._offsets = [0]

    def add(self, docnum: int, value: Any) -> None:
        self.fill(docnum)
        # a copy: Whoosh's per-document writer clears its dict once the value is added
        self._block.append(dict(value) if type(value) is dict else value)
        self._count += 1
        if len(self._block) == self._block_docs:
            self._flush()

    def fill(self, docnum: int) -> None:
        while self._count < docnum:
            self._block.append(None)
            self._count += 1
            if len(self._block) == self._block_docs:
                self._flush()

    def _flush(self) -> None:
        data = self._compress(pickle.dumps(self._block, pickle.HIGHEST_PROTOCOL))
        self._dbfile.write(data)
        self._offsets.append(self._offsets[-1] + len(data))
        self._block = []

    def finish(self, docnum: int) -> None:
        self.fill(docnum)
        if self._block:
            self._flush()
        self._dbfile.write(np.asarray(self._offsets, dtype="<u8").tobytes())
        self._dbfile.write(_TRAILER.pack(_MAGIC, self._block_docs, len(self._offsets) - 1))


class StoredBlocksReader(ColumnReader):
    def __init__(self, dbfile: Any, basepos: int, length: int, doccount: int) -> None:
        super().__init__(dbfile, basepos, length, doccount)
        if length < _TRAILER.size:
            raise StoredBlockError("the column is shorter than its trailer")
        magic, block_docs, blocks = _TRAILER.unpack(
            dbfile.get(basepos + length - _TRAILER.size, _TRAILER.size)
        )
        table = 8 * (blocks + 1)
        if magic != _MAGIC or not block_docs or table + _TRAILER.size > length:
            raise StoredBlockError("the column's trailer is not one of ours")
        self._block_docs = block_docs
        self._offsets = np.frombuffer(
            dbfile.get(basepos + length - _TRAILER.size - table, table), dtype="<u8"
        ).tolist()
        if blocks * block_docs < doccount or self._offsets[-1] + table + _TRAILER.size != length:
            raise StoredBlockError("the blocks do not cover the documents")
        self._decompress = zstandard.ZstdDecompressor().decompress
        self._cache: dict[int, list[Any]] = {}
        self._lock = threading.Lock()  # a reader is shared by a searcher's users

    def __len__(self) -> int:
        return int(self._doccount)

    def __getitem__(self, docnum: int) -> Any:
        if not 0 <= docnum < self._doccount:
            raise IndexError(docnum)
        block, row = divmod(docnum, self._block_docs)
        value = self._block(block)[row]
        # a copy, as an unpickled value would be: a caller may change what it is given
        return dict(value) if type(value) is dict else value

    def __iter__(self) -> Iterator[Any]:
        for docnum in range(self._doccount):
            yield self[docnum]

    def _block(self, block: int) -> list[Any]:
        with self._lock:
            rows = self._cache.get(block)
            if rows is None:
                start, end = self._offsets[block], self._offsets[block + 1]
                data = self._dbfile.get(self._basepos + start, end - start)
                # the index's own file, pickled as Whoosh pickles stored fields
                rows = pickle.loads(self._decompress(data))  # noqa: S301
                if len(self._cache) >= _CACHED_BLOCKS:
                    del self._cache[next(iter(self._cache))]
                self._cache[block] = rows
            return rows
