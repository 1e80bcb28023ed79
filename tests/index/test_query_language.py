"""A query that cannot be read is searched as words, and the person is told why."""

from __future__ import annotations

import pytest

from .conftest import post


@pytest.fixture
def searchable(archive, runs, index):
    runs.commit(
        [
            post(1, "Road closed near the police station"),
            post(2, "Smoke alarms save lives"),
            post(3, "Crews from the fire station"),
            post(4, "Police appeal: have you seen this man?"),
        ]
    )
    index.update(archive)
    return index


@pytest.mark.parametrize(
    ("q", "reason", "expected"),
    [
        ('police "road closed', "a quote is not closed", ["1"]),
        ("(smoke OR crews", "a bracket is not closed", []),
        ("station)", "a closing bracket has no opening one", ["1", "3"]),
        ("station OR", "OR needs something after it", ["1", "3"]),
        ("OR station", "OR needs something before it", ["1", "3"]),
        ("station NOT", "NOT needs something after it", ["1", "3"]),
        ("form:police", "unknown operator form:", []),
        ("police from:", "from: needs a value", []),
        ("since:yesterday police", "since: needs a date as YYYY-MM-DD, got 'yesterday'", []),
        (
            "kind:banana",
            "unknown kind 'banana' (kinds: post, reply, repost, quote, mention, like, "
            "bookmark, dm, follower, following, list, list_member, profile, block)",
            [],
        ),
        (
            "has:sound",
            "unknown has:sound (has: hashtags, images, links, media, mentions, videos)",
            [],
        ),
        ("is:gone", "unknown is:gone (is: deleted, edited, ended, quote, reply, repost)", []),
        ("police ()", "brackets hold nothing", ["1", "4"]),
    ],
)
def test_a_malformed_query_is_searched_as_words(searchable, q, reason, expected):
    result = searchable.search(q)
    assert result.notice == f"query could not be parsed ({reason}); searched as words"
    assert sorted(h.id for h in result.hits) == expected
    assert result.total == len(expected)


def test_a_query_with_nothing_to_search_finds_nothing_and_says_so(searchable):
    result = searchable.search("!!! ???")
    assert (result.total, result.notice) == (0, "nothing in the query can be searched")
    broken = searchable.search('"""')
    assert broken.total == 0
    assert broken.notice == "query could not be parsed (a quote is not closed); searched as words"


@pytest.mark.parametrize("q", ["https://example.gov.uk/news", "10:30 station", "e-mail", "Police"])
def test_ordinary_text_with_punctuation_is_not_an_error(searchable, q):
    assert searchable.search(q).notice is None


def test_an_empty_query_lists_everything_newest_first(searchable):
    result = searchable.search("")
    assert (result.total, result.notice) == (4, None)


def test_lowercase_or_and_not_are_words(searchable):
    assert searchable.search("station or").total == 0
    assert searchable.search("station OR").total == 2  # read as words, with a notice
