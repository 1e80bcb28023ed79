"""The UI in a real headless Chromium (Debian's, driven by Playwright), as staff use it.

The app runs on 127.0.0.1 on a free port in a thread (werkzeug's server); nothing here
uses JavaScript, so every step is a real link or a real form post.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from ui_story import CHROMIUM, log_in

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (ops/setup.sh installs it)"
)


def search(page, query: str) -> None:
    page.get_by_role("searchbox", name="Search").fill(query)
    page.get_by_role("button", name="Search", exact=True).click()


def test_search_facets_item_and_logout(page):
    log_in(page, "vic")
    expect(page.get_by_text("Logged in as vic (viewer)")).to_be_visible()
    search(page, "road")
    assert page.locator("#summary").inner_text() == "2 results, page 1 of 1"
    assert page.locator("b.match").all_inner_texts() == ["Road", "Road"]
    facets = page.get_by_role("complementary", name="Narrow the results")
    expect(facets.get_by_role("link", name="ExampleshirePolice")).to_be_visible()
    facets.get_by_role("link", name="2023-11").click()
    assert page.locator("#summary").inner_text() == "1 result, page 1 of 1"
    expect(page.get_by_role("link", name="Remove the from filter")).to_be_visible()
    # the hostile post: its <script> is text on the page, and nothing runs
    hit = page.locator("li.hit p.text")
    assert hit.inner_text() == '<script>alert("pwned")</script> Road safety week starts today'
    page.get_by_role("link", name="Open item 1004").click()
    assert page.locator("blockquote.text").first.inner_text().startswith("<script>alert(")
    assert page.dialogs == []

    page.goto("/search?q=millbrook")
    page.get_by_role("link", name="Open item 1002").click()
    expect(page.get_by_role("heading", name="Versions (2)")).to_be_visible()
    assert page.locator(".diff del").inner_text() == "6pm"
    assert page.locator(".diff ins").inner_text() == "8pm"
    page.get_by_text("Raw JSON as the source served it").click()  # <details> opens natively
    assert (
        '"text": "Road closure on the A123 near Millbrook until 8pm"'
        in page.locator("details.raw pre").first.inner_text()
    )

    page.goto("/search?q=burglary")
    page.get_by_role("link", name="Open item 1005").click()
    banner = page.get_by_role("alert")
    assert re.fullmatch(
        r"Deleted\. The archive found this item gone on 2 Jun 2024 10:00:00 BST"
        r" \(2024-06-02 09:00:00 UTC\)\. "
        r"What follows is what was captured before\.",
        banner.inner_text(),
    )

    page.get_by_role("button", name="Log out").click()
    assert page.url.endswith("/login")
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto("/search")
    assert "/login?next=" in page.url


def test_a_viewer_cannot_reach_admin_pages(page):
    log_in(page, "vic")
    assert page.get_by_role("link", name="Audit log").count() == 0
    for path in ("/admin/users", "/admin/audit", "/exports/"):
        response = page.goto(path)
        assert response.status == 403, path
        assert page.get_by_role("alert").inner_text().startswith("This page needs the")


def test_an_admin_reads_who_searched_in_the_audit_log(page):
    log_in(page, "vic")
    search(page, "road")
    page.get_by_role("button", name="Log out").click()
    log_in(page, "ada")
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("User").fill("vic")
    page.get_by_label("Action").select_option("search")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 1
    assert "query: road" in rows.first.inner_text()


def test_an_exporter_picks_items_for_evidence_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "eve")
        search(page, "road")
        page.get_by_label("Select item 1002").check()
        page.get_by_label("Select item 1004").check()
        page.get_by_role("button", name="Export selected items (evidence)…").click()
        expect(page.get_by_role("heading", name="Export 2 items as evidence")).to_be_visible()
        assert page.locator("ul.chosen li").count() == 2
        expect(page.get_by_label("Case reference")).to_be_visible()
    finally:
        context.close()


def test_a_deleted_post_still_shows_its_photo_from_the_archive(page, live_server):
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    log_in(page, "vic")
    page.goto("/items/1005")
    assert page.get_by_role("alert").inner_text().startswith("Deleted.")
    photo = page.locator(".stored-media img")
    photo.wait_for()
    # decoded by the browser: the bytes the archive kept, not a link to the platform
    assert page.evaluate("img => img.complete && img.naturalWidth", photo.element_handle()) == 4
    assert photo.get_attribute("src").startswith("/media/1200000000000000001/")
    assert all(url.startswith(live_server) for url in requested)
    assert page.dialogs == []
