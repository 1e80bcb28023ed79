"""Term postings decoded once into numpy arrays, kept per segment within a memory budget.

Whoosh stores a term's postings as zlib-compressed pickled blocks of 128 and walks them
several Python calls per posting. Matching, ranking and phrases here work on whole arrays
instead: a term is decoded once per segment (segments are immutable; deletions are applied
at query time) and kept in a least-recently-used cache bounded in bytes, so the words
people search for over and over (the frequent ones, dearest to decode) stay decoded.
Positions, needed by phrases only, are decoded on the first phrase that needs them.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from itertools import accumulate, repeat
from typing import Any, NamedTuple, Protocol

import numpy as np
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from archiver.index.whoosh_internals import (
    ONE_POSITION,
    ONE_POSITION_AT,
    posting_blocks,
    segment_id,
    unfiltered,
)

DEFAULT_CACHE_MB = 256


class Term(NamedTuple):
    """One term's postings: in a segment (local docnums) or the whole index (global)."""

    ids: np.ndarray  # int32 docnums, ascending; deleted documents included
    freqs: np.ndarray  # float32 term frequency of each posting
    counts: np.ndarray | None  # int32 positions per posting (None: not decoded)
    positions: np.ndarray | None  # int32 positions, counts[i] of them for posting i

    @property
    def nbytes(self) -> int:
        extra = 0
        if self.positions is not None and self.counts is not None:
            extra = self.positions.nbytes + self.counts.nbytes
        return self.ids.nbytes + self.freqs.nbytes + extra


_NO_IDS = np.empty(0, np.int32)
_NO_FREQS = np.empty(0, np.float32)
EMPTY = Term(_NO_IDS, _NO_FREQS, _NO_IDS, _NO_IDS)


def read_term(reader: Any, fieldname: str, text: str, positions: bool) -> Term:
    """Decode every posting of a term in one segment."""
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return EMPTY
    matcher = unfiltered(matcher)  # deleted documents too: ids stay the segment's
    ids, freqs, values = array("i"), array("f"), []
    blocks = posting_blocks(matcher)
    if blocks is not None:
        for deltas, weights, block_values, count in blocks:
            ids.extend(accumulate(deltas))
            if weights is None or isinstance(weights, float):
                freqs.extend(repeat(1.0 if weights is None else weights, count))
            else:
                freqs.extend(weights)
            if positions:
                values.extend(block_values)
    else:  # another matcher (in-memory postings): posting by posting
        while matcher.is_active():
            ids.append(matcher.id())
            freqs.append(matcher.weight())
            if positions:
                values.append(matcher.value())
            matcher.next()
    counts, poses = (
        _decode_positions(reader.schema[fieldname].format, values) if positions else (None, None)
    )
    return Term(np.frombuffer(ids, np.int32), np.frombuffer(freqs, np.float32), counts, poses)


_FIXED = np.array([i for i in range(len(ONE_POSITION)) if i != ONE_POSITION_AT])


def _decode_positions(fmt: Any, values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(positions per posting, positions) of a term's encoded values. The one-position
    postings are recognised by their exact bytes and read in bulk; the others are decoded
    by the format, one by one."""
    sizes = np.fromiter(map(len, values), np.int64, len(values))
    blob = np.frombuffer(b"".join(values), np.uint8)
    starts = np.cumsum(sizes) - sizes
    one = sizes == len(ONE_POSITION)
    pattern = np.frombuffer(ONE_POSITION, np.uint8)[_FIXED]
    if one.any():
        one[one] = (blob[starts[one, None] + _FIXED] == pattern).all(axis=1)
    counts = np.ones(len(values), np.int32)
    others = np.flatnonzero(~one).tolist()
    decoded = [fmt.decode_positions(values[i]) for i in others]
    counts[others] = [len(d) for d in decoded]
    at = np.cumsum(counts) - counts
    flat = np.empty(int(counts.sum()), np.int32)
    flat[at[one]] = blob[starts[one] + ONE_POSITION_AT]
    for i, positions in zip(others, decoded, strict=True):
        flat[at[i] : at[i] + len(positions)] = positions
    return counts, flat


class TermSource(Protocol):
    """Where decoded terms come from before Whoosh's blocks (sidecars.Sidecars)."""

    def term(self, reader: Any, fieldname: str, text: str, positions: bool) -> Term | None: ...


class PostingCache:
    """Decoded terms by (segment, field, text), least recently used dropped past the
    budget. Shared by the threads of one process (the UI's). A term is taken from
    `source` (the segment's memory-mapped sidecar) when it has it, else decoded."""

    def __init__(self, max_mb: float = DEFAULT_CACHE_MB, source: TermSource | None = None) -> None:
        self.source = source
        self.max_bytes = int(max_mb * 2**20)
        self.bytes = 0
        self._terms: OrderedDict[tuple[str, str, str], Term] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, reader: Any, fieldname: str, text: str, positions: bool = False) -> Term:
        key = (segment_id(reader), fieldname, text)
        with self._lock:
            term = self._terms.get(key)
            if term is not None and (term.positions is not None or not positions):
                self._terms.move_to_end(key)
                return term
        term = self.source.term(reader, fieldname, text, positions) if self.source else None
        if term is None:
            term = read_term(reader, fieldname, text, positions)
        with self._lock:
            old = self._terms.pop(key, None)
            self.bytes -= old.nbytes if old is not None else 0
            # a word no segment holds is not kept: misses would grow the cache unaccounted
            if 0 < term.nbytes <= self.max_bytes:
                self._terms[key] = term
                self.bytes += term.nbytes
                while self.bytes > self.max_bytes:
                    _, dropped = self._terms.popitem(last=False)
                    self.bytes -= dropped.nbytes
        return term


class Postings:
    """One query's view of terms across the index's segments, by global docnum."""

    def __init__(self, searcher: Searcher, cache: PostingCache) -> None:
        self.leaves = list(searcher.reader().leaf_readers())
        self.cache = cache
        self._memo: dict[tuple[str, str, bool], Term] = {}

    def term(self, fieldname: str, text: str, positions: bool = False) -> Term:
        key = (fieldname, text, positions)
        found = self._memo.get(key) or self._memo.get((fieldname, text, True))
        if found is None:
            parts = [
                (offset, self.cache.get(reader, fieldname, text, positions))
                for reader, offset in self.leaves
            ]
            parts = [(offset, t) for offset, t in parts if len(t.ids)]
            found = _join(parts, positions)
            self._memo[key] = found
        return found


def _join(parts: list[tuple[int, Term]], positions: bool) -> Term:
    if not parts:
        return EMPTY
    if len(parts) == 1 and parts[0][0] == 0:
        return parts[0][1]
    return Term(
        np.concatenate([t.ids + np.int32(offset) for offset, t in parts]),
        np.concatenate([t.freqs for _, t in parts]),
        np.concatenate([t.counts for _, t in parts]) if positions else None,
        np.concatenate([t.positions for _, t in parts]) if positions else None,
    )
