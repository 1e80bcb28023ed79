"""What a search returns: order, pages, highlights that are safe in HTML, and facets."""

from __future__ import annotations

from collections import Counter

import pytest

from .conftest import FIRE, post, view_items


@pytest.fixture
def month_of_posts(archive, runs, index):
    """30 police posts, one a day in January 2024, and 5 fire posts in December 2023."""
    police = [
        post(
            1000 + day,
            f"Daily update {day}: patrols in the town centre",
            created_at=f"2024-01-{day:02d}T12:00:00.000Z",
        )
        for day in range(1, 31)
    ]
    fire = [
        post(
            2000 + day,
            f"Fire safety tip {day}: test your alarm",
            account=FIRE,
            created_at=f"2023-12-{day:02d}T12:00:00.000Z",
        )
        for day in range(1, 6)
    ]
    runs.commit(police, kind="import")
    runs.commit(fire, account=FIRE, kind="import")
    runs.commit([post(3000, None, kind="follower", author="undated_person", created_at=None)])
    index.update(archive)
    return index


def test_date_order_is_newest_first_and_pages_cover_everything_once(month_of_posts):
    seen = []
    for page in (1, 2, 3, 4):
        result = month_of_posts.search("", sort="date", page=page, per_page=10)
        assert (result.total, result.pages) == (36, 4)
        seen += [h.id for h in result.hits]
    assert seen[:3] == ["1030", "1029", "1028"]
    assert seen[29:35] == ["1001", "2005", "2004", "2003", "2002", "2001"]
    assert seen[-1] == "3000"  # undated last
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 36


def test_a_page_past_the_end_is_empty_but_keeps_the_total(month_of_posts):
    result = month_of_posts.search("patrols", page=9, per_page=10)
    assert (result.total, result.hits) == (30, [])


def test_relevance_puts_the_closest_match_first(archive, runs, index):
    runs.commit(
        [
            post(1, "Witness appeal after a long night of incidents across several towns"),
            post(2, "Appeal: appeal for witnesses, please share this appeal"),
            post(3, "Nothing to see here"),
        ]
    )
    index.update(archive)
    result = index.search("appeal")
    assert [h.id for h in result.hits] == ["2", "1"]
    assert result.hits[0].score > result.hits[1].score > 0


def test_highlights_escape_the_text_and_mark_the_matches(archive, runs, index):
    hostile = 'Police <script>alert("x")</script> & <img src=x onerror=alert(1)> police'
    runs.commit([post(1, hostile)])
    index.update(archive)
    [hit] = index.search("police").hits
    assert hit.text == hostile
    assert hit.highlights == (
        '<b class="match">Police</b> &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; '
        '&lt;img src=x onerror=alert(1)&gt; <b class="match">police</b>'
    )


def test_a_long_post_is_shown_as_fragments_around_the_matches(archive, runs, index):
    long_text = "Filler words here. " * 100 + "The suspect was arrested. " + "More filler. " * 100
    runs.commit([post(1, long_text)])
    index.update(archive)
    [hit] = index.search("arrested").hits
    assert '<b class="match">arrested</b>' in hit.highlights
    assert len(hit.highlights) < 500


def test_a_hit_without_a_matching_word_shows_its_escaped_text(month_of_posts):
    [hit] = month_of_posts.search("from:undated_person").hits
    assert (hit.kind, hit.author, hit.highlights, hit.created_at) == (
        "follower",
        "undated_person",
        "",
        None,
    )


def test_facets_count_every_match_by_account_kind_year_and_month(month_of_posts, archive):
    result = month_of_posts.search("", per_page=5)
    items = view_items(archive)
    assert result.facets["account"] == {"ExampleshirePolice": 31, "ExampleshireFire": 5}
    assert result.facets["platform"] == {"x": 36}
    assert result.facets["kind"] == dict(Counter(i.latest["kind"] for i in items))
    assert result.facets["year"] == {"2024": 30, "2023": 5}  # the undated follower has no year
    assert result.facets["month"] == {"2024-01": 30, "2023-12": 5}
    narrowed = month_of_posts.search("patrols since:2024-01-20")
    assert narrowed.facets == {
        "account": {"ExampleshirePolice": 11},
        "platform": {"x": 11},
        "kind": {"post": 11},
        "year": {"2024": 11},
        "month": {"2024-01": 11},
    }


def test_facets_and_highlights_can_be_left_out(month_of_posts):
    result = month_of_posts.search("patrols", facets=False, highlight=False, per_page=1)
    assert result.facets == {}
    assert result.hits[0].highlights == result.hits[0].text


def test_the_api_shape(month_of_posts):
    shape = month_of_posts.search("tip", per_page=2).to_dict()
    assert list(shape) == ["total", "page", "per_page", "results", "facets", "notice"]
    assert shape["total"] == 5
    assert list(shape["results"][0]) == [
        "id",
        "account",
        "kind",
        "author",
        "created_at",
        "text",
        "highlights",
        "edited",
        "deleted",
        "deleted_at",
        "score",
        "platform",
    ]


def test_per_page_is_kept_between_1_and_100(month_of_posts):
    assert month_of_posts.search("", per_page=1000).per_page == 100
    assert len(month_of_posts.search("", per_page=0).hits) == 1
