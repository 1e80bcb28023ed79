"""The set of documents a query matches, in full: totals, facets and date order need it.

Whoosh enumerates matches several Python calls per document. Here terms, and/or/not of
them, phrases and day ranges are evaluated as boolean arrays over global document numbers,
from decoded postings (postings.py) and the date column; anything else (prefixes) goes to
Whoosh's own matcher. The answer is the same set either way (tests compare both, and a scan
of the records).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from archiver.index import schema as f
from archiver.index.postings import Postings
from archiver.index.query import CreatedRange
from archiver.index.whoosh_internals import deleted_docnums

ALL = None  # "every document": the neutral element of an And
Mask = np.ndarray  # bool, one per global docnum


def meta_docnum(searcher: Searcher) -> int | None:
    docnum: int | None = searcher.document_number(**{f.KEY: f.META_KEY})
    return docnum


class Matches:
    """The live documents a query matched."""

    def __init__(self, mask: Mask) -> None:
        self.mask = mask

    @cached_property
    def ids(self) -> np.ndarray:
        """Their global docnums, ascending."""
        return np.flatnonzero(self.mask)

    def __len__(self) -> int:
        return int(np.count_nonzero(self.mask))

    def __bool__(self) -> bool:
        return bool(self.mask.any())

    def as_set(self) -> set[int]:
        return set(self.ids.tolist())


class _Evaluator:
    def __init__(self, searcher: Searcher, created: np.ndarray, postings: Postings) -> None:
        self.searcher = searcher
        self.created = created
        self.postings = postings
        self.count = searcher.reader().doc_count_all()

    def mask(self, ids: np.ndarray) -> Mask:
        out = np.zeros(self.count, dtype=bool)
        out[ids] = True
        return out

    def docs(self, q: wq.Query, within: Mask | None = ALL) -> Mask | None:
        """Documents matching q (deleted ones included: removed once at the end).
        `within`, when given, is a superset the caller will intersect with anyway."""
        if isinstance(q, wq.Term):
            return self.mask(self.postings.term(q.fieldname, q.text).ids)
        if isinstance(q, wq.And):
            return self.conjunction(q.subqueries, within)
        if isinstance(q, wq.Or):
            out = np.zeros(self.count, dtype=bool)
            for sub in q.subqueries:
                docs = self.docs(sub, within)
                if docs is ALL:
                    return ALL
                out |= docs
            return out
        if isinstance(q, wq.Not):
            inner = self.docs(q.query, within)
            if inner is ALL:
                return np.zeros(self.count, dtype=bool)
            return ~inner if within is ALL else within & ~inner
        if isinstance(q, wq.Every):
            return ALL
        if isinstance(q, CreatedRange):
            low, high = q.bounds()
            days = (self.created >= low) & (self.created < high)
            return days if within is ALL else days & within
        if isinstance(q, wq.Phrase):
            return self.phrase(q, within)
        found = np.fromiter(self.searcher.docs_for_query(q), dtype=np.int64)
        return self.mask(found)

    def conjunction(self, parts: list[wq.Query], within: Mask | None) -> Mask | None:
        # terms first (cheap, often selective); ranges and negations narrow what is left
        positive = [p for p in parts if not isinstance(p, (wq.Not, CreatedRange))]
        narrowing = [p for p in parts if isinstance(p, (wq.Not, CreatedRange))]
        docs = within
        for part in [*sorted(positive, key=lambda p: not isinstance(p, wq.Term)), *narrowing]:
            found = self.docs(part, docs)
            if found is not ALL:
                docs = found if docs is ALL else (docs & found)
            if docs is not ALL and not docs.any():
                return docs
        return docs

    def phrase(self, q: wq.Phrase, within: Mask | None) -> Mask:
        """Documents with every word, then each word's positions within `slop` after the
        previous word's, compared as sorted (document, position) keys."""
        candidates = within
        for word in q.words:
            docs = self.mask(self.postings.term(q.fieldname, word).ids)
            candidates = docs if candidates is ALL else candidates & docs
            if not candidates.any():
                return candidates
        ends = None
        for word in q.words:
            term = self.postings.term(q.fieldname, word, positions=True)
            assert candidates is not None  # a phrase has words
            assert term.counts is not None and term.positions is not None
            keys = _candidate_keys(term.ids, term.counts, term.positions, candidates)
            if ends is not None:
                follows = np.zeros(len(keys), dtype=bool)
                for gap in range(1, q.slop + 1):
                    follows |= _contains(ends, keys - gap)
                keys = keys[follows]
            ends = keys
            if not len(ends):
                break
        assert ends is not None
        return self.mask(ends >> 32)

    def deleted(self) -> np.ndarray:
        parts = [
            np.fromiter(deleted_docnums(reader), dtype=np.int64) + offset
            for reader, offset in self.postings.leaves
        ]
        docs: np.ndarray = np.concatenate(parts) if parts else np.empty(0, np.int64)
        return docs


def _candidate_keys(
    ids: np.ndarray, counts: np.ndarray, positions: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """(document << 32 | position) of every position of the postings whose document is a
    candidate, sorted. Only those postings' positions are gathered: a frequent word in a
    phrase with a rarer one expands a few postings, not all of its own."""
    chosen = np.flatnonzero(candidates[ids])
    chosen_counts = counts[chosen]
    starts = (np.cumsum(counts) - counts)[chosen]  # where each posting's positions begin
    # for each chosen position: its posting's start, plus its place within the posting
    first = np.cumsum(chosen_counts) - chosen_counts
    at = np.repeat(starts - first, chosen_counts) + np.arange(int(chosen_counts.sum()))
    docs = np.repeat(ids[chosen].astype(np.int64), chosen_counts)
    keys: np.ndarray = (docs << 32) | positions[at]
    return keys


def _contains(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each value, whether the sorted array holds it."""
    if not len(ordered):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(ordered, values).clip(max=len(ordered) - 1)
    found: np.ndarray = ordered[at] == values
    return found


def matching_docs(
    searcher: Searcher, query: wq.Query | None, created: np.ndarray, postings: Postings
) -> Matches:
    """Every live item matching the query (None = all items)."""
    ev = _Evaluator(searcher, created, postings)
    docs = ALL if query is None else ev.docs(query)
    docs = np.ones(ev.count, dtype=bool) if docs is ALL else docs
    docs[ev.deleted()] = False
    meta = meta_docnum(searcher)
    if meta is not None:
        docs[meta] = False
    return Matches(docs)
