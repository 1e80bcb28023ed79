"""The periodic follower review in a real Chromium: a communications officer opens the
account page, reads the review, downloads the CSV and marks the review done."""

from __future__ import annotations

import pytest
from ui_story import CHROMIUM, PASSWORD, POLICE, POLICE_ID, SECRET, police_run

from archiver.archive import Archive
from archiver.audit import AuditLog
from archiver.config import Config, IndexConfig, StorageConfig, UiConfig
from search_ui import create_app
from search_ui.backend import EXTENSION
from search_ui.users import UserFile
from storage.records import new_record
from storage.view import EVENTS

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


def member(uid: str, username: str, name: str, followers: int, following: int, kind: str):
    return new_record(
        id=uid,
        kind=kind,
        account=POLICE,
        account_id=POLICE_ID,
        author={"id": uid, "username": username, "name": name},
        metrics={"followers_count": followers, "following_count": following},
        source="x-api-v2",
    )


@pytest.fixture
def app(tmp_path):
    cfg = Config(
        storage=StorageConfig(path=str(tmp_path / "store")),
        index=IndexConfig(path=str(tmp_path / "index")),
        ui=UiConfig(users_path=str(tmp_path / "users.json")),
    )
    archive = Archive(cfg)
    with police_run(archive.store, "full") as run:
        run.write(member("11", "jo_public", "Jo Public", 120, 80, "follower"))
        run.write(member("12", "followbot", "Follow 4 Follow", 40, 4800, "follower"))
        run.write(member("13", "ExampleshirePo1ice", "Exampleshire Police", 3, 50, "follower"))
        run.write(member("15", "NationalPolice", "National Police", 50000, 200, "following"))
        run.write(
            {
                "type": "follower_gained",
                "user_id": "12",
                "username": "followbot",
                "at": "2026-06-02T09:00:00.000000Z",
            },
            EVENTS,
        )
        run.write(
            {
                "type": "follower_lost",
                "user_id": "17",
                "username": "gone_away",
                "at": "2026-06-02T09:00:00.000000Z",
                "last_seen": "2026-05-01T09:00:00.000000Z",
            },
            EVENTS,
        )
        run.commit()
    UserFile(cfg.ui.users_path).add("eve", PASSWORD, "exporter")
    return create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=archive)


def test_an_officer_runs_the_follower_review_and_marks_it_done(page, app):
    page.goto("/login")
    page.get_by_label("User name").fill("eve")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/accounts")
    page.get_by_role("link", name=f"@{POLICE}").click()
    review = page.get_by_role("region", name="Follower review")
    assert "3 followers, following 1." in review.inner_text()
    assert "No review has been marked done yet." in review.inner_text()
    heads = review.get_by_role("heading", level=3).all_inner_texts()
    assert heads == [
        "New followers (1)",
        "Followers lost (1)",
        "Serial followers (1)",
        "Possible squatters or spoofers (1)",
        "We follow, they do not follow back (1)",
        "They follow, we do not follow back (3)",
    ]
    spoof = page.locator(".review-possible_spoofs tbody tr").inner_text()
    assert "@ExampleshirePo1ice" in spoof and "@ExampleshirePolice" in spoof
    assert "look-alike characters" in spoof
    assert "@followbot" in page.locator(".review-serial_followers").inner_text()
    lost = page.locator(".review-lost tbody tr").inner_text()
    assert "@gone_away" in lost and "1 May 2026 10:00 BST" in lost  # last seen, UK time
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the review as CSV").click()
    assert download.value.suggested_filename == f"{POLICE}-follower-review.csv"
    page.get_by_role("button", name="Mark this review done").click()
    assert f"Follower review of @{POLICE} marked done by eve." in page.content()
    review = page.get_by_role("region", name="Follower review")
    assert "Last review marked done by eve" in review.inner_text()
    assert "New followers (0)" in review.inner_text()  # the next review starts from it
    (event,) = AuditLog(app.extensions[EXTENSION].archive.store).events(action="follower_review")
    assert event.user == "eve" and event.detail["account"] == POLICE
