"""The set of documents a query matches, in full: totals, facets and date order need it.

Whoosh enumerates matches several Python calls per document. Here terms, and/or/not of
them, phrases and day ranges are evaluated on whole posting blocks, Python sets and the
cached date column; anything else (prefixes) goes to Whoosh's own matcher. The answer is
the same set either way (tests compare both, and a scan of the records).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Any

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from archiver.index import schema as f
from archiver.index.query import CreatedRange

ALL = None  # "every document": the neutral element of an And


def meta_docnum(searcher: Searcher) -> int | None:
    return searcher.document_number(**{f.KEY: f.META_KEY})


class Postings:
    """A query's term postings, decoded once: the doc set and the ranking both read them."""

    def __init__(self, searcher: Searcher) -> None:
        self.leaves = list(searcher.reader().leaf_readers())
        self._terms: dict[tuple[str, str], list[tuple[int, list[Block]]]] = {}

    def blocks(self, fieldname: str, text: str) -> list[tuple[int, list[Block]]]:
        """[(segment offset, [blocks])] of one term, read once per query."""
        key = (fieldname, text)
        cached = self._terms.get(key)
        if cached is None:
            cached = []
            for reader, offset in self.leaves:
                try:
                    matcher = reader.postings(fieldname, text)
                except TermNotFound:
                    continue
                cached.append((offset, list(posting_blocks(getattr(matcher, "child", matcher)))))
            self._terms[key] = cached
        return cached


class _Evaluator:
    def __init__(self, searcher: Searcher, created: array, postings: Postings) -> None:
        self.searcher = searcher
        self.created = created
        self.postings = postings
        self.leaves = postings.leaves
        self.count = searcher.reader().doc_count_all()

    def everything(self) -> set[int]:
        return set(range(self.count))

    def docs(self, q: wq.Query, within: set[int] | None = ALL) -> set[int] | None:
        """Global docnums matching q (deleted ones included: removed once at the end).
        `within`, when given, is a superset the caller will intersect with anyway."""
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, wq.And):
            return self.conjunction(q.subqueries, within)
        if isinstance(q, wq.Or):
            out: set[int] = set()
            for sub in q.subqueries:
                docs = self.docs(sub, within)
                if docs is ALL:
                    return ALL
                out |= docs
            return out
        if isinstance(q, wq.Not):
            inner = self.docs(q.query, within)
            base = self.everything() if within is ALL else set(within)
            return set() if inner is ALL else base - inner
        if isinstance(q, wq.Every):
            return ALL
        if isinstance(q, CreatedRange):
            return self.days(q, within)
        if isinstance(q, wq.Phrase):
            return self.phrase(q, within)
        return set(self.searcher.docs_for_query(q))

    def conjunction(self, parts: list[wq.Query], within: set[int] | None) -> set[int] | None:
        # cheap, selective parts first; ranges and negations only narrow what is left
        positive = [p for p in parts if not isinstance(p, (wq.Not, CreatedRange))]
        narrowing = [p for p in parts if isinstance(p, (wq.Not, CreatedRange))]
        docs = within
        for part in sorted(positive, key=lambda p: not isinstance(p, wq.Term)):
            found = self.docs(part, docs)
            if found is not ALL:
                docs = found if docs is ALL else (docs & found)
            if docs is not ALL and not docs:
                return docs
        for part in narrowing:
            docs = self.docs(part, docs)
        return docs

    def days(self, q: CreatedRange, within: set[int] | None) -> set[int]:
        low, high = q.bounds()
        created = self.created
        candidates = range(self.count) if within is ALL else within
        return {d for d in candidates if low <= created[d] < high}

    def term(self, fieldname: str, text: str) -> set[int]:
        out: set[int] = set()
        for offset, blocks in self.postings.blocks(fieldname, text):
            for ids, _, _ in blocks:
                out.update(ids if not offset else [d + offset for d in ids])
        return out

    def phrase(self, q: wq.Phrase, within: set[int] | None) -> set[int]:
        """Documents with every word (set intersection), then positions checked for those
        documents only."""
        candidates = within
        for word in q.words:
            docs = self.term(q.fieldname, word)
            candidates = docs if candidates is ALL else candidates & docs
            if not candidates:
                return set()
        decode = self.searcher.schema[q.fieldname].format.decode_positions
        positions = []
        for word in q.words:
            where: dict[int, list[int]] = {}
            for offset, blocks in self.postings.blocks(q.fieldname, word):
                for ids, _, values in blocks:
                    for doc, value in zip(ids, values, strict=True):
                        if doc + offset in candidates:
                            where[doc + offset] = value
            positions.append(where)
        gaps = range(1, q.slop + 1)  # each word within `slop` positions after the one before
        out = set()
        for doc in candidates:
            ends = set(decode(positions[0][doc]))
            for where in positions[1:]:
                ends = {p for p in decode(where[doc]) if any(p - gap in ends for gap in gaps)}
                if not ends:
                    break
            if ends:
                out.add(doc)
        return out

    def deleted(self) -> set[int]:
        out: set[int] = set()
        for reader, offset in self.leaves:
            if reader.has_deletions():
                out.update(d + offset for d in reader.deleted_docs_set)
        return out


Block = tuple[Sequence[int], Sequence[float], Sequence[Any]]  # ids, frequencies, values


def posting_blocks(matcher: Any) -> Iterator[Block]:
    """A term's document numbers, frequencies and values (positions), a block at a time,
    deleted documents included. Reads Whoosh's block arrays directly (its matcher would
    make several Python calls per posting); another matcher goes posting by posting."""
    if not isinstance(matcher, W3LeafMatcher):
        items = [(d, matcher.weight(), matcher.value()) for d in _each(matcher)]
        yield [d for d, _, _ in items], [w for _, w, _ in items], [v for _, _, v in items]
        return
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        if matcher._ids is None:
            # ids are stored as deltas: accumulate() decodes them in C (Whoosh: a generator)
            deltas = matcher._data[0]
            matcher._ids = deltas if matcher._byteids else tuple(accumulate(deltas))
        if matcher._weights is None:
            matcher._read_weights()
        if matcher._values is None:
            matcher._read_values()
        start = matcher._i
        yield matcher._ids[start:], matcher._weights[start:], matcher._values[start:]
        matcher._next_block()


def _each(matcher: Any) -> Iterator[int]:
    while matcher.is_active():
        yield matcher.id()
        matcher.next()


def matching_docs(
    searcher: Searcher, query: wq.Query | None, created: array, postings: Postings | None = None
) -> set[int]:
    """Global document numbers of every live item matching the query (None = all items)."""
    ev = _Evaluator(searcher, created, postings or Postings(searcher))
    docs = ALL if query is None else ev.docs(query)
    if docs is ALL:
        docs = ev.everything()
    docs -= ev.deleted()
    docs.discard(meta_docnum(searcher))
    return docs
