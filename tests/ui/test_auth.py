"""Logging in and out, sessions, roles enforced by the server, CSRF on every form."""

from __future__ import annotations

import re

import pytest
from ui_story import PASSWORD, SECRET, csrf_token

from archiver.audit import AuditLog
from archiver.errors import ConfigError
from search_ui import create_app
from search_ui.users import UserFile

PUBLIC = {"/login", "/healthz", "/static/<path:filename>", "/static/<filename>"}


def _get_rules(app) -> list[str]:
    """Every GET page with its placeholders filled in."""
    fill = {
        "item_id": "1001",
        "name": "vic",
        "filename": "style.css",
        "handle": "ExampleshirePolice",
        "account_id": "1200000000000000001",
        "run_id": "20240101T000000000000Z-abc123",
        "key": "files/media/x.png",
    }
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule in PUBLIC:
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{arg}>", fill[arg], path)
        paths.append(path)
    return paths


def test_every_page_but_login_and_health_needs_a_login(app, client):
    pages = _get_rules(app)
    assert {"/search", "/items/1001", "/accounts", "/admin/audit", "/api/search"} <= set(pages)
    for path in pages:
        response = client.get(path)
        if path.startswith("/api/"):
            assert response.status_code == 401, path
            assert response.get_json() == {"error": "login required"}
        elif path == "/":
            assert response.status_code == 302
        else:
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/login?next="), path
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_login_then_back_to_the_page_asked_for(client, auth):
    response = client.get("/items/1001")
    assert response.headers["Location"] == "/login?next=/items/1001"
    page = client.get("/login?next=/items/1001")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/login?next=/items/1001",
        data={"name": "vic", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/items/1001"
    assert "Logged in as <strong>vic</strong> (viewer)" in client.get("/search").get_data(
        as_text=True
    )


def test_login_never_redirects_off_site(client, auth):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        token = csrf_token(client.get("/login").text)
        response = client.post(
            f"/login?next={target}",
            data={"name": "vic", "password": PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == "/search"
        auth.logout()


def test_a_wrong_password_says_so_and_is_audited(client, auth, ui_archive):
    response = auth.login("vic", "not the password")
    assert response.status_code == 401
    assert "Wrong user name or password." in response.get_data(as_text=True)
    assert client.get("/search").status_code == 302
    unknown = auth.login("nobody", "not the password")
    assert "Wrong user name or password." in unknown.get_data(as_text=True)
    events = AuditLog(ui_archive.store).events(action="login_failed")
    assert [e.detail["name"] for e in events] == ["nobody", "vic"]
    assert all("password" not in e.to_json().decode() for e in events)


def test_repeated_failures_lock_the_name_out(client, auth, ui_archive):
    for _ in range(5):
        auth.login("vic", "wrong password!")
    response = auth.login("vic", PASSWORD)  # the right password, but locked now
    assert response.status_code == 401
    assert "Too many failed logins. Try again in 15 minutes." in response.get_data(as_text=True)
    assert client.get("/search").status_code == 302
    assert AuditLog(ui_archive.store).events(action="login_locked")[0].detail["name"] == "vic"
    assert auth.login("eve", PASSWORD).status_code == 302  # other names are not locked


def test_session_cookie_is_httponly_and_samesite(client, auth):
    response = auth.login()
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("archive_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # ui.cookie_secure is off by default


def test_logout_ends_the_session(client, auth, ui_archive):
    auth.login()
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert client.get("/search").status_code == 302
    actions = [e.action for e in AuditLog(ui_archive.store).events()]
    assert actions[:2] == ["logout", "login"]


def test_a_removed_user_is_out_at_the_next_request(client, auth, ui_root):
    auth.login("vic")
    assert client.get("/search").status_code == 200
    UserFile(ui_root / "users.json").remove("vic")
    assert client.get("/search").status_code == 302


def test_a_lowered_role_ends_the_session_and_applies_at_the_next_login(client, auth, ui_root):
    users = UserFile(ui_root / "users.json")
    users.add("bea", PASSWORD, "admin")  # the last admin could not be demoted
    auth.login("ada")
    assert client.get("/admin/users").status_code == 200
    users.set_role("ada", "viewer")
    assert client.get("/admin/users").headers["Location"].startswith("/login")
    auth.login("ada")
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/admin/users", "admin"),
        ("/admin/audit", "admin"),
        ("/exports/", "exporter"),
        ("/exports/foi?q=road", "exporter"),
        ("/exports/evidence?id=1001", "exporter"),
    ],
)
def test_a_viewer_is_refused_by_the_server(client, auth, path, role):
    auth.login("vic")
    response = client.get(path)
    assert response.status_code == 403
    assert f"This page needs the {role} role." in response.get_data(as_text=True)


def test_a_viewer_sees_no_links_to_pages_they_cannot_use(client, auth):
    auth.login("vic")
    html = client.get("/search?q=road").get_data(as_text=True)
    assert "/admin/" not in html
    assert "/exports/" not in html


def test_forged_posts_are_rejected(client, auth, ui_root):
    # no token: the login form itself
    response = client.post("/login", data={"name": "vic", "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    auth.login("ada")
    # a page elsewhere posting to the admin form with the admin's cookie, but no token
    response = client.post(
        "/admin/users", data={"name": "mallory", "role": "admin", "password": "x" * 12}
    )
    assert response.status_code == 400
    assert UserFile(ui_root / "users.json").get("mallory") is None
    assert client.post("/logout").status_code == 400
    assert client.get("/search").status_code == 200  # still logged in


def test_a_token_from_another_session_is_refused(app, client, auth):
    other = app.test_client()
    stolen = csrf_token(other.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"name": "vic", "password": PASSWORD, "csrf_token": stolen}
    )
    assert response.status_code == 400


def test_the_secret_key_must_be_set(ui_archive, monkeypatch):
    monkeypatch.delenv("ARCHIVER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError) as err:
        create_app(archive=ui_archive)
    assert str(err.value).startswith(
        "ui.secret_key_env: the environment variable ARCHIVER_SECRET_KEY is not set;"
    )
    monkeypatch.setenv("ARCHIVER_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="is shorter than 16 characters"):
        create_app(archive=ui_archive)
    monkeypatch.setenv("ARCHIVER_SECRET_KEY", SECRET)
    assert create_app(archive=ui_archive).secret_key == SECRET


def test_pages_carry_protective_headers(client, auth):
    auth.login()
    response = client.get("/search")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
