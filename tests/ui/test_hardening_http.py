"""Redirects and sessions as a browser and a raw HTTP client see them: Debian's Chromium
(through Playwright) follows the app's Location headers itself, with its own URL parser,
and http.client replays a copied cookie byte for byte."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from ui_story import CHROMIUM, PASSWORD, csrf_token, log_in

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (ops/setup.sh installs it)"
)


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "/%5Cevil.example", "%09%5C%5Cevil.example", "/%0a/x"]
)
def test_chromium_stays_on_the_site_after_login(page, live_server, target):
    log_in(page, "vic", path=f"/login?next={target}")
    landed = urlsplit(page.url)
    assert landed.netloc == urlsplit(live_server).netloc
    expect(page.get_by_text("Logged in as vic (viewer)")).to_be_visible()


def test_chromium_is_sent_back_to_the_page_it_asked_for(page, live_server):
    log_in(page, "vic", path="/items/1001?x=%C3%A9")  # shows the login form
    assert page.url == f"{live_server}/items/1001?x=%C3%A9"


def test_chromium_logged_out_by_an_admin(browser, page, live_server):
    log_in(page, "vic")
    admin = browser.new_context(base_url=live_server).new_page()
    log_in(admin, "ada")
    admin.goto("/admin/sessions")
    admin.get_by_role("row", name="vic").get_by_role("button").click()
    expect(admin.get_by_text("Ended a session of vic.")).to_be_visible()
    page.goto("/search")
    assert urlsplit(page.url).path == "/login"
    admin.context.close()


class RawClient:
    """HTTP/1.1 by hand: cookies only where the test puts them."""

    def __init__(self, base: str) -> None:
        self.host = urlsplit(base).netloc

    def request(self, method: str, path: str, cookie: str = "", body: str = ""):
        conn = http.client.HTTPConnection(self.host, timeout=10)
        headers = {"Cookie": cookie} if cookie else {}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read().decode()
        conn.close()
        return response, data


def _session_cookie(response) -> str:
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("archive_session="):
            return value.split(";", 1)[0]
    raise AssertionError("no session cookie")


def test_a_replayed_cookie_is_refused_after_logout_over_raw_http(live_server):
    from urllib.parse import urlencode

    raw = RawClient(live_server)
    response, html = raw.request("GET", "/login")
    cookie = _session_cookie(response)
    body = urlencode({"name": "vic", "password": PASSWORD, "csrf_token": csrf_token(html)})
    response, _ = raw.request("POST", "/login", cookie, body)
    assert response.status == 302
    stolen = _session_cookie(response)
    response, html = raw.request("GET", "/search", stolen)
    assert response.status == 200
    current = _session_cookie(response)  # the CSRF token of the logout form is in it
    body = urlencode({"csrf_token": csrf_token(html)})
    response, _ = raw.request("POST", "/logout", current, body)
    assert response.status == 302
    for cookie in (stolen, current):
        response, _ = raw.request("GET", "/search", cookie)
        assert response.status == 302
        assert response.getheader("Location").startswith("/login")
        response, _ = raw.request("GET", "/api/search?q=road", cookie)
        assert response.status == 401


def test_a_newline_in_next_over_raw_http_is_no_500(live_server):
    raw = RawClient(live_server)
    response, _ = raw.request("GET", "/login?next=/%0d%0aX-Injected:%201")
    assert response.status == 200  # not logged in: the form
    assert response.getheader("X-Injected") is None
