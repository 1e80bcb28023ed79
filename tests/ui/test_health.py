"""/healthz tells the truth: 200 only when storage, the index and every configured
account's backups are fine; else 503. The public answer is counts only; a login adds each
account's state. The accounts page shows the states and admins see a banner."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import pytest
from ui_story import SECRET, AuthActions

from archiver.archive import Archive
from archiver.config import AccountConfig
from archiver.jobs import JobHistory, JobRecord
from archiver.timestamps import isoformat
from search_ui import create_app

POLICE, FIRE, ROADS, PARKS = "ExampleshirePolice", "ExampleshireFire", "ExampleshireRoads", "Parks"
NOW = dt.datetime.now(dt.UTC)


def backup(store, account: str, status: str, ago: dt.timedelta, error: str | None = None):
    started = NOW - ago
    JobHistory(store).write(
        JobRecord(
            "backup",
            "incremental",
            account,
            isoformat(started),
            isoformat(started + dt.timedelta(seconds=30)),
            status,
            error=error,
        )
    )


def make_app(ui_archive: Archive, *accounts: str):
    config = dataclasses.replace(
        ui_archive.config, accounts=tuple(AccountConfig(a) for a in accounts)
    )
    archive = Archive(config, ui_archive.store)
    return create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=archive)


@pytest.fixture
def every_state(ui_archive):
    """One account in each state."""
    store = ui_archive.store
    backup(store, POLICE, "ok", dt.timedelta(minutes=20))
    backup(store, FIRE, "ok", dt.timedelta(days=3))
    backup(store, FIRE, "failed", dt.timedelta(hours=2), "token rejected (401)")
    backup(store, FIRE, "failed", dt.timedelta(minutes=10), "token rejected (401)")
    backup(store, ROADS, "ok", dt.timedelta(days=3))
    return make_app(ui_archive, POLICE, FIRE, ROADS, PARKS)


def test_every_account_ok_is_200(ui_archive):
    backup(ui_archive.store, POLICE, "failed", dt.timedelta(hours=3), "boom")
    backup(ui_archive.store, POLICE, "ok", dt.timedelta(minutes=5))  # recovered since
    client = make_app(ui_archive, POLICE).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "storage": "ok",
        "index": "ok",
        "accounts": {"ok": 1, "failing": 0, "overdue": 0, "never_run": 0},
    }


def test_the_public_answer_is_counts_only(every_state):
    response = every_state.test_client().get("/healthz")
    assert response.status_code == 503
    doc = response.get_json()
    assert doc == {
        "status": "failing",
        "storage": "ok",
        "index": "ok",
        "accounts": {"ok": 1, "failing": 1, "overdue": 1, "never_run": 1},
    }
    text = response.get_data(as_text=True)
    assert not any(name in text for name in (POLICE, FIRE, ROADS, PARKS))


def test_a_login_adds_each_accounts_state(every_state):
    client = every_state.test_client()
    AuthActions(client).login("vic")
    doc = client.get("/healthz").get_json()
    states = {d["account"]: d for d in doc["details"]}
    assert {a: d["state"] for a, d in states.items()} == {
        POLICE: "ok",
        FIRE: "failing",
        ROADS: "overdue",
        PARKS: "never_run",
    }
    fire = states[FIRE]
    first_failure = isoformat(NOW - dt.timedelta(hours=2))
    assert fire["since"] == first_failure and fire["last_error"] == "token rejected (401)"
    assert states[ROADS]["since"] > states[ROADS]["last_success"]
    assert states[PARKS]["since"] is None


def test_a_single_failure_turns_it_red(ui_archive):
    backup(ui_archive.store, POLICE, "ok", dt.timedelta(hours=1))
    backup(ui_archive.store, POLICE, "failed", dt.timedelta(minutes=1), "API down")
    response = make_app(ui_archive, POLICE).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["accounts"]["failing"] == 1


def test_a_skipped_slot_is_neither_good_nor_bad(ui_archive):
    backup(ui_archive.store, POLICE, "ok", dt.timedelta(hours=1))
    backup(ui_archive.store, POLICE, "skipped", dt.timedelta(minutes=1))  # another host had it
    assert make_app(ui_archive, POLICE).test_client().get("/healthz").status_code == 200


def test_unreachable_storage_is_503(ui_archive, s3_client):
    from storage.s3 import S3Store

    gone = Archive(ui_archive.config, S3Store(s3_client, "no-such-bucket-for-health"))
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=gone)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["storage"] == "unreachable"


def test_a_damaged_index_is_503(ui_archive, ui_root):
    backup(ui_archive.store, POLICE, "ok", dt.timedelta(minutes=5))
    app = make_app(ui_archive, POLICE)
    shutil.rmtree(ui_root / "index")
    (ui_root / "index").write_text("not an index")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["index"] == "unreachable"


def test_the_accounts_page_shows_states_and_admins_see_a_banner(every_state):
    client = every_state.test_client()
    AuthActions(client).login("vic")
    page = client.get("/accounts").get_data(as_text=True)
    assert "Backups need attention" not in page  # not an admin
    assert "Configured but not archived yet: @ExampleshireFire (failing since" in page
    client = every_state.test_client()
    AuthActions(client).login("ada")
    page = client.get("/accounts").get_data(as_text=True)
    assert "Backups need attention: @ExampleshireFire: failing since" in page
    assert "@ExampleshireRoads: overdue since" in page and "@Parks: never run" in page
    jobs = client.get("/admin/jobs")
    assert jobs.status_code == 200
    text = jobs.get_data(as_text=True)
    assert "token rejected (401)" in text and "incremental" in text
    assert client.get("/admin/jobs").status_code == 200


def test_the_jobs_page_is_for_admins(every_state):
    client = every_state.test_client()
    AuthActions(client).login("vic")
    assert client.get("/admin/jobs").status_code == 403


def test_in_a_browser_an_admin_sees_the_banner_and_the_jobs_page(every_state, browser):
    import threading

    from ui_story import CHROMIUM, PASSWORD
    from werkzeug.serving import make_server

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (ops/setup.sh installs it)")
    server = make_server("127.0.0.1", 0, every_state, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context(base_url=f"http://127.0.0.1:{server.server_port}")
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("User name").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        banner = page.get_by_role("alert").filter(has_text="Backups need attention")
        assert "@ExampleshireFire: failing since" in banner.inner_text()
        page.get_by_role("navigation").get_by_role("link", name="Jobs").click()
        states = page.locator("table.states tbody tr")
        assert states.count() == 4
        assert "failing" in page.locator("tr.state-failing").inner_text()
        jobs = page.locator("table.jobs tbody tr")
        assert jobs.count() == 5
        assert "token rejected (401)" in page.locator("table.jobs").inner_text()
    finally:
        context.close()
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
