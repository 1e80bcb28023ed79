"""Relevance order: BM25, Whoosh's formula and defaults, computed over whole arrays.

Whoosh's collector scores a match through half a dozen Python calls (~7 µs each match);
here each word's decoded postings (postings.py) are scored at once against the text
lengths column, for the documents the query matched (docsets), and the best are picked
with a partial sort.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from whoosh.searching import Searcher

from archiver.index import schema as f
from archiver.index.docsets import Matches
from archiver.index.postings import Postings
from archiver.index.whoosh_internals import LENGTH_OF_BYTE

K1 = 1.2
B = 0.75
_LENGTH_OF_BYTE = np.array(LENGTH_OF_BYTE, dtype=np.float64)


def by_relevance(
    searcher: Searcher,
    lengths: np.ndarray,
    created: np.ndarray,
    postings: Postings,
    words: Iterable[str],
    matches: Matches,
    want: int,
) -> list[tuple[float, int]]:
    """The `want` best matches for the words as (score, docnum), best first; equal scores
    by docnum, highest first; matches without a scored word (e.g. `word OR kind:dm`) follow
    in date order."""
    total = searcher.doc_count_all()
    average = searcher.avg_field_length(f.TEXT) or 1
    # BM25's length normalisation for each of the 256 stored length bytes
    norm = K1 * ((1 - B) + B * _LENGTH_OF_BYTE / average)
    contributions = []
    for word in set(words):
        term = postings.term(f.TEXT, word)
        if not len(term.ids):
            continue
        weight = (np.log(total / (searcher.doc_frequency(f.TEXT, word) + 1)) + 1) * (K1 + 1)
        matched = matches.mask[term.ids]
        if matched.all():  # a word alone, or ANDed with words it always meets: no copies
            ids, tf = term.ids, term.freqs.astype(np.float64)
        else:
            ids, tf = term.ids[matched], term.freqs[matched].astype(np.float64)
        contributions.append((ids, weight * tf / (tf + norm[lengths[ids]])))
    docs = matches.ids
    if len(contributions) == 1 and len(contributions[0][0]) == len(docs):
        # one scored word whose postings are the matches (both sorted): its scores are
        # theirs, in order, with no array over every document
        doc_scores = contributions[0][1]
    else:
        scores = np.zeros(total)
        for ids, score in contributions:
            scores[ids] += score
        doc_scores = scores[docs]
    scored = doc_scores > 0
    if scored.all():
        ranked = _best(doc_scores, docs, want)
    else:
        ranked = _best(doc_scores[scored], docs[scored], want)
    if len(ranked) < want:
        ranked += newest(created, docs[~scored], want - len(ranked))
    return ranked


def newest(created: np.ndarray, docs: np.ndarray, want: int) -> list[tuple[float, int]]:
    """The `want` most recent of docs as (0.0, docnum), newest first."""
    return [(0.0, d) for _, d in _best(created[docs], docs, want)]


def _best(keys: np.ndarray, docs: np.ndarray, want: int) -> list[tuple[float, int]]:
    """The `want` highest keys as (key, docnum), highest first, equal keys by docnum."""
    if want <= 0 or not len(docs):
        return []
    if len(keys) > want:
        # a partial sort finds the cut-off; keys equal to it are taken by docnum
        cut = np.partition(keys, len(keys) - want)[len(keys) - want]
        above = np.flatnonzero(keys > cut)
        level = np.flatnonzero(keys == cut)
        level = level[np.argsort(-docs[level], kind="stable")][: want - len(above)]
        chosen = np.concatenate([above, level])
    else:
        chosen = np.arange(len(keys))
    order = chosen[np.lexsort((-docs[chosen], -keys[chosen]))]
    return list(zip(keys[order].tolist(), docs[order].tolist(), strict=True))
