"""A field of the wrong type in an archive ZIP, a classic archive or twarc JSONL: one line
naming the file, the entry number and the field, exit 1, and the store exactly as it was
(the `rejected` fixture checks all three)."""

from __future__ import annotations

import json
import zipfile

import pytest

from archiver.imports.files import open_source
from archiver.imports.xarchive import parse_classic

from .conftest import tweet, write_archive, ytd


def _archive(tmp_path, name: str, entries: list, data_file: str = "tweets.js") -> str:
    base = data_file.removesuffix(".js").replace("-", "_")
    return str(write_archive(tmp_path / name, {data_file: ytd(base, entries)}))


def test_a_list_where_the_tweet_object_belongs(rejected, tmp_path):
    # the finding: AttributeError: 'list' object has no attribute 'get'
    path = _archive(tmp_path, "list.zip", [{"tweet": tweet("2", "a")["tweet"]}, {"tweet": []}])
    assert rejected(path) == (
        "error: list.zip: data/tweets.js: entry 2: entry.tweet: expected an object, got a list"
    )


@pytest.mark.parametrize(
    ("change", "field", "expected", "got"),
    [
        (lambda t: t.update(entities=[]), "entry.tweet.entities", "an object", "a list"),
        (
            lambda t: t["entities"].update(urls=[{"expanded_url": 7}]),
            "entry.tweet.entities.urls[0].expanded_url",
            "text",
            "a number",
        ),
        (lambda t: t.update(full_text=["a"]), "entry.tweet.full_text", "text", "a list"),
        (
            lambda t: t.update(id_str={"x": 1}, id=None),
            "entry.tweet.id_str",
            "an id (text or a whole number)",
            "an object",
        ),
        (lambda t: t.update(created_at=12.5), "entry.tweet.created_at", "a timestamp", "a number"),
        (
            lambda t: t.update(created_at="the day after tomorrow"),
            "entry.tweet.created_at",
            "a timestamp",
            "text",
        ),
        (
            lambda t: t.update(favorite_count=True),
            "entry.tweet.favorite_count",
            "a whole number",
            "true/false",
        ),
        (
            lambda t: t["edit_info"]["initial"].update(editTweetIds="1"),
            "entry.tweet.edit_info.initial.editTweetIds",
            "a list",
            "text",
        ),
        (
            lambda t: t.update(extended_entities={"media": [{"type": "video", "video_info": []}]}),
            "entry.tweet.extended_entities.media[0].video_info",
            "an object",
            "a list",
        ),
    ],
)
def test_every_tweet_field_is_checked(rejected, tmp_path, change, field, expected, got):
    bad = tweet("3", "b")
    change(bad["tweet"])
    path = _archive(tmp_path, "field.zip", [tweet("2", "a"), bad])
    assert rejected(path) == (
        f"error: field.zip: data/tweets.js: entry 2: {field}: expected {expected}, got {got}"
    )


def test_likes_followers_dms_and_the_profile_are_checked(rejected, tmp_path):
    path = _archive(tmp_path, "like.zip", [{"like": {"tweetId": ["1"]}}], "like.js")
    assert rejected(path) == (
        "error: like.zip: data/like.js: entry 1: entry.like.tweetId: "
        "expected an id (text or a whole number), got a list"
    )
    path = _archive(
        tmp_path, "fol.zip", [{"follower": {"accountId": "9", "userLink": 3}}], "follower.js"
    )
    assert rejected(path) == (
        "error: fol.zip: data/follower.js: entry 1: entry.follower.userLink: "
        "expected text, got a number"
    )
    conv = {"dmConversation": {"conversationId": "1-2", "messages": [{"messageCreate": []}]}}
    path = _archive(tmp_path, "dm.zip", [conv], "direct-messages.js")
    assert rejected(path) == (
        "error: dm.zip: data/direct-messages.js: entry 1: "
        "entry.dmConversation.messages[0].messageCreate: expected an object, got a list"
    )
    path = _archive(tmp_path, "prof.zip", [{"profile": {"description": "bio"}}], "profile.js")
    assert rejected(path) == (
        "error: prof.zip: data/profile.js: entry 1: profile.profile.description: "
        "expected an object, got text"
    )


def test_a_data_file_that_is_not_a_list(rejected, tmp_path):
    text = "window.YTD.tweets.part0 = " + json.dumps({"tweet": tweet("1", "a")["tweet"]})
    path = write_archive(tmp_path / "obj.zip", {"tweets.js": text})
    assert rejected(path) == (
        "error: obj.zip: data/tweets.js: expected a list of entries, got an object"
    )


def test_the_manifest_is_checked(rejected, tmp_path):
    path = tmp_path / "manifest.zip"
    manifest = {
        "userInfo": {"accountId": "5", "userName": "x"},
        "dataTypes": {"tweets": {"files": {"fileName": "data/tweets.js"}}},
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/manifest.js", "window.__THAR_CONFIG = " + json.dumps(manifest))
        zf.writestr("data/tweets.js", ytd("tweets", [tweet("1", "a")]))
    assert rejected(path) == (
        "error: manifest.zip: data/manifest.js: manifest.dataTypes.tweets.files: "
        "expected a list, got an object"
    )


def _classic(tmp_path, name: str, months: list, posts: list) -> str:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "data/js/user_details.js",
            "var user_details = " + json.dumps({"id": "5", "screen_name": "x"}),
        )
        zf.writestr("data/js/tweet_index.js", "var tweet_index = " + json.dumps(months))
        zf.writestr(
            "data/js/tweets/2015_01.js", "Grailbird.data.tweets_2015_01 = " + json.dumps(posts)
        )
    return str(path)


def test_a_classic_archive_is_checked(rejected, tmp_path):
    month = {"file_name": "data/js/tweets/2015_01.js", "tweet_count": 2}
    good = {"id_str": "10", "text": "hello", "created_at": "2015-01-02 10:00:00 +0000"}
    path = _classic(
        tmp_path, "classic.zip", [month], [good, {**good, "id_str": "11", "entities": "x"}]
    )
    assert rejected(path) == (
        "error: classic.zip: data/js/tweets/2015_01.js: entry 2: entry.entities: "
        "expected an object, got text"
    )
    path = _classic(tmp_path, "index.zip", [{**month, "file_name": 2015}], [good])
    assert rejected(path) == (
        "error: index.zip: data/js/tweet_index.js: entry 1: entry.file_name: "
        "expected text, got a number"
    )


def test_twarc_pages_are_checked(rejected, tmp_path):
    page = {
        "data": [{"id": "1", "text": "hi", "author_id": "5", "entities": {"hashtags": "tag"}}],
        "includes": {"users": [{"id": "5", "username": "x"}]},
        "__twarc": {
            "url": "https://api.x.com/2/users/5/tweets",
            "retrieved_at": "2024-01-01T00:00:00+00:00",
        },
    }
    good = {**page, "data": [{"id": "2", "text": "ok", "author_id": "5"}]}
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(page) + "\n", encoding="utf-8")
    assert rejected(path) == (
        "error: pages.jsonl: entry 2: entry.data[0].entities.hashtags: expected a list, got text"
    )
    page["data"] = [{"id": "3", "text": "x", "author_id": "5"}]
    page["includes"] = {"users": [{"id": "5", "username": ["x"]}]}
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    assert rejected(path) == (
        "error: pages.jsonl: entry 1: entry.includes.users[0].username: expected text, got a list"
    )
    flat = {"id": "4", "text": "x", "author_id": "5", "author": "someone"}
    path.write_text(json.dumps(flat) + "\n", encoding="utf-8")
    assert (
        rejected(path) == "error: pages.jsonl: entry 1: entry.author: expected an object, got text"
    )


def test_a_classic_archive_streams_its_months_and_a_late_bad_post_writes_nothing(
    rejected, tmp_path
):
    """The posts are read one month file at a time (memory flat in their number); the layout
    is checked first, and a bad post in a later month still leaves nothing written."""
    months = [{"file_name": f"data/js/tweets/2015_0{m}.js", "tweet_count": 1} for m in (1, 2, 3)]
    good = {"id_str": "10", "text": "hello", "created_at": "2015-01-02 10:00:00 +0000"}
    path = tmp_path / "months.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/js/user_details.js", "var user_details = " + json.dumps({"id": "5"}))
        zf.writestr("data/js/tweet_index.js", "var tweet_index = " + json.dumps(months))
        for m in (1, 2, 3):
            post = {**good, "id_str": str(10 + m)} if m < 3 else {**good, "entities": []}
            zf.writestr(
                f"data/js/tweets/2015_0{m}.js",
                f"Grailbird.data.tweets_2015_0{m} = " + json.dumps([post]),
            )
    files = open_source(str(path))
    try:
        parsed = parse_classic(files, "")
        records = iter(parsed.records)
        next(records)
        # the first month is being read; the others are not yet
        assert not any(rel.startswith("data/js/tweets/") for rel, _ in parsed.files)
    finally:
        files.close()
    assert rejected(path) == (
        "error: months.zip: data/js/tweets/2015_03.js: entry 1: entry.entities: "
        "expected an object, got a list"
    )
