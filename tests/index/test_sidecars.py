"""Sidecars: a segment's frequent terms decoded once at commit and memory-mapped by a fresh
process; the answers are the same with them, without them, and Whoosh's."""

from __future__ import annotations

import random

import numpy as np
import pytest

from archiver.index import Index, sidecars
from archiver.index.postings import read_term
from archiver.index.schema import KIND, TEXT
from archiver.index.whoosh_internals import segment_id

from .conftest import post

WORDS = ["road", "closed", "appeal", "witness", "police", "station", "town", "centre"]


@pytest.fixture
def low_threshold(monkeypatch):
    monkeypatch.setattr(sidecars, "MIN_POSTINGS", 10)


def _commit(archive, runs, index, rng: random.Random, rounds: int = 3) -> None:
    next_id = 1
    for _ in range(rounds):
        batch = []
        for _ in range(60):
            long = rng.random() < 0.1  # repeats and positions past 255
            n = rng.randint(300, 400) if long else rng.randint(2, 14)
            batch.append(post(next_id, " ".join(rng.choice(WORDS) for _ in range(n))))
            next_id += 1
        batch += [post(old, "road closed by the station") for old in range(1, next_id - 60, 7)]
        runs.commit(batch)
        index.update(archive)


def test_each_segment_gets_a_sidecar_that_equals_whooshs_blocks(
    archive, runs, index, low_threshold
):
    _commit(archive, runs, index, random.Random(5))
    searcher = index._searcher()
    leaves = [r for r, _ in searcher.reader().leaf_readers()]
    assert len(leaves) > 1
    root = index.path / sidecars.DIRNAME
    assert {p.name for p in root.iterdir()} == {segment_id(r) for r in leaves}
    source = sidecars.Sidecars(index.path)
    checked = 0
    for reader in leaves:
        for word in WORDS:
            term = source.term(reader, TEXT, word, positions=True)
            if term is None:
                continue
            expected = read_term(reader, TEXT, word, positions=True)
            for name in ("ids", "freqs", "counts", "positions"):
                assert np.array_equal(getattr(term, name), getattr(expected, name)), word
            checked += 1
        kind = source.term(reader, KIND, "post", positions=False)
        assert kind is not None and kind.positions is None
        assert np.array_equal(kind.ids, read_term(reader, KIND, "post", False).ids)
    assert checked >= len(WORDS)


def test_answers_are_the_same_with_and_without_sidecars(archive, runs, index, low_threshold):
    _commit(archive, runs, index, random.Random(8))
    with_sidecars = Index(index.path, cache_mb=0)
    queries = ["road", '"road closed"', '"station road"~2', "appeal -town", "town OR centre"]
    expected = {
        (q, sort): with_sidecars.search(q, sort=sort, per_page=50).to_dict()
        for q in queries
        for sort in ("relevance", "date")
    }
    assert with_sidecars._sidecars._mapped  # the fresh process read them
    for folder in (index.path / sidecars.DIRNAME).iterdir():
        (folder / "terms.json").unlink()  # an unreadable sidecar: decoded from Whoosh
    without = Index(index.path, cache_mb=0)
    for (q, sort), result in expected.items():
        assert without.search(q, sort=sort, per_page=50).to_dict() == result, q
    assert not any(without._sidecars._mapped.values())


def test_segments_merged_away_lose_their_sidecars_and_old_indexes_gain_them(
    archive, runs, index, low_threshold
):
    _commit(archive, runs, index, random.Random(2))
    root = index.path / sidecars.DIRNAME
    before = {p.name for p in root.iterdir()}
    writer = index._ix.writer()
    writer.commit(optimize=True)  # one segment: the others are merged away
    index.update(archive)  # nothing pending: the new segment still gets its sidecar
    (only,) = [segment_id(r) for r, _ in index._searcher().reader().leaf_readers()]
    assert {p.name for p in root.iterdir()} == {only}
    assert only not in before


def test_warming_maps_the_sidecars_and_reads_the_columns(archive, runs, index, low_threshold):
    _commit(archive, runs, index, random.Random(4), rounds=2)
    fresh = Index(index.path)
    fresh.warm()
    assert fresh._columns._merged is not None
    leaves = [r for r, _ in fresh._searcher().reader().leaf_readers()]
    assert all(fresh._sidecars.has(r) for r in leaves)
    fresh.close()
