"""The search page as records staff use it: results, highlights, facets, filters, pages."""

from __future__ import annotations

import re

import pytest
from ui_story import HOSTILE

from archiver.audit import AuditLog
from search_ui.markup import highlight_markup, is_index_highlight


def _hits(html: str) -> list[str]:
    return re.findall(r'<a href="/items/(\d+)">Open item', html)


def test_a_search_shows_highlighted_hits_and_facets(client, auth):
    auth.login()
    html = client.get("/search?q=road").get_data(as_text=True)
    assert '<h2 class="summary" id="summary">2 results, page 1 of 1</h2>' in html
    assert sorted(_hits(html)) == ["1002", "1004"]
    assert '<b class="match">Road</b> closure on the A123 near Millbrook until 8pm' in html
    # the facets count every match and narrow the search when followed
    assert '<a href="/search?q=road&amp;account=ExampleshirePolice">ExampleshirePolice</a>' in html
    assert '<a href="/search?q=road&amp;from=2023-11-01&amp;to=2023-11-30">2023-11</a>' in html


def test_hostile_text_is_shown_as_text(client, auth):
    auth.login()
    html = client.get("/search?q=safety").get_data(as_text=True)
    assert "<script>" not in html
    assert (
        "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; Road "
        '<b class="match">safety</b> week starts today'
    ) in html


def test_following_a_facet_narrows_the_results(client, auth):
    auth.login()
    html = client.get("/search?q=road&from=2023-11-01&to=2023-11-30").get_data(as_text=True)
    assert _hits(html) == ["1004"]
    assert "1 result, page 1 of 1" in html
    assert 'aria-label="Remove the from filter"' in html
    html = client.get("/search?kind=mention").get_data(as_text=True)
    assert _hits(html) == ["2001"]


def test_an_unreadable_query_is_searched_as_words_with_a_notice(client, auth):
    auth.login()
    html = client.get('/search?q=road+"closure').get_data(as_text=True)
    assert re.search(r'<p class="notice" role="status">Note: query could not be parsed', html)
    assert "1 result" in html


def test_bad_filters_get_a_clear_message(client, auth):
    auth.login()
    response = client.get("/search?q=road&from=yesterday")
    assert response.status_code == 400
    assert "from: expected a date as YYYY-MM-DD, got &#39;yesterday&#39;" in response.text
    response = client.get("/search?kind=tweet")
    assert response.status_code == 400
    assert "kind: expected one of post, reply" in response.text
    response = client.get("/search?q=x&page=0")
    assert "page: expected a whole number from 1 to 10000, got &#39;0&#39;" in response.text


@pytest.mark.ui_template("demo")
def test_results_come_in_pages(client, auth):
    auth.login()
    first = client.get("/search?sort=date&per_page=10").get_data(as_text=True)
    assert re.search(r"\d+ results, page 1 of (\d+)", first)
    assert '<a rel="next" href="/search?sort=date&amp;page=2&amp;per_page=10">' in first
    second = client.get("/search?sort=date&per_page=10&page=2").get_data(as_text=True)
    assert set(_hits(first)).isdisjoint(_hits(second))
    assert '<ol class="hits" start="11">' in second


def test_date_order_shows_the_newest_first(client, auth):
    auth.login()
    html = client.get("/search?account=ExampleshirePolice&sort=date").get_data(as_text=True)
    assert _hits(html) == ["1002", "1006", "2001", "1001", "1004", "1005"]


def test_deleted_and_edited_items_are_marked(client, auth):
    auth.login()
    html = client.get("/search?q=burglary").get_data(as_text=True)
    assert '<span class="badge deleted">deleted 2 Jun 2024 10:00 BST</span>' in html
    html = client.get("/search?q=is:edited").get_data(as_text=True)
    assert _hits(html) == ["1002"]
    assert '<span class="badge edited">edited</span>' in html


def test_searches_are_audited_with_query_and_filters(client, auth, ui_archive):
    auth.login()
    client.get("/search?q=road&account=ExampleshirePolice&from=2023-01-01")
    event = AuditLog(ui_archive.store).events(action="search")[0]
    assert event.user == "vic"
    assert event.detail == {
        "query": "road",
        "filters": {"account": "ExampleshirePolice", "from": "2023-01-01"},
        "page": 1,
        "total": 2,
        "address": "127.0.0.1",
    }


def test_only_the_index_highlight_markup_passes_unescaped():
    assert is_index_highlight('&lt;b&gt; <b class="match">road</b> &amp; rail')
    assert not is_index_highlight('<b class="match">x</b><script>alert(1)</script>')
    assert not is_index_highlight('<b class="match" onclick="x">road</b>')
    assert not is_index_highlight("<b>road")
    assert not is_index_highlight('a "quoted" word')
    assert str(highlight_markup("<img src=x onerror=alert(1)>", HOSTILE)) == (
        "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; Road safety week starts today"
    )
