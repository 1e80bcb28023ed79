"""Bluesky and Mastodon in the UI beside X: item pages for ids that are not numbers (AT
URIs, status URIs, DIDs, accts) routed as a query parameter, the platform on result lists,
item and account pages, "view on the platform" links (http(s) only), the platform facet,
the JSON API; in a real headless Chromium too."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from ui_story import CHROMIUM, PASSWORD, USERS, log_in

sys.path.insert(0, str(Path(__file__).parents[1] / "platforms"))

from multiplatform_data import (  # noqa: E402
    BLUESKY,
    DID,
    HOSTILE_TOOT,
    MASTODON,
    PUBLIC_ACCT,
    PUBLIC_DID,
    at_uri,
    status_uri,
    write_three_platforms,
)

from archiver.archive import Archive  # noqa: E402
from archiver.config import Config, IndexConfig, StorageConfig  # noqa: E402
from archiver.index import Index  # noqa: E402
from search_ui.users import UserFile  # noqa: E402

POST = at_uri("3kabc2post1")
TOOT = status_uri(111)


@pytest.fixture(scope="module")
def archive_template(tmp_path_factory) -> Path:
    """Overrides the UI's template: an X, a Bluesky and a Mastodon account of one force."""
    root = tmp_path_factory.mktemp("ui-three-platforms")
    archive = Archive(
        Config(
            storage=StorageConfig(path=str(root / "store")),
            index=IndexConfig(path=str(root / "index")),
        )
    )
    write_three_platforms(archive.store)
    Index(root / "index").update(archive)
    users = UserFile(root / "users.json")
    for name, role in USERS.items():
        users.add(name, PASSWORD, role)
    return root


def item_path(item_id: str) -> str:
    return "/item?id=" + quote(item_id, safe="")


def test_a_bluesky_post_page_by_its_at_uri(client, auth):
    auth.login()
    page = client.get(item_path(POST))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Road closure on the A38 near Exeter" in html
    assert '<span class="platform">Bluesky</span>' in html
    assert f'href="https://bsky.app/profile/{DID}/post/3kabc2post1"' in html
    # the reply names its parent, not archived, with its place on Bluesky
    reply = client.get(item_path(at_uri("3kabc2reply"))).get_data(as_text=True)
    assert "not in the archive" in reply
    assert f"https://bsky.app/profile/{PUBLIC_DID}/post/3kzzzparent" in reply


def test_a_mastodon_status_page_and_the_people(client, auth):
    auth.login()
    html = client.get(item_path(TOOT)).get_data(as_text=True)
    assert '<span class="platform">Mastodon</span>' in html
    assert 'href="https://police.social/@examplepolice/111"' in html
    # a DID and an acct have no slash: the path form works for them too
    assert client.get(f"/items/{PUBLIC_DID}").status_code == 200
    follower = client.get(f"/items/{PUBLIC_ACCT}").get_data(as_text=True)
    assert 'href="https://town.example/@resident"' in follower


def test_a_mastodon_dm_names_its_parties(client, auth):
    auth.login()
    html = client.get(item_path(status_uri(114))).get_data(as_text=True)
    assert f"From @{MASTODON[1]} to @{PUBLIC_ACCT}</p>" in html


def test_hostile_text_and_urls_of_another_platform_are_inert(client, auth):
    auth.login()
    html = client.get(item_path(status_uri(115))).get_data(as_text=True)
    assert HOSTILE_TOOT not in html  # escaped
    assert "&lt;script&gt;alert(&#34;toot&#34;)&lt;/script&gt;" in html
    assert "javascript:" not in html.split("Raw JSON")[0]
    # its link falls back to the status URI, an https URL
    assert f'class="original" href="{status_uri(115)}"' in html


@pytest.mark.parametrize(
    "bad",
    [
        "../../../etc/passwd",
        "javascript:alert(1)",
        'https://evil.example/"><script>',
        "at://did:plc:x/<script>/1",
        "//evil.example/x",
        "",
        "a" * 3000,
        "at://" + DID + "/app.bsky.feed.post/../../x y",
    ],
)
def test_bad_ids_are_404s_never_errors_or_redirects(client, auth, bad):
    auth.login()
    for path in (item_path(bad), "/api/item?id=" + quote(bad, safe="")):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Location" not in response.headers
        assert "<script>" not in response.get_data(as_text=True)


def test_unknown_but_valid_ids_are_404s(client, auth):
    auth.login()
    assert client.get(item_path(at_uri("3knotthere1"))).status_code == 404
    assert client.get(item_path("https://police.social/users/examplepolice")).status_code == 404
    # the path form refuses slashes: an encoded AT URI in the path is not an item
    assert client.get("/items/" + quote(POST, safe="")).status_code == 404


def test_api_item_by_id(client, auth):
    auth.login()
    doc = client.get("/api/item?id=" + quote(TOOT, safe="")).get_json()
    assert doc["id"] == TOOT
    assert doc["platform"] == "mastodon"
    assert doc["account_id"] == MASTODON[0]
    assert doc["original_url"] == "https://police.social/@examplepolice/111"
    x_doc = client.get("/api/item?id=1800000000000000001").get_json()
    assert x_doc["platform"] == "x"
    assert x_doc["original_url"] == "https://x.com/ExampleshirePolice/status/1800000000000000001"


def test_results_show_the_platform_and_link_by_id(client, auth):
    auth.login()
    html = client.get("/search?q=road+closure").get_data(as_text=True)
    for name in ("X", "Bluesky", "Mastodon"):
        assert f">{name}</span>" in html
    assert 'href="/item?id=at%3A%2F%2Fdid%3Aplc%3A' in html or 'href="/item?id=at://' in html
    assert 'href="/items/1800000000000000001"' in html
    narrowed = client.get("/search?q=road&platform=mastodon").get_data(as_text=True)
    assert "B3212" in narrowed and "A38" not in narrowed and "M5 tonight" not in narrowed
    assert client.get("/search?q=road&platform=myspace").status_code == 400
    api = client.get("/api/search?q=road&platform=bluesky").get_json()
    assert [r["id"] for r in api["results"]] == [POST]
    assert api["facets"]["platform"] == {"bluesky": 1}


def test_account_pages_of_qualified_accounts(client, auth):
    auth.login()
    for handle, platform in ((BLUESKY[1], "Bluesky"), (MASTODON[1], "Mastodon")):
        page = client.get(f"/accounts/{handle}")
        assert page.status_code == 200, handle
        assert platform in page.get_data(as_text=True)
    assert client.get(f"/accounts/{BLUESKY[0]}").status_code == 200
    listing = client.get("/accounts").get_data(as_text=True)
    assert BLUESKY[1] in listing and MASTODON[1] in listing


# -- a real browser ---------------------------------------------------------------------
browser_only = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


@browser_only
def test_browser_platform_facet_and_bluesky_item(page):
    log_in(page, "vic")
    page.get_by_role("searchbox", name="Search").fill("road closure")
    page.get_by_role("button", name="Search", exact=True).click()
    assert page.locator("#summary").inner_text() == "3 results, page 1 of 1"
    facets = page.get_by_role("complementary", name="Narrow the results")
    facets.get_by_role("link", name="Bluesky").click()
    assert page.locator("#summary").inner_text() == "1 result, page 1 of 1"
    expect(page.get_by_role("link", name="Remove the platform filter")).to_be_visible()
    assert page.locator("li.hit .platform").all_inner_texts() == ["Bluesky"]
    page.get_by_role("link", name=f"Open item {POST}").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Post {POST}")
    link = page.get_by_role("link", name="View on Bluesky")
    assert link.get_attribute("href") == f"https://bsky.app/profile/{DID}/post/3kabc2post1"
    assert page.dialogs == []


@browser_only
def test_browser_mastodon_item_with_hostile_text(page):
    log_in(page, "vic")
    page.goto("/search?q=lost+dog")
    assert page.locator("li.hit .platform").all_inner_texts() == ["Mastodon"]
    page.get_by_role("link", name=f"Open item {status_uri(115)}").click()
    assert page.locator("blockquote.text").first.inner_text() == HOSTILE_TOOT
    assert page.get_by_role("link", name="View on Mastodon").get_attribute("href") == status_uri(
        115
    )
    page.goto(item_path(TOOT))
    assert page.locator(".where .platform").inner_text() == "Mastodon"
    assert page.dialogs == []
