"""The follower review of the demo archive in a real Chromium: every kind the force's policy
asks about has examples (the quick start's data), two follower lists can be compared, and
the CSV and JSON carry the documented columns and contract."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from ui_story import CHROMIUM, PASSWORD, SECRET

from archiver.archive import Archive
from archiver.config import Config, IndexConfig, StorageConfig, UiConfig
from archiver.followers import CSV_COLUMNS
from archiver.quickstart import run_demo
from search_ui import create_app
from search_ui.users import UserFile

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
POLICE = "ExampleshirePolice"
SECTIONS = (
    "gained",
    "lost",
    "serial_followers",
    "possible_spoofs",
    "not_following_back",
    "not_followed_back",
)
CONTRACT = {"account", "followers", "following", *SECTIONS}
USER = {"id", "username", "name", "followers_count", "following_count"}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-review")
    run_demo(_archive(root), posts=300, seed=7, say=lambda _line: None)
    UserFile(root / "users.json").add("cora", PASSWORD, "viewer")
    return root


def _archive(root) -> Archive:
    return Archive(
        Config(
            storage=StorageConfig(path=str(root / "store")),
            index=IndexConfig(path=str(root / "index")),
            ui=UiConfig(users_path=str(root / "users.json")),
        )
    )


@pytest.fixture
def app(demo_root):
    return create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=_archive(demo_root))


def _counts(review) -> dict[str, int]:
    out = {}
    for head in review.get_by_role("heading", level=3).all_inner_texts():
        match = re.fullmatch(r"(.+) \(([\d,]+)\)", head)
        assert match, head
        title, count = match.groups()
        out[title] = int(count.replace(",", ""))
    return out


def test_the_demo_review_has_every_kind_and_exports_them(page, app, tmp_path):
    page.goto("/login")
    page.get_by_label("User name").fill("cora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/accounts/{POLICE}")
    review = page.get_by_role("region", name="Follower review")
    counts = _counts(review)
    assert list(counts) == [
        "New followers",
        "Followers lost",
        "Serial followers",
        "Possible squatters or spoofers",
        "We follow, they do not follow back",
        "They follow, we do not follow back",
    ]
    assert all(counts.values()), counts
    summary = review.locator("p.summary").inner_text()
    assert re.match(r"1\d\d followers, following 40, in the list of \d+ \w+ 20\d\d", summary)
    spoofs = page.locator(".review-possible_spoofs tbody tr").all_inner_texts()
    for handle in ("@Exampleshire_Police", "@ExampIeshirePolice", "@ExampleshirePolice_UK"):
        (row,) = [r for r in spoofs if r.startswith(handle + "\t")]
        assert f"@{POLICE}" in row
    assert any("(mentioner)" in r or "(replier)" in r for r in spoofs)
    serial = page.locator(".review-serial_followers tbody tr").first.inner_text().split("\t")
    followers, following = (int(v.replace(",", "")) for v in serial[2:4])
    assert following >= 2000 and following >= 10 * followers

    # the archive's list (follower.js, ids only) against the month-later twarc2 list
    zip_run = review.locator("select[name=from_run] option", has_text="(x-archive)")
    zip_run = zip_run.get_attribute("value")
    review.get_by_label("From").select_option(zip_run)
    review.get_by_role("button", name="Show the changes").click()
    review = page.get_by_role("region", name="Follower review")
    assert "Changes after the list of" in review.locator("p.summary").inner_text()
    between = _counts(review)
    assert between["New followers"] == counts["New followers"]  # no review done: the same
    assert not review.get_by_role("button", name="Mark this review done").count()
    # the archive's list alone: as it stood then, nothing gained or lost before it
    review.get_by_label("From").select_option("")
    review.get_by_label("To").select_option(zip_run)
    review.get_by_role("button", name="Show the changes").click()
    review = page.get_by_role("region", name="Follower review")
    assert review.locator("p.summary").inner_text().startswith("100 followers, following 40")
    then = _counts(review)
    assert then["New followers"] == then["Followers lost"] == 0

    page.goto(f"/accounts/{POLICE}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the review as CSV").click()
    path = tmp_path / "review.csv"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_section = {s: [r for r in rows if r["section"] == s] for s in SECTIONS}
    assert all(by_section.values())
    assert len(by_section["not_followed_back"]) == counts["They follow, we do not follow back"]

    answer = page.request.get(f"/accounts/{POLICE}/review.json")
    assert answer.ok and answer.headers["content-type"].startswith("application/json")
    doc = json.loads(answer.text())
    assert set(doc) >= CONTRACT
    assert doc["account"] == POLICE and isinstance(doc["followers"], int)
    for section in SECTIONS:
        assert len(doc[section]) == len(by_section[section])
        for user in doc[section]:
            assert set(user) >= USER
            for key in ("followers_count", "following_count"):
                assert user[key] is None or isinstance(user[key], int)
    for spoof in doc["possible_spoofs"]:
        assert spoof["imitates"] == POLICE and spoof["why"]
    assert all(u["at"].endswith("Z") for u in doc["gained"])  # machine formats stay UTC


def test_a_stale_or_made_up_run_is_one_line_never_a_500(app):
    from ui_story import AuthActions

    client = app.test_client()
    AuthActions(client).login("cora")
    page = client.get(f"/accounts/{POLICE}?from_run=20990101T000000Z-nope")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "From 20990101T000000Z-nope: no run of this account" in text
    assert "Mark this review done" in text  # the default review, shown instead
    for export in ("review.csv", "review.json"):
        answer = client.get(f"/accounts/{POLICE}/{export}?to_run=20990101T000000Z-nope")
        assert answer.status_code == 400
        assert "--to-run 20990101T000000Z-nope: no run of this account" in answer.get_data(
            as_text=True
        )
