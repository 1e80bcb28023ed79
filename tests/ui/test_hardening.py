"""The findings of the hardening review (issue 12), each as a regression test through the
real HTTP stack: redirects, revocable sessions, throttling behind a proxy, one spelling of a
user name, and no 500 for any input. Browser and raw-HTTP cases are in
test_hardening_http.py; the property tests in test_properties.py."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest
from ui_story import PASSWORD, SECRET, AuthActions, csrf_token

from archiver.archive import Archive
from archiver.audit import AuditLog
from archiver.config import Config, IndexConfig, StorageConfig, UiConfig
from search_ui import create_app
from search_ui.sessions import sessions_path
from search_ui.users import UserError, UserFile

OFF_SITE = [
    "/%09/evil.example",  # a tab the browser drops: //evil.example
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "%09//evil.example",
    "/%5Cevil.example",  # a backslash the browser reads as a slash
    "%5C%5Cevil.example",
    "/%09%5Cevil.example",
    "%20//evil.example",  # leading spaces are dropped too
    "%01//evil.example",
    "//evil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
]


def _login_with_next(client, target: str):
    token = csrf_token(client.get("/login").text)
    return client.post(
        f"/login?next={target}", data={"name": "vic", "password": PASSWORD, "csrf_token": token}
    )


# -- 1. redirects ---------------------------------------------------------------------------
@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leaves_the_site(client, auth, target):
    response = _login_with_next(client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/search"
    # and when already logged in, GET /login?next=... judges it the same way
    again = client.get(f"/login?next={target}")
    assert again.headers["Location"] == "/search"


def test_next_keeps_a_path_on_the_site(client):
    response = _login_with_next(client, "/items/1001%3Fx%3D1")
    assert response.headers["Location"] == "/items/1001?x=1"
    assert client.get("/login?next=/search%3Fq%3Dcaf%C3%A9").headers["Location"] == (
        "/search?q=caf%C3%A9"
    )
    # a header break in next is dropped, never a 500 or a second header
    response = client.get("/login?next=/search%0d%0aSet-Cookie:%20x=y")
    assert response.status_code == 302
    assert response.headers["Location"] == "/searchSet-Cookie:%20x=y"
    assert "x=y" not in response.headers.get("Set-Cookie", "")


# -- 2. sessions ----------------------------------------------------------------------------
def _cookie(client) -> str:
    return client.get_cookie("archive_session").value


def _replay(app, cookie: str):
    """A second client that only has a copy of the cookie (what a thief would have)."""
    other = app.test_client()
    other.set_cookie("archive_session", cookie)
    return other.get("/search")


def test_a_copied_cookie_dies_with_logout(app, client, auth):
    auth.login("vic")
    stolen = _cookie(client)
    assert _replay(app, stolen).status_code == 200
    auth.logout()
    response = _replay(app, stolen)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_password_change_ends_every_session_of_the_user(app, client, auth, runner):
    auth.login("vic")
    first = _cookie(client)
    second_client = app.test_client()
    AuthActions(second_client).login("vic")
    second = _cookie(second_client)
    result = runner("users", "set-password", "VIC", "--password-stdin", input="a new password!\n")
    assert result.output == "password of vic changed\n"
    assert _replay(app, first).status_code == 302
    assert _replay(app, second).status_code == 302


def test_a_re_created_name_never_revives_old_sessions(app, client, auth, ui_root):
    auth.login("vic")
    stolen = _cookie(client)
    users = UserFile(ui_root / "users.json")
    users.remove("vic")
    users.add("vic", PASSWORD, "viewer")
    assert _replay(app, stolen).status_code == 302


def test_a_password_changed_by_hand_in_the_file_also_ends_sessions(app, client, auth, ui_root):
    """The session carries the user's stamp, so even an edit that bypasses UserFile works."""
    import orjson
    from werkzeug.security import generate_password_hash

    auth.login("vic")
    stolen = _cookie(client)
    path = ui_root / "users.json"
    doc = orjson.loads(path.read_bytes())
    doc["users"]["vic"]["password_hash"] = generate_password_hash("changed by hand!")
    path.write_bytes(orjson.dumps(doc))
    assert _replay(app, stolen).status_code == 302


def _age_sessions(ui_root, *, created: float = 0.0, last_seen: float = 0.0) -> None:
    with sqlite3.connect(sessions_path(ui_root / "users.json")) as db:
        db.execute(
            "UPDATE sessions SET created = created - ?, last_seen = last_seen - ?",
            (created, last_seen),
        )


def test_idle_sessions_end(app, client, auth, ui_root):
    auth.login("vic")
    _age_sessions(ui_root, created=3599, last_seen=3599)
    assert client.get("/search").status_code == 200  # 59:59 idle: still live, and restarted
    _age_sessions(ui_root, created=3600, last_seen=3600)
    assert client.get("/search").status_code == 302


def test_a_busy_session_still_ends_after_session_max_hours(app, client, auth, ui_root):
    auth.login("vic")
    _age_sessions(ui_root, created=12 * 3600 - 5)
    assert client.get("/search").status_code == 200
    _age_sessions(ui_root, created=10)
    response = client.get("/search")
    assert response.status_code == 302, "the idle timer restarts, the lifetime does not"


def test_admins_see_and_end_sessions(app, client, auth, ui_archive):
    vic = app.test_client()
    AuthActions(vic).login("vic")
    assert vic.get("/search").status_code == 200
    auth.login("ada")
    page = client.get("/admin/sessions").text
    assert '<th scope="row">vic</th>' in page and '<th scope="row">ada</th>' in page
    assert "127.0.0.1" in page
    row = page.split('<th scope="row">vic</th>', 1)[1]
    action = row.split('action="', 1)[1].split('"', 1)[0]
    token = csrf_token(page)
    response = client.post(action, data={"csrf_token": token})
    assert response.status_code == 302
    assert vic.get("/search").status_code == 302
    assert '<th scope="row">vic</th>' not in client.get("/admin/sessions").text
    event = AuditLog(ui_archive.store).events(action="session_ended")[0]
    assert (event.user, event.detail["name"]) == ("ada", "vic")
    assert client.post(action, data={"csrf_token": token}).status_code == 404


def test_sessions_page_is_for_admins_only(client, auth):
    auth.login("eve")
    assert client.get("/admin/sessions").status_code == 403


def test_the_sessions_file_is_private_and_holds_no_cookie(app, client, auth, ui_root):
    auth.login("vic")
    path = sessions_path(ui_root / "users.json")
    assert path.stat().st_mode & 0o777 == 0o600
    signer = app.session_interface.get_signing_serializer(app)
    token = signer.loads(_cookie(client))["sid"]
    assert set(signer.loads(_cookie(client))) <= {"sid", "_permanent", "csrf_token", "_flashes"}
    assert token.encode() not in path.read_bytes()


# -- 3. behind a proxy ----------------------------------------------------------------------
def _proxied_app(ui_root, hops: int):
    config = Config(
        storage=StorageConfig(path=str(ui_root / "store")),
        index=IndexConfig(path=str(ui_root / "index")),
        ui=UiConfig(trusted_proxies=hops),
    )
    return create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=Archive(config))


class ProxiedClient:
    """A client whose requests arrive from the reverse proxy (10.0.0.1), which appends the
    real client's address to X-Forwarded-For as nginx does."""

    def __init__(self, app, client_address: str, forged: str | None = None) -> None:
        self.client = app.test_client()
        chain = f"{forged}, {client_address}" if forged else client_address
        self.environ = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": chain}

    def login(self, name: str, password: str):
        page = self.client.get("/login", environ_base=self.environ)
        token = csrf_token(page.text)
        return self.client.post(
            "/login",
            data={"name": name, "password": password, "csrf_token": token},
            environ_base=self.environ,
        )


def _spray(attacker: ProxiedClient, tries: int = 29) -> None:
    for _ in range(tries):
        response = attacker.login(f"u{uuid.uuid4().hex[:10]}", "wrong password!")
        assert response.status_code == 401


def test_behind_a_trusted_proxy_one_address_cannot_lock_everyone_out(ui_root):
    app = _proxied_app(ui_root, 1)
    attacker = ProxiedClient(app, "203.0.113.66")
    _spray(attacker)
    # the attacker's own address is locked, even for a real name and password
    locked = attacker.login("vic", PASSWORD)
    assert "Too many failed logins" in locked.text
    # forging an earlier hop does not move them to another address
    forged = ProxiedClient(app, "203.0.113.66", forged="198.51.100.9")
    assert "Too many failed logins" in forged.login("eve", PASSWORD).text
    # staff elsewhere, through the same proxy, log in
    staff = ProxiedClient(app, "192.0.2.10")
    assert staff.login("vic", PASSWORD).status_code == 302
    events = AuditLog(Archive(_config(ui_root)).store).events()
    logins = [e for e in events if e.action == "login"]
    assert logins[0].detail["address"] == "192.0.2.10"
    failed = [e.detail["address"] for e in events if e.action == "login_failed"]
    assert set(failed) == {"203.0.113.66"}


def test_without_proxy_fix_forwarded_headers_are_ignored(ui_root):
    """trusted_proxies = 0: X-Forwarded-For is not believed, so everyone is the proxy's
    address (set ui.trusted_proxies behind a proxy) and a forged header changes nothing."""
    app = _proxied_app(ui_root, 0)
    attacker = ProxiedClient(app, "203.0.113.66")
    _spray(attacker, 20)  # 4x max_failed_logins: the address limit
    staff = ProxiedClient(app, "192.0.2.10")
    assert "Too many failed logins" in staff.login("vic", PASSWORD).text
    events = AuditLog(Archive(_config(ui_root)).store).events(action="login_failed")
    assert {e.detail["address"] for e in events} == {"10.0.0.1"}


def test_failures_on_a_name_count_whatever_its_spelling(client, auth):
    for spelling in ("VIC", " vic", "ｖｉｃ", "Vic", "vIc"):
        auth.login(spelling, "wrong password!")
    assert "Too many failed logins" in auth.login("vic", PASSWORD).text


def _config(ui_root) -> Config:
    return Config(
        storage=StorageConfig(path=str(ui_root / "store")),
        index=IndexConfig(path=str(ui_root / "index")),
    )


# -- 4. one spelling of a name ---------------------------------------------------------------
def test_any_spelling_logs_in_as_the_one_user(client, auth):
    assert auth.login("ＶＩＣ ", PASSWORD).status_code == 302
    assert "Logged in as <strong>vic</strong>" in client.get("/search").text


def test_the_last_admin_cannot_be_demoted_by_any_spelling(client, auth, ui_root):
    users = UserFile(ui_root / "users.json")
    users.add("bea", PASSWORD, "admin")
    auth.login("bea")
    page = client.get("/admin/users").text
    token = csrf_token(page)
    # an admin's own account, spelled another way, is still their own
    for own in ("BEA", "Bea", "ｂｅａ"):
        response = client.post(
            f"/admin/users/{own}/role", data={"role": "viewer", "csrf_token": token}
        )
        assert response.status_code == 400, own
    # ada can be demoted (bea stays admin); then bea is the last admin
    response = client.post("/admin/users/ADA/role", data={"role": "viewer", "csrf_token": token})
    assert response.status_code == 302
    assert users.get("ada").role == "viewer"
    with pytest.raises(UserError, match="last admin"):
        users.set_role("BEA", "exporter")
    with pytest.raises(UserError, match="last admin"):
        users.remove(" Bea ")
    assert users.get("bea").role == "admin"


def test_the_cli_keeps_the_last_admin_too(runner):
    result = runner("users", "set-role", "ADA", "viewer")
    assert (result.exit_code, result.output) == (
        1,
        "error: cannot demote 'ada': they are the last admin\n",
    )
    result = runner("users", "remove", "Ａｄａ")
    assert (result.exit_code, result.output) == (
        1,
        "error: cannot remove 'ada': they are the last admin\n",
    )
    result = runner("users", "add", "VIC", "--password-stdin", input="long enough pass\n")
    assert result.output == "error: user 'vic' already exists\n"


def test_the_users_file_is_read_as_one_spelling(ui_root):
    import orjson

    path = ui_root / "users.json"
    doc = orjson.loads(path.read_bytes())
    doc["users"]["Dan"] = dict(doc["users"]["vic"], role="exporter")
    path.write_bytes(orjson.dumps(doc))
    users = UserFile(path)
    assert users.get("DAN").name == "dan"
    doc["users"]["DAN"] = doc["users"]["Dan"]
    path.write_bytes(orjson.dumps(doc))
    with pytest.raises(UserError, match="both"):
        UserFile(path).list()


# -- 5. no 500 for any input -----------------------------------------------------------------
BAD_PAGES = [
    "/search?q=" + "(" * 250 + "road",
    "/search?q=" + "-" * 900 + "road",
    "/search?q=" + "NOT%20" * 160 + "road",
    "/search?page=%C2%B2",
    "/search?per_page=%EF%BC%91%EF%BC%90",
    "/search?to=9999-12-31",
    "/search?from=0001-01-01",
    "/search?from=2024-13-01",
    "/search?q=since:9999-12-31",
    "/api/search?to=9999-12-31",
    "/api/search?page=%C2%B2",
    "/api/search?q=" + "(" * 250,
    "/items/%C2%B2",
    "/api/items/%C2%B2",
    "/exports/evidence?id=%C2%B2",
    "/exports/foi?to=9999-12-31",
    "/admin/audit?before=%C2%B2",
    "/admin/audit?to=9999-12-31",
    "/admin/audit?from=%C2%B2",
    "/admin/audit?user=%00",
]


@pytest.mark.parametrize("path", BAD_PAGES)
def test_bad_input_is_a_4xx_page_never_a_500(client, auth, path):
    auth.login("ada")
    response = client.get(path)
    assert response.status_code < 500, (path, response.status_code)
    if path.startswith("/api/"):
        assert response.status_code in (200, 400, 404)
        assert "error" in response.get_json() or "results" in response.get_json()


def test_a_deep_query_is_searched_as_words_with_a_notice(client, auth):
    auth.login()
    response = client.get("/search?q=" + "(" * 250 + "road")
    assert response.status_code == 200
    assert "nested deeper than 32" in response.text
    assert "2 results" in response.text


def test_bad_numbers_and_days_name_the_parameter(client, auth):
    auth.login()
    response = client.get("/api/search?page=%C2%B2")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "page: expected a whole number from 1 to 10000, got '²'"
    }
    response = client.get("/api/search?to=9999-12-31")
    assert response.get_json() == {
        "error": "to: expected a day from 1970-01-01 to 2999-12-31, got '9999-12-31'"
    }


def test_time_is_not_spent_on_a_flood_of_failed_names(client, auth):
    """The throttle's memory is bounded: random names do not pile up for ever."""
    from search_ui.backend import EXTENSION, LoginThrottle

    throttle = LoginThrottle(5, 900.0, clock=time.monotonic)
    throttle.MAX_KEYS = 50
    for i in range(200):
        throttle.failed(f"name{i}", "203.0.113.66")
    assert len(throttle._failures) <= 51
    assert throttle.locked_for("x", "203.0.113.66") > 0  # the address is still remembered
    assert client.application.extensions[EXTENSION].throttle.MAX_KEYS == 100_000


# -- 7. invisible characters made visible ----------------------------------------------------
TRICK = "Refund to account \u202e0987\u202c ok\u200b now \u2066x\u2069 \ufeff"


def _write_tricky_post(ui_archive, ui_root) -> None:
    from ui_story import POLICE, POLICE_ID, police_post

    from archiver.index import Index
    from storage.runs import RunWriter

    with RunWriter(
        ui_archive.store,
        account_id=POLICE_ID,
        account=POLICE,
        kind="incremental",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        run.write(police_post("1099", TRICK, "2024-07-01T10:00:00.000Z"))
        run.write(police_post("1098", "family 👨\u200d👩\u200d👧 day", "2024-07-01T11:00:00.000Z"))
        run.commit()
    Index(ui_root / "index").update(ui_archive)


def test_bidi_and_zero_width_characters_are_shown_as_markers(client, auth, ui_archive, ui_root):
    _write_tricky_post(ui_archive, ui_root)
    auth.login("eve")
    html = client.get("/items/1099").text
    quote = html.split('<blockquote class="text">', 1)[1].split("</blockquote>", 1)[0]
    assert quote == (
        "Refund to account "
        '<span class="invisible-char" title="RIGHT-TO-LEFT OVERRIDE">[U+202E]</span>0987'
        '<span class="invisible-char" title="POP DIRECTIONAL FORMATTING">[U+202C]</span> ok'
        '<span class="invisible-char" title="ZERO WIDTH SPACE">[U+200B]</span> now '
        '<span class="invisible-char" title="LEFT-TO-RIGHT ISOLATE">[U+2066]</span>x'
        '<span class="invisible-char" title="POP DIRECTIONAL ISOLATE">[U+2069]</span> '
        '<span class="invisible-char" title="ZERO WIDTH NO-BREAK SPACE">[U+FEFF]</span>'
    )
    for char in "\u202e\u202c\u200b\u2066\u2069\ufeff":
        assert char not in html  # neither in the text nor in the raw JSON
    # the stored text and the API are unchanged
    assert client.get("/api/items/1099").get_json()["record"]["text"] == TRICK
    evidence = client.get("/exports/evidence?id=1099").text
    assert "[U+202E]" in evidence and "\u202e" not in evidence
    # an emoji sequence's joiners are how it is written, not a trick
    family = client.get("/items/1098").text
    assert "👨\u200d👩\u200d👧" in family and "[U+200D]" not in family
