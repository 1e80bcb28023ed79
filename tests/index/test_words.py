"""Word, phrase and boolean queries give exactly what a scan of the archive's records gives."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.index.items import url_host
from archiver.index.schema import ANALYZER

from .conftest import (
    _LINK,
    ids,
    item_phrases,
    item_surface_words,
    item_words,
    post,
    view_items,
)


@pytest.fixture
def sample_archive(archive, runs, sample_posts, index):
    """Real sample posts in three runs; a later run edits one post and deletes another."""
    first, second = sample_posts[: len(sample_posts) // 2], sample_posts[len(sample_posts) // 2 :]
    runs.commit(first, kind="import")
    runs.commit(second)
    index.update(archive)
    return view_items(archive)


def test_every_word_finds_exactly_the_items_whose_text_has_it(sample_archive, index):
    words_of = {item.key: item_words(item) for item in sample_archive}
    typed = sorted(set().union(*(item_surface_words(item) for item in sample_archive)))
    assert len(typed) > 1000
    wrong = {}
    for n, word in enumerate(typed):
        stems = {t.text for t in ANALYZER(word)}
        expected = sorted({k.split("/")[0] for k, w in words_of.items() if stems <= w})
        found = sorted(index.iter_ids(word))
        if found != expected:
            wrong[word] = (expected, found)
        elif n % 10 == 0:  # the count a person sees agrees too
            assert index.search(word, highlight=False, facets=False).total == len(expected)
    assert wrong == {}


def test_two_words_or_and_not_match_the_scan(sample_archive, index):
    # stems typed as words: an alphabetic stem analyses to itself or to a shorter stem
    vocabulary = sorted(
        w
        for w in set().union(*(item_words(item) for item in sample_archive))
        if [t.text for t in ANALYZER(w)] == [w]
    )
    rng = random.Random(4)
    has = {i.key: item_words(i) for i in sample_archive}
    for _ in range(150):
        a, b = rng.sample(vocabulary, 2)
        assert sorted(index.iter_ids(f"{a} {b}")) == sorted(
            k for k, w in has.items() if a in w and b in w
        )
        assert sorted(index.iter_ids(f"{a} OR {b}")) == sorted(
            k for k, w in has.items() if a in w or b in w
        )
        assert sorted(index.iter_ids(f"{a} -{b}")) == sorted(
            k for k, w in has.items() if a in w and b not in w
        )


def test_phrases_match_consecutive_words(sample_archive, index):
    rng = random.Random(7)
    texts = [v["text"] for item in sample_archive for v in item.versions if v["text"]]
    for _ in range(60):
        text = rng.choice(texts)
        # the analyser reuses one token object: keep where each word is
        text = _LINK.sub(" ", text)
        tokens = [(t.startchar, t.endchar) for t in ANALYZER(text, chars=True)]
        if len(tokens) < 3:
            continue
        start = rng.randrange(len(tokens) - 1)
        typed = " ".join(text[a:b] for a, b in tokens[start : start + 2])
        phrase = [t.text for t in ANALYZER(typed)]
        expected = ids(
            item
            for item in sample_archive
            if any(
                tokens[i : i + len(phrase)] == phrase
                for tokens in item_phrases(item)
                for i in range(len(tokens))
            )
        )
        assert sorted(index.iter_ids(f'"{typed}"')) == expected, typed


def test_words_are_stemmed_and_case_blind(archive, runs, index):
    from .conftest import post

    runs.commit([post(1, "Two men ARRESTED after burglary"), post(2, "We arrest people")])
    index.update(archive)
    assert sorted(index.iter_ids("arrests")) == ["1", "2"]
    assert [t.text for t in ANALYZER("Arrested")] == [t.text for t in ANALYZER("arrest")]
    assert sorted(index.iter_ids("Burglary")) == ["1"]


def test_the_fast_path_matches_what_whoosh_itself_finds(sample_archive, index):
    """Doc sets are computed from posting blocks; Whoosh's matcher must agree."""
    from archiver.index.docsets import matching_docs, meta_docnum
    from archiver.index.postings import PostingCache, Postings
    from archiver.index.query import parse_query

    vocabulary = sorted(set().union(*(item_words(item) for item in sample_archive)))
    rng = random.Random(9)
    queries = ["", "kind:like", "-kind:like", "is:edited OR has:links", "since:2022-10-01"]
    for _ in range(40):
        a, b, c = rng.sample(vocabulary, 3)
        queries += [f'"{a} {b}"', f"{a} OR ({b} -{c})", f"{a}* until:2022-10-05", f"NOT {a}"]
    searcher = index._searcher()
    created = index._columns.created(searcher)
    for q in queries:
        query = parse_query(q).query
        if query is None:
            continue
        expected = set(searcher.docs_for_query(query)) - {meta_docnum(searcher)}
        postings = Postings(searcher, PostingCache())
        assert matching_docs(searcher, query, created, postings).as_set() == expected, q


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.sampled_from("htpsHTPS:/[]@.-?#aZ09 \t\n%é"), max_size=30),
        st.builds(
            lambda scheme, host, rest: f"{scheme}://{host}{rest}",
            st.sampled_from(["http", "https", "HTTPS", "ftp", " http"]),
            st.text(alphabet=st.sampled_from("aZ09.-_@:[]é \t"), max_size=15),
            st.text(alphabet=st.sampled_from("/?#x\t\n "), max_size=5),
        ),
    )
)
def test_a_urls_host_is_what_urlsplit_says_and_a_bad_url_has_none(url):
    try:
        expected = (urlsplit(url).hostname or "") if "//" in url else ""
    except ValueError:  # "http://[x": refused by urlsplit, no host term (and no crash)
        expected = ""
    assert url_host(url) == expected


def test_a_post_with_a_url_urlsplit_refuses_is_indexed(archive, runs, index):
    runs.commit([post(1, "road closed", urls=["http://[broken", "https://News.Example.org/a"])])
    index.update(archive)
    assert list(index.iter_ids("road")) == ["1"]
    assert list(index.iter_ids("url:news.example.org")) == ["1"]
