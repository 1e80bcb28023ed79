"""The gate for any Whoosh upgrade: on a fixed index, the index's own evaluation (decoded
postings, column arrays, vectorised BM25) answers exactly what Whoosh's searcher answers:
the same result sets and totals, the same facets, the same BM25 scores and order.

To try a candidate Whoosh: install it, then run this file with ARCHIVER_WHOOSH_UNTESTED=1
(archiver.index otherwise refuses a version it was not tested with).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
import whoosh
from whoosh import query as wq
from whoosh import sorting

from archiver.index import schema as f
from archiver.index import sidecars, whoosh_internals
from archiver.index.docsets import matching_docs
from archiver.index.items import IndexedItem
from archiver.index.postings import PostingCache, Postings
from archiver.index.query import parse_query
from archiver.index.ranking import by_relevance
from storage.records import PLATFORMS

from .conftest import FIRE, POLICE, deletion, post

# a Zipf-like vocabulary: a few words in most posts, most words in a few
WORDS = [f"w{i}" for i in range(300)]
WEIGHTS = [1 / (i + 1) for i in range(len(WORDS))]
KINDS = ["post", "post", "post", "reply", "quote", "repost", "like", "mention"]


def _text(rng: random.Random) -> str:
    words = rng.choices(WORDS, WEIGHTS, k=rng.randint(2, 30))
    if rng.random() < 0.3:
        words.append(f"#{rng.choice(['appeal', 'roads', 'fire'])}")
    return " ".join(words)


def _build(archive: Any, runs: Any, index: Any) -> None:
    """A seeded archive: two accounts, five runs each (five segments or more), ~1,200
    items over four years, with edits and deletions in later runs."""
    rng = random.Random(20240101)
    next_id = 10_000
    posted: dict[tuple[str, str], list[tuple[int, str]]] = {POLICE: [], FIRE: []}
    for _ in range(5):
        for account in (POLICE, FIRE):
            batch = []
            for _ in range(120):
                next_id += rng.randint(1, 5)
                day = f"20{rng.randint(21, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                text, kind = _text(rng), rng.choice(KINDS)
                batch.append(
                    post(
                        next_id,
                        text,
                        kind=kind,
                        account=account,
                        created_at=f"{day}T{rng.randint(0, 23):02d}:00:00.000Z",
                        hashtags=[w[1:] for w in text.split() if w.startswith("#")],
                        lang=rng.choice(["en", "en", "cy"]),
                    )
                )
                posted[account].append((next_id, kind))
            earlier = posted[account][:-120]
            events = []
            if earlier:
                for old, kind in rng.sample(earlier, 8):  # edited: a new text for an old id
                    batch.append(post(old, _text(rng), kind=kind, account=account))
                events = [
                    deletion(str(old)) for old, kind in rng.sample(earlier, 4) if kind == "post"
                ]
            runs.commit(batch, account=account, events=events)
        index.update(archive)


@pytest.fixture
def fixed(archive, runs, index, monkeypatch):
    # frequent terms from sidecars (sidecars.py), the others decoded from Whoosh's blocks
    monkeypatch.setattr(sidecars, "MIN_POSTINGS", 40)
    _build(archive, runs, index)
    assert any((index.path / sidecars.DIRNAME).iterdir())
    assert len(list(index._searcher().reader().leaf_readers())) > 1
    return index


QUERIES = [
    "w0",
    "w1",
    "w7",
    "w150",
    "w299",
    "w0 w3",
    "w2 w40",
    "w5 OR w60",
    "w1 -w2",
    "NOT w0",
    '"w0 w1"',
    '"w1 w0 w2"',
    '"w40 w0"',  # a rarer word first: only its candidates' positions of w0 are read
    '"w0 w40"~3',
    "w1*",
    "w3 kind:reply",
    "w4 account:exampleshirefire OR w9",
    "#appeal",
    "w0 lang:cy",
    "w6 since:2022-01-01 until:2023-06-01",
    "is:edited",
    "is:deleted w0",
]
FILTERS = [
    {"account": FIRE[1]},
    {"kind": "post", "since": "2022-03-01"},
    {"until": "2023-01-01"},
]


def _query(index: Any, parsed: Any, filters: dict[str, str]) -> Any:
    return index._with_filters(
        parsed, *(filters.get(k) for k in ("account", "kind", "since", "until"))
    )


def _whoosh_answer(index: Any, searcher: Any, q: str, filters: dict[str, str]) -> dict[str, Any]:
    """What Whoosh's own searcher says: the matching documents (not the meta document),
    each one's BM25F score for the query's words, and each one's date order."""
    parsed = parse_query(q)
    query = _query(index, parsed, filters)
    meta = wq.Term(f.KEY, f.META_KEY)
    # Whoosh's searcher can return deleted documents for a negation (its InverseMatcher
    # asks the whole index, not the segment, whether a docnum is deleted): not reproduced
    deleted = searcher.reader().is_deleted
    found = searcher.search(query or wq.Every(), limit=None, mask=meta).docs()
    docs = {d for d in found if not deleted(d)}
    scores: dict[int, float] = {}
    if parsed.words and docs:  # (an empty filter set is no filter to Whoosh)
        words = wq.Or([wq.Term(f.TEXT, w) for w in sorted(parsed.words)])
        for hit in searcher.search(words, limit=None, filter=docs):
            scores[hit.docnum] = hit.score
    by_date = searcher.search(
        query or wq.Every(),
        limit=None,
        mask=meta,
        sortedby=sorting.FieldFacet(f.CREATED, reverse=True),
    )
    return {
        "docs": docs,
        "scores": scores,
        "by_date": [h.docnum for h in by_date if h.docnum in docs],
    }


def _item(searcher: Any, docnum: int) -> IndexedItem:
    stored = searcher.stored_fields(docnum)
    return IndexedItem.from_stored(stored[f.KEY], stored[f.STATE])


def _facets(searcher: Any, docs: set[int]) -> dict[str, Counter[str]]:
    """Facet counts read from each matching document's stored state."""
    facets = ("account", "platform", "kind", "year", "month")
    counts: dict[str, Counter[str]] = {k: Counter() for k in facets}
    # the platform as Whoosh's own postings of the platform field say
    platform_of = {d: p for p in PLATFORMS for d in searcher.docs_for_query(wq.Term(f.PLATFORM, p))}
    for docnum in docs:
        latest = _item(searcher, docnum).latest
        counts["account"][latest["account"]] += 1
        counts["platform"][platform_of[docnum]] += 1
        counts["kind"][latest["kind"]] += 1
        counts["year"][latest["created_at"][:4]] += 1
        counts["month"][latest["created_at"][:7]] += 1
    return counts


def test_results_totals_facets_and_scores_are_whooshs(fixed):
    searcher = fixed._searcher()
    arrays = fixed._columns.arrays(searcher)
    cases = [({}, q) for q in QUERIES] + [(d, q) for d in FILTERS for q in QUERIES[::4]]
    for filters, q in cases:
        expected = _whoosh_answer(fixed, searcher, q, filters)
        parsed = parse_query(q)
        query = _query(fixed, parsed, filters)
        postings = Postings(searcher, PostingCache())
        matches = matching_docs(searcher, query, arrays.created, postings)
        assert matches.as_set() == expected["docs"], (q, filters)
        # every match's score, and the order: best first, equal scores highest docnum first
        if parsed.scored and matches:
            ranked = by_relevance(
                searcher, arrays.lengths, arrays.created, postings, parsed.words, matches, 10**6
            )
            scored = [(s, d) for s, d in ranked if s > 0]
            assert {d: s for s, d in scored} == pytest.approx(expected["scores"], rel=1e-12), q
            assert scored == sorted(scored, key=lambda sd: (-sd[0], -sd[1])), q
        # the UI's call: total, facets, the first page in either order
        want = _facets(searcher, expected["docs"])
        for sort in ("relevance", "date"):
            result = fixed.search(q, sort=sort, per_page=25, **filters)
            assert result.total == len(expected["docs"]), q
            assert {k: Counter(v) for k, v in result.facets.items()} == want, q
            page = [hit.id for hit in result.hits]
            if sort == "date":
                newest = expected["by_date"][:25]
            else:
                best = sorted(expected["scores"].items(), key=lambda ds: (-ds[1], -ds[0]))
                newest = [d for d, _ in best][:25]
                newest += [d for d in expected["by_date"] if d not in expected["scores"]]
            assert page == [_item(searcher, d).id for d in newest[:25]], (q, sort)
            if sort == "relevance":
                by_docnum = {_item(searcher, d).id: s for d, s in expected["scores"].items()}
                for hit in result.hits:
                    assert hit.score == round(by_docnum.get(hit.id, 0.0), 4), q


def test_an_untested_whoosh_is_refused_with_one_line():
    fake = (
        "import whoosh; whoosh.versionstring = lambda: '9.9.9'; "
        "import archiver.index; print('loaded')"
    )
    env = {k: v for k, v in os.environ.items() if k != whoosh_internals.ALLOW_UNTESTED}
    done = subprocess.run([sys.executable, "-c", fake], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: Whoosh 9.9.9 is installed;")
    assert f"{whoosh_internals.DISTRIBUTION}=={whoosh_internals.TESTED_VERSION}" in lines[0]
    allowed = subprocess.run(
        [sys.executable, "-c", fake],
        capture_output=True,
        text=True,
        env={**os.environ, whoosh_internals.ALLOW_UNTESTED: "1"},
    )
    assert allowed.returncode == 0 and allowed.stdout.strip() == "loaded"


def test_the_tested_version_is_the_one_installed_and_pinned():
    from pathlib import Path

    assert whoosh.versionstring() == whoosh_internals.TESTED_VERSION
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    pin = f'"{whoosh_internals.DISTRIBUTION}=={whoosh_internals.TESTED_VERSION}"'
    assert pin in pyproject
