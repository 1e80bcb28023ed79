"""Decoded postings: the cache's budget, and answers that do not depend on it or on how
the index is split into segments (phrases across segments compared with Whoosh's own)."""

from __future__ import annotations

import random

from archiver.index import Index
from archiver.index.docsets import matching_docs, meta_docnum
from archiver.index.postings import PostingCache, Postings, read_term
from archiver.index.query import parse_query
from archiver.index.schema import TEXT

from .conftest import post

WORDS = [
    "road",
    "closed",
    "appeal",
    "witness",
    "police",
    "station",
    "town",
    "centre",
    "burglary",
    "arrest",
]


def _commit_in_segments(archive, runs, index, rng: random.Random, rounds: int = 4) -> None:
    """Posts of a small vocabulary committed and indexed run by run: several segments,
    with later runs editing and deleting earlier posts (deleted docnums in old segments)."""
    next_id = 1
    for _ in range(rounds):
        batch = []
        for _ in range(40):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
            batch.append(post(next_id, text))
            next_id += 1
        for old in rng.sample(range(1, next_id - 40), min(10, next_id - 41)):
            batch.append(post(old, f"road closed near the station {old}"))  # edited
        runs.commit(batch)
        index.update(archive)


def test_phrases_and_words_agree_with_whoosh_across_segments(archive, runs, index):
    rng = random.Random(4)
    _commit_in_segments(archive, runs, index, rng)
    searcher = index._searcher()
    assert len(list(searcher.reader().leaf_readers())) > 1
    created = index._columns.created(searcher)
    queries = [f'"{a} {b}"' for a in WORDS[:5] for b in WORDS[:5]]
    queries += ['"road closed near the station"', '"closed road"~3', "police -station"]
    queries += ["appeal OR witness", "road station centre"]
    for q in queries:
        query = parse_query(q).query
        expected = set(searcher.docs_for_query(query)) - {meta_docnum(searcher)}
        postings = Postings(searcher, PostingCache())
        assert matching_docs(searcher, query, created, postings).as_set() == expected, q


def test_answers_do_not_depend_on_the_cache(archive, runs, index, tmp_path):
    _commit_in_segments(archive, runs, index, random.Random(7))
    uncached = Index(index.path, cache_mb=0)
    for q in ["road", '"road closed"', "appeal witness", "station -police", "town OR centre"]:
        for sort in ("relevance", "date"):
            cached_result = index.search(q, sort=sort, per_page=50).to_dict()
            assert cached_result == uncached.search(q, sort=sort, per_page=50).to_dict(), q
    assert uncached._postings.bytes == 0
    assert index._postings.bytes > 0


def test_the_cache_keeps_to_its_budget_and_drops_the_least_recently_used(archive, runs, index):
    _commit_in_segments(archive, runs, index, random.Random(3), rounds=1)
    reader = next(r for r, _ in index._searcher().reader().leaf_readers())
    one = PostingCache()
    sizes = {w: one.get(reader, TEXT, w, positions=True).nbytes for w in ("road", "polic")}
    cache = PostingCache(max_mb=(sizes["road"] + sizes["polic"] - 1) / 2**20)
    cache.get(reader, TEXT, "road", positions=True)
    cache.get(reader, TEXT, "polic", positions=True)  # over budget: "road" goes
    assert cache.bytes == sizes["polic"] <= cache.max_bytes
    assert [key[2] for key in cache._terms] == ["polic"]
    # a term cached without positions is decoded again, with them, when a phrase needs them
    cache.get(reader, TEXT, "road")
    assert cache.get(reader, TEXT, "road", positions=True).positions is not None
    assert cache.get(reader, TEXT, "no-such-word").ids.size == 0


def test_positions_read_in_bulk_equal_whoosh_decoding_them_one_by_one(archive, runs, index):
    long_text = " ".join(WORDS[i % 7] for i in range(400))  # positions past 255, repeats
    runs.commit([post(1, long_text), post(2, "appeal"), post(3, "road road closed road")])
    index.update(archive)
    reader = next(r for r, _ in index._searcher().reader().leaf_readers())
    fmt = reader.schema[TEXT].format
    for word in {t.decode() for t in reader.lexicon(TEXT)}:
        term = read_term(reader, TEXT, word, positions=True)
        matcher = reader.postings(TEXT, word)
        expected = []
        while matcher.is_active():
            expected.append(fmt.decode_positions(matcher.value()))
            matcher.next()
        assert term.counts.tolist() == [len(p) for p in expected], word
        assert term.positions.tolist() == [p for ps in expected for p in ps], word
