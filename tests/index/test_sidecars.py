"""Sidecars: a segment's frequent terms decoded once at commit and memory-mapped by a fresh
process; the answers are the same with them, without them, and Whoosh's."""

from __future__ import annotations

import json
import random
import shutil
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.index import Index, columns, segments, sidecars
from archiver.index.postings import read_term
from archiver.index.schema import ACCOUNT, KIND, TEXT
from archiver.index.whoosh_internals import segment_id

from .conftest import FIRE, POLICE, deletion, post

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
    assert {p.name for p in root.iterdir()} == {sidecars.folder_name(segment_id(r)) for r in leaves}
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
        (folder / sidecars.META_FILE).unlink()  # an unreadable sidecar: decoded from Whoosh
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
    assert {p.name for p in root.iterdir()} == {sidecars.folder_name(only)}
    assert sidecars.folder_name(only) not in before


def test_warming_maps_the_sidecars_and_reads_the_columns(archive, runs, index, low_threshold):
    _commit(archive, runs, index, random.Random(4), rounds=2)
    fresh = Index(index.path)
    fresh.warm()
    assert fresh._columns._merged is not None
    leaves = [r for r, _ in fresh._searcher().reader().leaf_readers()]
    assert all(fresh._sidecars.has(r) for r in leaves)
    fresh.close()


def test_sidecar_columns_equal_whooshs_columns_and_months(archive, runs, index, low_threshold):
    _commit(archive, runs, index, random.Random(6))
    source = sidecars.Sidecars(index.path)
    leaves = [r for r, _ in index._searcher().reader().leaf_readers()]
    for reader in leaves:
        kept = source.columns(reader)
        assert kept is not None
        whoosh = columns.read_columns(reader, ("UTC", "Europe/London"))
        assert set(kept.months) == {"UTC", "Europe/London"}  # the index's zone, and UTC
        for name in ("created", "accounts", "kinds", "lengths"):
            assert np.array_equal(getattr(kept, name), getattr(whoosh, name)), name
        assert np.array_equal(kept.accounts[kept.account], whoosh.accounts[whoosh.account])
        for zone, months in whoosh.months.items():
            assert np.array_equal(kept.months[zone], months), zone


def test_facets_in_any_zone_are_the_same_with_and_without_sidecar_columns(
    archive, runs, index, low_threshold
):
    _commit(archive, runs, index, random.Random(9))
    with_sidecars = Index(index.path)
    zones = ("Europe/London", "UTC", "America/New_York", "Asia/Kolkata")  # kept, kept, not, not
    expected = {z: with_sidecars.search("road", zone=z).facets for z in zones}
    assert with_sidecars._columns._segments
    assert all(
        with_sidecars._sidecars.has(r) for r, _ in with_sidecars._searcher().reader().leaf_readers()
    )
    without = Index(index.path)
    without._columns.source = None  # Whoosh's column files, months computed
    for zone in zones:
        assert without.search("road", zone=zone).facets == expected[zone], zone


def test_sidecars_of_an_older_version_are_written_again(archive, runs, index, low_threshold):
    _commit(archive, runs, index, random.Random(3), rounds=1)
    root = index.path / sidecars.DIRNAME
    (current,) = root.iterdir()
    old = root / current.name.rsplit("-v", 1)[0]  # version 1 was named by the segment alone
    current.rename(old)
    index.update(archive)  # nothing pending: the sidecars are brought up to date
    assert [p.name for p in root.iterdir()] == [current.name]
    assert Index(index.path)._sidecars.columns(index._searcher().reader().leaf_readers()[0][0])


@pytest.mark.parametrize("damage", ["truncated", "bad layout", "not json"])
def test_a_damaged_sidecar_is_passed_over_with_a_warning(
    archive, runs, index, low_threshold, damage, caplog
):
    """A sidecar is derived data: one cut short, with a layout pointing outside its file,
    or unreadable is ignored (Whoosh's blocks and columns answer), never trusted."""
    _commit(archive, runs, index, random.Random(11), rounds=1)
    expected = Index(index.path, cache_mb=0).search("road", per_page=50).to_dict()
    (folder,) = (index.path / sidecars.DIRNAME).iterdir()
    meta_file = folder / sidecars.META_FILE
    if damage == "truncated":
        data = folder / sidecars.ARRAYS_FILE
        data.write_bytes(data.read_bytes()[:100])
    elif damage == "bad layout":
        meta = json.loads(meta_file.read_text())
        meta["arrays"]["created"][1] = -64
        meta_file.write_text(json.dumps(meta))
    else:
        meta_file.write_text("{not json")
    fresh = Index(index.path, cache_mb=0)
    assert fresh.search("road", per_page=50).to_dict() == expected
    assert not any(fresh._sidecars._mapped.values())
    assert "unreadable" in caplog.text


def test_account_facets_across_segments_of_different_accounts(archive, runs, index, low_threshold):
    """Segments hold different sets of accounts (ordinals first met in one segment, new
    ones in the next, a segment of one account that is not the first): each post counts
    for its own account, with and without sidecars."""
    accounts = [(str(700 + n), f"Force{n}") for n in range(4)]
    next_id = 1
    for members in ([0, 1], [2, 1, 3], [3]):
        batch = []
        for n in members:
            for _ in range(5 + n):
                batch.append(post(next_id, "road closed", account=accounts[n]))
                next_id += 1
        for n in members:
            runs.commit(
                [p for p in batch if p["account_id"] == accounts[n][0]], account=accounts[n]
            )
        index.update(archive)
    assert len(index._searcher().reader().leaf_readers()) > 1
    expected = {
        f"Force{n}": (5 + n) * sum(n in m for m in ([0, 1], [2, 1, 3], [3])) for n in range(4)
    }
    fresh = Index(index.path)
    leaves = [r for r, _ in fresh._searcher().reader().leaf_readers()]
    assert [fresh._sidecars.has(r) for r in leaves].count(True) >= 2  # and one without
    assert not all(fresh._sidecars.has(r) for r in leaves)
    with_sidecars = fresh.search("road").facets["account"]
    without = Index(index.path)
    without._columns.source = None
    assert with_sidecars == without.search("road").facets["account"] == expected


BLUESKY = ("bluesky:did:plc:abcdefghijklmnopqrstuvwx", "police.bsky.social")


def _mixed_archive(archive, runs, rng: random.Random) -> None:
    """Three accounts on two platforms, posts of several kinds, long and empty texts,
    edits and deletions in later runs: what a rebuild reads."""
    next_id = 5000
    for round_ in range(3):
        for account in (POLICE, FIRE, BLUESKY):
            batch, events = [], []
            for _ in range(40):
                next_id += 1
                n = rng.choice([0, 2, 6, 14, 320])  # positions past 255, wordless texts
                day = f"20{rng.randint(21, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                record = post(
                    next_id,
                    " ".join(rng.choice(WORDS) for _ in range(n)),
                    kind=rng.choice(["post", "post", "reply", "quote", "like"]),
                    account=account,
                    created_at=None if rng.random() < 0.05 else f"{day}T23:30:00.000Z",
                    hashtags=rng.sample(["appeal", "roads"], rng.randint(0, 2)),
                    lang=rng.choice(["en", "cy", None]),
                )
                if account is BLUESKY:
                    record.update(source="bluesky-repo", platform="bluesky")
                batch.append(record)
            if round_:
                for old in rng.sample(range(5001, next_id - 40), 6):  # a new text, same id
                    batch.append(post(old, "road closed again", account=account))
                events = [deletion(str(old)) for old in rng.sample(range(5001, next_id - 40), 3)]
            runs.commit(batch, account=account, events=events)


def test_the_builders_sidecars_are_those_decoded_from_its_segments(
    archive, runs, tmp_path, low_threshold, monkeypatch
):
    """A rebuild's segment builder writes each segment's sidecar from its own arrays: the
    same files, byte for byte, as decoding the segment (write_missing) makes."""
    monkeypatch.setattr(segments, "POSTINGS_PER_SEGMENT", 1500)  # several segments
    _mixed_archive(archive, runs, random.Random(12))
    index = Index(tmp_path / "built", zone="Europe/London")
    index.rebuild(archive)
    leaves = [r for r, _ in index._searcher().reader().leaf_readers()]
    assert len(leaves) >= 3
    root = index.path / sidecars.DIRNAME
    built = tmp_path / "written-by-the-builder"
    shutil.move(root, built)
    assert {p.name for p in built.iterdir()} == {
        sidecars.folder_name(segment_id(r)) for r in leaves
    }
    with index._ix.searcher() as searcher:
        assert sidecars.write_missing(index.path, searcher, index._zones) == len(leaves)
    for folder in built.iterdir():
        meta = json.loads((folder / sidecars.META_FILE).read_text())
        assert meta["zones"] == ["Europe/London", "UTC"]
        assert {TEXT, KIND, ACCOUNT} <= set(meta["terms"])
        mine = sidecars._map_arrays(folder / sidecars.ARRAYS_FILE, meta["arrays"])
        decoded_meta = json.loads((root / folder.name / sidecars.META_FILE).read_text())
        decoded = sidecars._map_arrays(root / folder.name / sidecars.ARRAYS_FILE, meta["arrays"])
        assert meta == decoded_meta
        for name, values in mine.items():  # array for array, to say which one differs
            assert values.dtype == decoded[name].dtype, name
            assert np.array_equal(values, decoded[name]), name
        for name in (sidecars.META_FILE, sidecars.ARRAYS_FILE):  # and byte for byte
            assert (folder / name).read_bytes() == (root / folder.name / name).read_bytes()


def test_a_smaller_segment_keeps_words_of_the_same_share_of_its_documents():
    # a full segment (200,000 documents or more): 1,000 postings; a worker's third of one:
    # a third of that; never below 100
    assert sidecars.frequent_from(10_000_000) == sidecars.frequent_from(200_000) == 1000
    assert sidecars.frequent_from(70_000) == 350
    assert sidecars.frequent_from(5_000) == sidecars.frequent_from(0) == 100


def test_a_word_of_half_a_percent_of_a_small_segments_documents_is_in_its_sidecar(
    archive, runs, tmp_path
):
    # 1,200 posts: "often" in 130 (under 1,000 but over the floor of 100), "seldom" in 60
    records = [
        post(i, "often here" if i % 9 == 0 else "seldom here" if i % 20 == 1 else "plain here")
        for i in range(1, 1201)
    ]
    runs.commit(records)
    index = Index(tmp_path / "index")
    index.rebuild(archive)
    searcher = index._searcher()
    (reader,) = [r for r, _ in searcher.reader().leaf_readers() if r.doc_count_all() > 1]
    built = sidecars.Sidecars(index.path)  # the builder's own
    assert built.term(reader, TEXT, "often", positions=False) is not None
    assert built.term(reader, TEXT, "seldom", positions=False) is None
    shutil.rmtree(index.path / sidecars.DIRNAME)
    sidecars.write_missing(index.path, searcher)  # decoded from the segment's files
    decoded = sidecars.Sidecars(index.path)
    assert decoded.term(reader, TEXT, "often", positions=False) is not None
    assert decoded.term(reader, TEXT, "seldom", positions=False) is None
    index.close()


class _Segment:
    """What Sidecars asks of a leaf reader: its segment's id."""

    def __init__(self, seg: str) -> None:
        self._seg = seg

    def segment(self) -> _Segment:
        return self

    def segment_id(self) -> str:
        return self._seg


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.tuples(
            st.sets(st.integers(0, 300_000), min_size=1, max_size=400),
            st.booleans(),  # a text term (positions) or not
            st.integers(0, 3),  # how far its freqs stray from its counts (0: not at all)
        ),
        min_size=1,
        max_size=12,
    )
)
def test_docnums_past_16_bits_and_counts_read_back(tmp_path_factory, data) -> None:
    """Ids are kept as 16 bits and their wraps; counts are left out when they are the
    freqs, and kept when they are not: every term reads back as added."""
    folder = tmp_path_factory.mktemp("sidecar")
    rng = np.random.default_rng(len(data))
    frequent = sidecars.FrequentTerms()
    added: dict[tuple[str, str], tuple[Any, ...]] = {}
    for n, (docnums, text, stray) in enumerate(data):
        ids = np.array(sorted(docnums), np.int32)
        counts = rng.integers(1, 4, len(ids)).astype(np.int32)
        freqs = (counts + (np.arange(len(ids)) % 2) * stray).astype(np.float32)
        positions = rng.integers(0, 600, int(counts.sum())).astype(np.int32) if text else None
        field = TEXT if text else KIND
        frequent.add(field, f"t{n}", ids, freqs, counts if text else None, positions)
        added[(field, f"t{n}")] = (ids, freqs, counts, positions)
    length = 300_001
    zeros = np.zeros(length, np.int64)
    cols = columns.segment_columns(zeros, zeros, zeros.astype(np.uint8), zeros.astype(np.uint8))
    sidecars.write_sidecar(sidecars.segment_folder(folder, "SEG"), frequent, cols, ())
    stored = json.loads((sidecars.segment_folder(folder, "SEG") / sidecars.META_FILE).read_text())
    strays = any(stray and text and len(d) > 1 for d, text, stray in data)
    assert ("counts" in stored["arrays"]) == strays
    assert stored["arrays"]["ids"][0] in ("<u2", "|u1")  # 16 bits, not 32
    source = sidecars.Sidecars(folder)
    for (field, text), (ids, freqs, counts, positions) in added.items():
        term = source.term(_Segment("SEG"), field, text, positions=True)
        assert term is not None
        assert np.array_equal(term.ids, ids) and np.array_equal(term.freqs, freqs)
        if field == TEXT:
            assert term.counts is not None and term.positions is not None
            assert np.array_equal(term.counts, counts)
            assert np.array_equal(term.positions, positions)
        else:
            assert term.counts is None and term.positions is None


def test_a_sidecar_of_version_2_is_still_read(tmp_path) -> None:
    """Until the next update writes the segment's v3 sidecar: full ids, counts kept."""
    ids = np.array([3, 70_000, 200_000], np.uint32)
    arrays: dict[str, np.ndarray] = {
        "ids": ids,
        "freqs": np.array([2, 1, 1], np.uint8),
        "counts": np.array([2, 1, 1], np.uint8),
        "positions": np.array([0, 4, 7, 9], np.uint8),
    }
    zeros = np.zeros(200_001, np.int64)
    cols = columns.segment_columns(zeros, zeros, zeros.astype(np.uint8), zeros.astype(np.uint8))
    for name in sidecars._COLUMNS:
        arrays[name] = getattr(cols, name)
    folder = tmp_path / sidecars.DIRNAME / sidecars.folder_name("SEG", 2)
    folder.mkdir(parents=True)
    layout = sidecars._write_arrays(folder / sidecars.ARRAYS_FILE, arrays)
    meta = {"version": 2, "terms": {TEXT: {"road": [0, 3, 0, 4]}}, "zones": [], "arrays": layout}
    (folder / sidecars.META_FILE).write_text(json.dumps(meta))
    term = sidecars.Sidecars(tmp_path).term(_Segment("SEG"), TEXT, "road", positions=True)
    assert term is not None and term.counts is not None and term.positions is not None
    assert term.ids.tolist() == [3, 70_000, 200_000] and term.counts.tolist() == [2, 1, 1]
    assert term.positions.tolist() == [0, 4, 7, 9]
