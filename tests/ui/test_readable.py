"""Readable items in a real Chromium: UK times across a DST change (UTC beside them on the
item page), a direct message titled and addressed as one, a reply whose parent the archive
does not hold (no 404), and the conversation around an item in order."""

from __future__ import annotations

import pytest
from ui_story import CHROMIUM, PASSWORD, POLICE, POLICE_ID, SECRET, police_post, police_run

from archiver.archive import Archive
from archiver.config import Config, IndexConfig, StorageConfig, UiConfig
from archiver.index import Index
from search_ui import create_app
from search_ui.users import UserFile
from storage.records import new_record

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
ANN = {"id": "42", "username": "resident_ann", "name": "Ann Resident"}


@pytest.fixture
def app(tmp_path):
    """An archive of its own: a winter post edited after the clocks went forward and
    captured in summer, replies, a conversation, a DM."""
    cfg = Config(
        storage=StorageConfig(path=str(tmp_path / "store")),
        index=IndexConfig(path=str(tmp_path / "index")),
        ui=UiConfig(users_path=str(tmp_path / "users.json")),
    )
    archive = Archive(cfg)
    summer = "2026-07-01T08:15:02.000000Z"
    with police_run(archive.store, "full") as run:
        run.write(
            police_post(
                "3001",
                "Winter appeal: have you seen this bike?",
                "2026-01-15T12:00:00.000Z",
                conversation_id="3001",
                edit_history_ids=["3001"],
                captured_at="2026-01-15T12:05:00.000000Z",
            )
        )
        run.write(
            police_post(
                "3005",
                "Winter appeal: have you seen this bike? (found)",
                "2026-03-29T01:30:00.000Z",
                conversation_id="3001",
                edit_history_ids=["3001", "3005"],
                captured_at=summer,
            )
        )
        run.write(
            police_post(
                "3003",
                "@resident_ann thank you, passed to the team",
                "2026-03-30T09:00:00.000Z",
                kind="reply",
                conversation_id="3001",
                in_reply_to_id="3006",
            )
        )
        run.write(
            police_post(
                "3006",
                f"@{POLICE} I saw it by the station",
                "2026-03-30T08:00:00.000Z",
                kind="mention",
                author=ANN,
                conversation_id="3001",
                in_reply_to_id="3001",
            )
        )
        run.write(
            police_post(
                "3002",
                "@someone_else we cannot comment on that",
                "2026-04-02T10:00:00.000Z",
                kind="reply",
                conversation_id="999999",
                in_reply_to_id="999999",
            )
        )
        run.write(
            new_record(
                id="3004",
                kind="dm",
                account=POLICE,
                account_id=POLICE_ID,
                author=ANN,
                created_at="2026-04-03T10:00:00.000Z",
                text="Can I send you the photos privately?",
                conversation_id=f"42-{POLICE_ID}",
                participant_ids=["42", POLICE_ID],
                source="x-api-v2",
                captured_at=summer,
                raw={"id": "3004", "sender_id": "42", "dm_conversation_id": f"42-{POLICE_ID}"},
            )
        )
        run.commit()
    Index(cfg.index.path).update(archive)
    UserFile(cfg.ui.users_path).add("vic", PASSWORD, "viewer")
    return create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=archive)


def log_in(page) -> None:
    page.goto("/login")
    page.get_by_label("User name").fill("vic")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_item_page_shows_uk_times_across_a_dst_change_with_utc_beside(page):
    log_in(page)
    page.goto("/items/3001")
    assert page.get_by_role("heading", level=1).inner_text() == "Post 3001 by @ExampleshirePolice"
    versions = page.locator(".version .meta").all_inner_texts()
    assert "made on the platform 15 Jan 2026 12:00:00 GMT (2026-01-15 12:00:00 UTC)" in versions[0]
    assert "captured 15 Jan 2026 12:05:00 GMT (2026-01-15 12:05:00 UTC)" in versions[0]
    # the edit came after the clocks went forward: BST, an hour ahead of UTC
    assert (
        "edited on the platform 29 Mar 2026 02:30:00 BST (2026-03-29 01:30:00 UTC)" in versions[1]
    )
    assert "captured 1 Jul 2026 09:15:02 BST (2026-07-01 08:15:02 UTC)" in versions[1]
    created = page.locator("dt:text-is('Created') + dd time")
    assert created.get_attribute("datetime") == "2026-03-29T01:30:00.000Z"  # machines: UTC


def test_a_direct_message_is_titled_and_addressed_as_one(page):
    log_in(page)
    page.goto("/items/3004")
    assert page.title().startswith("Direct message 3004 ")
    assert page.get_by_role("heading", level=1).inner_text() == "Direct message 3004"
    assert page.locator(".dm-parties").inner_text() == ("From @resident_ann to @ExampleshirePolice")
    page.goto("/search?q=photos")
    hit = page.locator(".hit .meta").first.inner_text()
    assert "Direct message" in hit and "from @resident_ann" in hit


def test_a_reply_whose_parent_is_not_archived_says_so_never_a_404(page):
    log_in(page)
    response = page.goto("/items/3002")
    assert response is not None and response.status == 200
    parent = page.locator("dd.parent")
    assert parent.inner_text() == (
        "999999, not in the archive; on X: https://x.com/i/web/status/999999"
    )
    assert parent.get_by_role("link").get_attribute("href") == "https://x.com/i/web/status/999999"


def test_a_reply_shows_its_parent_and_the_conversation_in_order(page):
    log_in(page)
    page.goto("/items/3003")
    parent = page.locator("dd.parent")
    assert "Mention 3006 by @resident_ann" in parent.inner_text()
    assert "I saw it by the station" in parent.inner_text()
    rows = page.locator(".conversation-list li").all_inner_texts()
    assert [r.split(": ", 1)[1][:20] for r in rows] == [
        "Winter appeal: have ",
        "@ExampleshirePolice ",
        "@resident_ann thank ",
    ]
    assert page.locator(".conversation-list li.current").inner_text().endswith("(this item)")
