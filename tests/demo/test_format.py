"""The demo ZIP is laid out and written byte for byte the way X writes 2022+ archives."""

from __future__ import annotations

import json
import re

import pytest

from archiver.demo.jsformat import manifest_bytes, ytd_bytes

REAL_DATA_FILES = [
    "archive-2026-03_milahu104/data/tweets.js",
    "archive-2026-03_milahu104/data/deleted-tweets.js",
    "archive-2026-03_milahu104/data/like.js",
    "archive-2026-03_milahu104/data/follower.js",
    "archive-2026-03_milahu104/data/direct-messages.js",
    "archive-2026-03_milahu104/data/direct-message-headers.js",
    "archive-2026-03_milahu104/data/note-tweet.js",
    "archive-2026-03_milahu104/data/profile.js",
    "archive-2026-03_milahu104/data/account.js",
    "archive-2022-10_larsbrinkhoff/data/deleted-tweets.js",
]
LAYOUT_DATA_FILES = [f"x_layout/data/{n}" for n in ("tweets.js", "follower.js", "note-tweet.js")]
REAL_MANIFESTS = [
    "archive-2021-03_larsbrinkhoff/data/manifest.js",
    "archive-2022-10_larsbrinkhoff/data/manifest.js",
    "archive-2023-08_larsbrinkhoff/data/manifest.js",
    "archive-2026-03_milahu104/data/manifest.js",
]


@pytest.mark.parametrize("name", LAYOUT_DATA_FILES + REAL_DATA_FILES)
def test_data_files_are_written_exactly_as_x_writes_them(format_file, name):
    real = format_file(name)
    prefix, _, body = real.decode("utf-8").partition(" = ")
    global_name = prefix.removeprefix("window.")
    assert ytd_bytes(global_name, json.loads(body)) == real


@pytest.mark.parametrize("name", ["x_layout/data/manifest.js", *REAL_MANIFESTS])
def test_manifest_is_written_exactly_as_x_writes_it(format_file, name):
    real = format_file(name)
    config = json.loads(real.decode("utf-8").partition("=")[2])
    assert manifest_bytes(config) == real


def test_text_that_looks_like_the_format_is_kept_verbatim():
    tricky = {"a": 'he said "stop" : [] now', "b": 'x": {}', "c": [], "d": {}, "e": "end\\"}
    written = ytd_bytes("YTD.like.part0", [{"like": tricky}]).decode()
    assert json.loads(written.partition("=")[2]) == [{"like": tricky}]
    assert '"c" : [ ]' in written and '"d" : { }' in written and '"a" : "he said' in written


def test_every_data_file_has_xs_prefix_layout_and_no_trailing_newline(demo):
    _, zf = demo
    for name in zf.namelist():
        if not name.endswith(".js") or name == "data/manifest.js":
            continue
        text = zf.read(name).decode("utf-8")
        base = name.rsplit("/", 1)[-1].removesuffix(".js")
        part = re.search(r"-part(\d+)$", base)
        global_name = re.sub(r"-part\d+$", "", base).replace("-", "_")
        assert text.startswith(f"window.YTD.{global_name}.part{part[1] if part else 0} = ")
        assert not text.endswith("\n")
        body = text.partition(" = ")[2]
        assert body == "[ ]" or (body.startswith("[\n  {\n    ") and body.endswith("\n  }\n]"))
        json.loads(body)  # the whole rest is one JSON array


def test_zip_entries_are_sorted_with_one_timestamp(demo):
    summary, zf = demo
    infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(2026, 1, 6, 10, 15, 30)}  # ZIP times have 2 s steps
    assert not any(name.endswith("/") for name in names)
    assert names[0] == "Your archive.html"
    assert "data/README.txt" in names


def test_manifest_lists_every_data_file_with_its_exact_count(demo, read_js):
    _, zf = demo
    manifest = read_js(zf, "data/manifest.js")
    assert manifest["userInfo"] == {
        "accountId": "1200000000000000001",
        "userName": "ExampleshirePolice",
        "displayName": "Examplefordshire Police",
    }
    listed = set()
    for dtype, info in manifest["dataTypes"].items():
        for f in info.get("files", []):
            listed.add(f["fileName"])
            assert isinstance(f["count"], str), dtype
            assert int(f["count"]) == len(read_js(zf, f["fileName"])), f["fileName"]
            base = f["fileName"].removeprefix("data/").removesuffix(".js")
            stem, _, part = base.partition("-part")
            assert f["globalName"] == f"YTD.{stem.replace('-', '_')}.part{part or 0}"
    data_files = {n for n in zf.namelist() if n.endswith(".js") and n != "data/manifest.js"}
    assert listed == data_files
    others = [i for i in zf.infolist() if i.filename != "data/manifest.js"]
    assert manifest["archiveInfo"]["sizeBytes"] == str(sum(i.file_size for i in others))


@pytest.mark.parametrize(
    "name", ["x_layout/data/tweets.js", "archive-2026-03_milahu104/data/tweets.js"]
)
def test_tweets_have_the_keys_and_types_of_a_2026_archive(demo_tweets, format_file, name):
    always = {
        "edit_info",
        "retweeted",
        "source",
        "entities",
        "display_text_range",
        "favorite_count",
        "id_str",
        "truncated",
        "retweet_count",
        "id",
        "created_at",
        "favorited",
        "full_text",
        "lang",
    }
    sample = json.loads(format_file(name).decode("utf-8").partition("=")[2])
    real_order = []
    for entry in sample:
        real_order += [k for k in entry["tweet"] if k not in real_order]
    for tweet in demo_tweets:
        assert always <= set(tweet), tweet["id"]
        known = [k for k in tweet if k in real_order]
        assert known == sorted(known, key=real_order.index), tweet["id"]  # X's key order
        assert tweet["id"] == tweet["id_str"] and tweet["id"].isdigit()
        assert re.fullmatch(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \+0000 \d{4}", tweet["created_at"])
        assert isinstance(tweet["favorite_count"], str) and isinstance(tweet["retweeted"], bool)
        assert tweet["display_text_range"] == [
            "0",
            str(
                len(
                    tweet["full_text"]
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                )
            ),
        ]
        for kind in ("hashtags", "user_mentions", "urls"):
            for entity in tweet["entities"].get(kind, []):
                assert all(isinstance(i, str) for i in entity["indices"])
        if "in_reply_to_status_id" in tweet:
            assert {
                "in_reply_to_status_id_str",
                "in_reply_to_user_id",
                "in_reply_to_user_id_str",
                "in_reply_to_screen_name",
            } <= set(tweet)
