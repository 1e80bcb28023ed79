"""Relevance order: BM25, Whoosh's formula and defaults, computed a posting block at a time.

Whoosh's collector scores a match through half a dozen Python calls (~7 µs each match);
here a term's block of ids and frequencies is scored in one tight loop against the field
lengths read whole (Columns), for the documents the query matched (docsets).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from math import log

from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from archiver.index import schema as f
from archiver.index.columns import Columns
from archiver.index.docsets import Postings

K1 = 1.2
B = 0.75


def by_relevance(
    searcher: Searcher,
    columns: Columns,
    postings: Postings,
    words: Iterable[str],
    docs: set[int],
    want: int,
) -> list[tuple[float, int]]:
    """The `want` best of `docs` for the words, best first; ties and documents that matched
    without a scored word (e.g. `word OR kind:dm`) follow in date order."""
    total = searcher.doc_count_all()
    average = searcher.avg_field_length(f.TEXT) or 1
    lengths = {offset: columns.text_lengths(reader) for reader, offset in postings.leaves}
    # BM25's length normalisation for each of the 256 stored length bytes
    norm = [K1 * ((1 - B) + B * byte_to_length(b) / average) for b in range(256)]
    weights = {}
    for word in words:
        frequency = searcher.doc_frequency(f.TEXT, word)
        if frequency:
            weights[word] = (log(total / (frequency + 1)) + 1) * (K1 + 1)
    scores: dict[int, float] = {}
    if len(weights) == 1:  # one word (the usual query): score straight into the heap
        [(word, weight)] = weights.items()
        best = heapq.nlargest(
            want,
            (
                (weight * tf / (tf + norm[lengths[offset][doc]]), doc + offset)
                for offset, blocks in postings.blocks(f.TEXT, word)
                for ids, freqs, _ in blocks
                for doc, tf in zip(ids, freqs, strict=True)
                if doc + offset in docs
            ),
        )
        scores = {d: s for s, d in best}
    else:
        for word, weight in weights.items():
            get = scores.get
            for offset, blocks in postings.blocks(f.TEXT, word):
                segment_lengths = lengths[offset]
                for ids, freqs, _ in blocks:
                    for doc, tf in zip(ids, freqs, strict=True):
                        if doc + offset in docs:
                            key = doc + offset
                            length = segment_lengths[doc]
                            scores[key] = get(key, 0.0) + weight * tf / (tf + norm[length])
        best = heapq.nlargest(want, ((s, d) for d, s in scores.items()))
    if len(best) < want:
        created = columns.created(searcher)
        rest = (d for d in docs if d not in scores)
        best += [(0.0, d) for d in heapq.nlargest(want - len(best), rest, key=created.__getitem__)]
    return best
