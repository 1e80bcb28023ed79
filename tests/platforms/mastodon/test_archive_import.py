"""Importing a Mastodon account archive: every status with its media, visibility, replies,
boosts, mentions and hashtags; HTML verbatim in raw and as text; bad input refused whole."""

from __future__ import annotations

import datetime as dt
import html
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.demo.mastodon import DEMO_ACCT, status_id, write_demo_mastodon_archive
from archiver.platforms.mastodon import archive as marchive
from archiver.platforms.mastodon.text import html_links, html_text, status_text
from storage.local import LocalStore
from storage.runs import iter_run, list_runs

from .conftest import small_archive


def _records(tmp_path: Path, account_id: str) -> list[tuple[str, dict]]:
    store = LocalStore(tmp_path / "store")
    return [pair for m in list_runs(store, account_id) for pair in iter_run(store, m)]


def test_the_demo_archive_imports_every_status_with_its_structure(cli_run, tmp_path):
    summary = write_demo_mastodon_archive(tmp_path / "force.zip", statuses=60, seed=3)
    result = cli_run("import", str(summary.path))
    assert result.exit_code == 0, result.output
    assert "committed" in result.output
    records = _records(tmp_path, summary.account_id)
    kinds = Counter(r["kind"] for _, r in records)
    assert dict(kinds) == summary.kinds
    assert all(r["platform"] == "mastodon" for _, r in records)
    assert all(r["account_id"] == f"mastodon:{DEMO_ACCT}" for _, r in records)

    by_kind = {k: [r for _, r in records if r["kind"] == k] for k in kinds}
    # a direct status is a DM between the force and the mentioned partner
    dm = by_kind["dm"][0]
    assert dm["participant_ids"][0] == DEMO_ACCT and len(dm["participant_ids"]) == 2
    assert marchive.addressing_visibility(dm["raw"]["to"], dm["raw"]["cc"], "x") == "direct"
    # a reply names the status it answers and (from the mention) whom
    reply = by_kind["reply"][0]
    assert reply["in_reply_to_id"] == reply["raw"]["object"]["inReplyTo"]
    assert reply["in_reply_to_user_id"] in reply["mentions"]
    # a boost is a repost of the Announce's object
    boost = by_kind["repost"][0]
    assert boost["id"].endswith("/activity")
    assert boost["referenced"] == [{"type": "retweeted", "id": boost["raw"]["object"]}]
    # HTML kept verbatim in raw, as text for search; hashtags from `tag`
    post = next(r for r in by_kind["post"] if r["hashtags"])
    assert post["raw"]["object"]["content"].startswith("<p>")
    assert "<" not in post["text"] and "Witness appeal" in post["text"]
    assert "WitnessAppeal" in post["hashtags"]
    # every media file is kept in the run, named by the record
    store = LocalStore(tmp_path / "store")
    (manifest,) = list_runs(store, summary.account_id)
    kept = {o.key.removeprefix("files/") for o in manifest.objects if o.key.startswith("files/")}
    files = [m["file"] for _, r in records for m in r["media"] if "file" in m]
    assert len([f for f in files if f.startswith("media_attachments/")]) == summary.media_files
    assert set(files) <= kept
    assert {"outbox.json", "actor.json", "likes.json", "bookmarks.json"} <= kept
    # the same archive again adds nothing
    again = cli_run("import", str(summary.path))
    assert again.exit_code == 0 and "nothing new" in again.output


def test_visibility_from_addressing():
    followers = "https://h.example/users/a/followers"
    public = marchive.PUBLIC[0]
    assert marchive.addressing_visibility([public], [followers], followers) == "public"
    assert marchive.addressing_visibility([followers], [public], followers) == "unlisted"
    assert marchive.addressing_visibility([followers], ["https://x/users/b"], followers) == (
        "private"
    )
    assert marchive.addressing_visibility(["https://x/users/b"], [], followers) == "direct"


def test_an_edited_status_and_a_content_warning(tmp_path, cli_run):
    archive = small_archive(0)
    when = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    archive.status(
        status_id(when, 1),
        '<p>Road closed<br>Use <a href="https://maps.example/a">the diversion</a></p>',
        when,
        spoiler="Traffic",
        updated=when + dt.timedelta(minutes=3),
    )
    path = archive.zip_to(tmp_path / "a.zip")
    assert cli_run("import", str(path)).exit_code == 0
    (rec,) = [
        r for _, r in _records(tmp_path, "mastodon:force@police.example") if r["kind"] == "post"
    ]
    assert rec["text"] == "Traffic\n\nRoad closed\nUse the diversion"
    assert rec["urls"] == ["https://maps.example/a"]
    assert rec["raw"]["object"]["updated"]


def test_the_founders_real_archive_sample(samples, cli_run, tmp_path):
    folder = samples / "mastodon-archive_dealingwith"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not there")
    outbox = json.loads((folder / "outbox.json").read_text())["orderedItems"]
    likes = json.loads((folder / "likes.json").read_text())["orderedItems"]
    bookmarks = json.loads((folder / "bookmarks.json").read_text())["orderedItems"]
    result = cli_run("import", str(folder))
    assert result.exit_code == 0, result.output
    got = [r for _, r in _records(tmp_path, "mastodon:dealingwith@indieweb.social")]
    kinds = Counter(r["kind"] for r in got)
    creates = sum(1 for a in outbox if a["type"] == "Create")
    assert kinds["post"] + kinds["reply"] + kinds["dm"] + kinds["quote"] == creates
    assert kinds["repost"] == sum(1 for a in outbox if a["type"] == "Announce")
    assert (kinds["like"], kinds["bookmark"], kinds["profile"]) == (len(likes), len(bookmarks), 1)
    # every reply in the outbox is a reply record naming the same status
    replies = {a["object"]["id"]: a["object"]["inReplyTo"] for a in outbox if a["type"] == "Create"}
    for r in got:
        if r["kind"] in ("post", "reply", "dm"):
            assert r["in_reply_to_id"] == replies[r["id"]]
            assert r["author"]["id"] == "dealingwith@indieweb.social"


# -- bad input: one line naming the file and the problem, exit 1, store unchanged ----------
def _zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _with(tmp_path: Path, name: str, **replace: bytes | str) -> Path:
    docs: dict[str, bytes | str] = dict(small_archive().documents())
    docs.update(replace)
    return _zip(tmp_path / name, docs)


def test_an_outbox_that_is_not_activitystreams(refused, tmp_path):
    path = _with(tmp_path, "plain.zip", **{"outbox.json": json.dumps({"statuses": []})})
    assert refused(path) == (
        "error: plain.zip: outbox.json: not an ActivityStreams collection "
        "(@context 'None', type 'None')"
    )
    listed = _with(tmp_path, "list.zip", **{"outbox.json": "[1, 2]"})
    assert refused(listed) == (
        "error: list.zip: outbox.json: not an ActivityStreams collection "
        "(expected an object, got a list)"
    )
    broken = _with(tmp_path, "broken.zip", **{"outbox.json": "{not json"})
    assert refused(broken).startswith("error: broken.zip: outbox.json: invalid JSON (")


def test_traversal_paths_are_refused(refused, tmp_path):
    path = _with(tmp_path, "slip.zip", **{"../../outside.json": "{}"})
    assert refused(path) == (
        "error: slip.zip: unsafe path '../../outside.json' in archive (refusing to import)"
    )
    assert not (tmp_path.parent / "outside.json").exists()


def test_a_decompression_bomb_is_refused(refused, tmp_path):
    bomb = b"\0" * (40 * 1024 * 1024)
    path = _with(tmp_path, "bomb.zip", **{"media_attachments/files/1/original/x.jpg": bomb})
    line = refused(path)
    assert line.startswith(
        "error: bomb.zip: media_attachments/files/1/original/x.jpg would inflate to 41943040 bytes"
    )
    assert "decompression bomb" in line


def _outbox_with(mutate) -> str:
    doc = json.loads(small_archive().documents()["outbox.json"])
    mutate(doc["orderedItems"])
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda items: items[1]["object"].update(content=5),
            "outbox.json: entry 2: entry.object.content: expected text, got a number",
        ),
        (
            lambda items: items[0]["object"].update(tag=["#x"]),
            "outbox.json: entry 1: entry.object.tag[0]: expected an object, got text",
        ),
        (
            lambda items: items[2]["object"].update(to="public"),
            "outbox.json: entry 3: entry.object.to: expected a list, got text",
        ),
        (
            lambda items: items[0].update(object=None),
            "outbox.json: entry 1: entry.object.id: expected text, got null",
        ),
        (
            lambda items: items[0]["object"].update(published="yesterday"),
            "outbox.json: entry 1: entry.object.published: expected a timestamp, got text",
        ),
        (
            lambda items: items.append("not an activity"),
            "outbox.json: entry 4: entry: expected an object, got text",
        ),
    ],
)
def test_wrong_types_in_the_outbox(refused, tmp_path, mutate, expected):
    path = _with(tmp_path, "types.zip", **{"outbox.json": _outbox_with(mutate)})
    assert refused(path) == f"error: types.zip: {expected}"


def test_wrong_types_in_actor_and_likes(refused, tmp_path):
    actor = small_archive().actor()
    actor["preferredUsername"] = ["force"]
    path = _with(tmp_path, "actor.zip", **{"actor.json": json.dumps(actor)})
    assert refused(path) == (
        "error: actor.zip: actor.json: actor.preferredUsername: expected text, got a list"
    )
    likes = {
        "@context": marchive._AS_CONTEXT,
        "type": "OrderedCollection",
        "orderedItems": ["https://a.example/s/1", 7],
    }
    path = _with(tmp_path, "likes.zip", **{"likes.json": json.dumps(likes)})
    assert refused(path) == (
        "error: likes.zip: likes.json: entry 2: expected a status URI, got a number"
    )


def test_sniff_recognises_only_mastodon_archives(tmp_path):
    good = small_archive().zip_to(tmp_path / "m.zip")
    assert marchive.sniff(str(good))
    folder = tmp_path / "unpacked" / "archive-2026"
    folder.mkdir(parents=True)
    for name, data in small_archive().documents().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    assert marchive.sniff(str(folder.parent)) and marchive.sniff(str(folder))
    x_zip = _zip(tmp_path / "x.zip", {"data/manifest.js": "window.__THAR_CONFIG = {}"})
    assert not marchive.sniff(str(x_zip))
    assert not marchive.sniff(str(tmp_path / "absent.zip"))


def test_an_unpacked_folder_imports_like_the_zip(tmp_path, cli_run):
    folder = tmp_path / "unpacked"
    for name, data in small_archive().documents().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    result = cli_run("import", str(folder))
    assert result.exit_code == 0, result.output
    kinds = Counter(r["kind"] for _, r in _records(tmp_path, "mastodon:force@police.example"))
    assert kinds == {"post": 3, "profile": 1}


# -- HTML as text ------------------------------------------------------------------------
def test_html_text_keeps_paragraphs_and_drops_markup():
    content = (
        '<p>Hello <span class="h-card"><a href="https://a.example/@b" class="u-url mention">'
        '@<span>b</span></a></span></p><p>See <a href="https://x.example/page">'
        '<span class="invisible">https://</span><span>x.example/page</span></a>'
        "<script>alert(1)</script></p>"
    )
    assert html_text(content) == "Hello @b\n\nSee https://x.example/page"
    assert html_links(content) == ["https://x.example/page"]
    assert status_text(content, " CW ") == "CW\n\nHello @b\n\nSee https://x.example/page"


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=80))
def test_html_text_round_trips_escaped_text(text):
    assert html_text(f"<p>{html.escape(text)}</p>") == text.strip()
