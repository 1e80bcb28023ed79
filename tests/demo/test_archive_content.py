"""What the demo archive holds: the edit chain, the long post, media files, deletions, DMs,
and counts that agree with the generator's summary."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import struct
import zipfile
from collections import Counter

import pytest

from archiver.demo import DemoDataError, write_demo_archive


def _when(created_at: str) -> dt.datetime:
    return dt.datetime.strptime(created_at, "%a %b %d %H:%M:%S %z %Y")


def _kind(tweet: dict) -> str:
    """How an importer tells kinds apart in an archive (there is no kind field)."""
    if tweet["full_text"].startswith("RT @"):
        return "repost"
    if "in_reply_to_status_id" in tweet:
        return "reply"
    urls = tweet["entities"]["urls"]
    if (
        urls
        and "/status/" in urls[-1]["expanded_url"]
        and "/i/web/" not in urls[-1]["expanded_url"]
    ):
        return "quote"
    return "post"


def test_same_seed_same_bytes_other_seed_other_history(tmp_path):
    a = write_demo_archive(tmp_path / "a.zip", posts=300, seed=11)
    b = write_demo_archive(tmp_path / "b.zip", posts=300, seed=11)
    c = write_demo_archive(tmp_path / "c.zip", posts=300, seed=12)
    digest = [hashlib.sha256(s.path.read_bytes()).hexdigest() for s in (a, b, c)]
    assert digest[0] == digest[1] != digest[2]


def test_summary_counts_match_the_files(demo, demo_tweets, read_js):
    summary, zf = demo
    assert summary.tweets == len(demo_tweets) == 3000
    assert dict(Counter(_kind(t) for t in demo_tweets)) == {
        k: v for k, v in summary.kinds.items() if v
    }
    assert len(read_js(zf, "data/tweet-headers.js")) == summary.tweets
    assert len(read_js(zf, "data/deleted-tweets.js")) == summary.deleted > 0
    assert len(read_js(zf, "data/note-tweet.js")) == summary.note_tweets > 0
    assert len(read_js(zf, "data/like.js")) == summary.likes
    assert len(read_js(zf, "data/follower.js")) == summary.followers
    assert len(read_js(zf, "data/following.js")) == summary.following
    dms = read_js(zf, "data/direct-messages.js")
    groups = read_js(zf, "data/direct-messages-group.js")
    assert (len(dms), len(groups)) == (summary.dm_conversations, summary.group_conversations)
    created = [e for c in dms for e in c["dmConversation"]["messages"] if "messageCreate" in e]
    assert len(created) == summary.dm_messages
    group_events = [e for c in groups for e in c["dmConversation"]["messages"]]
    assert len(group_events) == summary.group_messages + summary.group_events
    ids = [t["id"] for t in demo_tweets]
    assert len(set(ids)) == len(ids)
    assert summary.first_post[:4] == "2019" and summary.last_post[:4] == "2025"


def test_an_edited_post_is_two_entries_linked_by_edit_info(demo, demo_tweets):
    summary, _ = demo
    by_id = {t["id"]: t for t in demo_tweets}
    edits = [t for t in demo_tweets if "edit" in t["edit_info"]]
    assert len(edits) == summary.edited == 1
    later = edits[0]
    first = by_id[later["edit_info"]["edit"]["initialTweetId"]]
    chain = [first["id"], later["id"]]
    assert first["edit_info"]["initial"]["editTweetIds"] == chain
    assert later["edit_info"]["edit"]["editControlInitial"]["editTweetIds"] == chain
    assert _when(first["created_at"]) < _when(later["created_at"])
    assert first["full_text"] != later["full_text"]  # the edit fixed a typo
    assert sorted(first["full_text"]) == sorted(later["full_text"])
    singles = [t for t in demo_tweets if t["id"] not in chain]
    assert all(t["edit_info"]["initial"]["editTweetIds"] == [t["id"]] for t in singles)


def test_long_post_pairs_with_its_note_by_second_and_text(demo, demo_tweets, read_js):
    _, zf = demo
    notes = [n["noteTweet"] for n in read_js(zf, "data/note-tweet.js")]
    tweet_ids = {t["id"] for t in demo_tweets}
    for note in notes:
        second = dt.datetime.strptime(note["createdAt"], "%Y-%m-%dT%H:%M:%S.%f%z")
        text = note["core"]["text"]
        assert len(text) > 280
        assert note["noteTweetId"] not in tweet_ids
        pair = [
            t
            for t in demo_tweets
            if _when(t["created_at"]) == second.replace(microsecond=0)
            and text.startswith(html.unescape(t["full_text"]).partition("…")[0])
        ]
        assert len(pair) == 1, note["noteTweetId"]
        shown = pair[0]["full_text"]
        link = pair[0]["entities"]["urls"][-1]
        assert shown.endswith("… " + link["url"])
        assert link["expanded_url"] == f"https://twitter.com/i/web/status/{pair[0]['id']}"
        for tag in note["core"]["hashtags"]:
            assert text[int(tag["fromIndex"]) : int(tag["toIndex"])] == "#" + tag["text"]


def _jpeg_size(data: bytes) -> tuple[int, int]:
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    at = 2
    while data[at] == 0xFF:
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker == 0xC0:  # baseline frame header: precision, height, width
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no frame header")


def _mp4_boxes(data: bytes) -> list[bytes]:
    boxes, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        assert size >= 8
        boxes.append(kind)
        at += size
    assert at == len(data)
    return boxes


def test_every_media_entity_has_its_file(demo, demo_tweets):
    summary, zf = demo
    expected = set()
    for tweet in demo_tweets:
        for m in tweet.get("extended_entities", {}).get("media", []):
            url = m["media_url"]
            if m["type"] == "video":
                mp4s = [v for v in m["video_info"]["variants"] if v["content_type"] == "video/mp4"]
                url = max(mp4s, key=lambda v: int(v["bitrate"]))["url"]
            expected.add(f"data/tweets_media/{tweet['id']}-{url.split('?')[0].rsplit('/', 1)[-1]}")
            first = tweet["entities"]["media"][0]
            assert first["url"] == m["url"] and first["indices"] == m["indices"]
            start, end = map(int, m["indices"])
            assert tweet["full_text"][start:end] == m["url"]
    present = {n for n in zf.namelist() if n.startswith("data/tweets_media/")}
    assert present == expected and len(present) == summary.media_files
    kinds = Counter()
    for name in present:
        data = zf.read(name)
        if name.endswith(".mp4"):
            assert _mp4_boxes(data)[:2] == [b"ftyp", b"moov"]
            kinds["video"] += 1
        else:
            assert _jpeg_size(data) == (16, 9)
            kinds["photo"] += 1
    assert kinds == {"photo": summary.photos, "video": summary.videos}
    assert summary.videos > 0


def test_entity_indices_point_at_their_text(demo_tweets):
    for tweet in demo_tweets:
        text = html.unescape(tweet["full_text"])  # X counts on the unescaped text
        for tag in tweet["entities"]["hashtags"]:
            assert text[slice(*map(int, tag["indices"]))] == "#" + tag["text"]
        for who in tweet["entities"]["user_mentions"]:
            assert text[slice(*map(int, who["indices"]))] == "@" + who["screen_name"]
        for url in tweet["entities"]["urls"]:
            assert text[slice(*map(int, url["indices"]))] == url["url"]


def test_retweets_are_truncated_to_140_and_keep_the_source_of_their_media(demo_tweets):
    reposts = [t for t in demo_tweets if t["full_text"].startswith("RT @")]
    assert reposts
    for tweet in reposts:
        assert len(tweet["full_text"]) <= 140
        assert tweet["entities"]["user_mentions"][0]["indices"][0] == "3"
        for m in tweet.get("extended_entities", {}).get("media", []):
            assert m["source_status_id"] == m["source_status_id_str"]
            assert m["source_user_id"] == tweet["entities"]["user_mentions"][0]["id"]
    assert any("extended_entities" in t for t in reposts)


def test_deleted_posts_say_when_and_are_not_in_tweets_js(demo, demo_tweets, read_js):
    _, zf = demo
    ids = {t["id"] for t in demo_tweets}
    deleted = [e["tweet"] for e in read_js(zf, "data/deleted-tweets.js")]
    media = {
        f"data/deleted_tweets_media/{t['id']}-{m['media_url'].rsplit('/', 1)[-1]}"
        for t in deleted
        for m in t.get("extended_entities", {}).get("media", [])
        if m["type"] == "photo"
    }
    assert media and media <= set(zf.namelist())  # deleted posts keep their media too
    headers = [e["tweet"] for e in read_js(zf, "data/deleted-tweet-headers.js")]
    assert [h["tweet_id"] for h in headers] == [t["id"] for t in deleted]
    for tweet in deleted:
        assert tweet["id"] not in ids
        assert _when(tweet["deleted_at"]) > _when(tweet["created_at"])


def test_direct_messages_newest_first_with_a_group_conversation(demo, read_js):
    _, zf = demo
    for conv in read_js(zf, "data/direct-messages.js"):
        c = conv["dmConversation"]
        low, high = c["conversationId"].split("-")
        assert int(low) < int(high) and "1200000000000000001" in (low, high)
        times = [e["messageCreate"]["createdAt"] for e in c["messages"]]
        assert times == sorted(times, reverse=True)
        for e in c["messages"]:
            msg = e["messageCreate"]
            assert {msg["senderId"], msg["recipientId"]} == {low, high}
    (group,) = [g["dmConversation"] for g in read_js(zf, "data/direct-messages-group.js")]
    assert group["conversationId"].isdigit()
    kinds = [next(iter(e)) for e in group["messages"]]
    assert kinds[-1] == "joinConversation"
    assert {"participantsJoin", "participantsLeave", "conversationNameUpdate"} <= set(kinds)
    assert all("recipientId" not in e.get("messageCreate", {}) for e in group["messages"])
    photos = [n for n in zf.namelist() if n.startswith("data/direct_messages_media/")]
    assert len(photos) == 1


def test_part_size_splits_tweets_js_and_the_manifest_lists_the_parts(tmp_path, read_js):
    summary = write_demo_archive(tmp_path / "parts.zip", posts=250, part_size=100)
    with zipfile.ZipFile(summary.path) as zf:
        files = read_js(zf, "data/manifest.js")["dataTypes"]["tweets"]["files"]
        assert [(f["fileName"], f["globalName"], f["count"]) for f in files] == [
            ("data/tweets.js", "YTD.tweets.part0", "100"),
            ("data/tweets-part1.js", "YTD.tweets.part1", "100"),
            ("data/tweets-part2.js", "YTD.tweets.part2", "50"),
        ]
        assert zf.read("data/tweets-part1.js").startswith(b"window.YTD.tweets.part1 = [\n")


def test_two_thousand_posts_in_one_go(tmp_path, read_js):
    # the suite's cost of a realistic size; speed itself is measured in ops/bench/demo_data.py
    summary = write_demo_archive(tmp_path / "2k.zip", posts=2000)
    with zipfile.ZipFile(summary.path) as zf:
        assert zf.testzip() is None
        assert len(read_js(zf, "data/tweets.js")) == 2000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"posts": 5}, "posts must be between 20 and 2,000,000, got 5"),
        ({"seed": -1}, "seed must be 0 or more, got -1"),
        (
            {"start_year": 2009},
            "start year 2009 and 7 years: need a start year from 2011 (ids are snowflakes) "
            "and 1 to 30 years",
        ),
        ({"part_size": 0}, "part size must be at least 1, got 0"),
    ],
)
def test_bad_arguments_fail_with_one_clear_line_and_write_nothing(tmp_path, kwargs, message):
    with pytest.raises(DemoDataError) as err:
        write_demo_archive(tmp_path / "x.zip", **kwargs)
    assert str(err.value) == message
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    target = tmp_path / "demo.zip"
    target.write_bytes(b"precious")
    with pytest.raises(DemoDataError, match="already exists; pass --force to replace it"):
        write_demo_archive(target, posts=20)
    assert target.read_bytes() == b"precious"
    write_demo_archive(target, posts=20, overwrite=True)
    assert zipfile.is_zipfile(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.zip"]  # no staging left behind


def test_words_follow_a_long_tail_so_search_has_common_and_rare_terms(demo_tweets):
    words = Counter(
        w.lower()
        for t in demo_tweets
        for w in re.findall(r"[A-Za-z]+", re.sub(r"https://t\.co/\w+|@\w+", "", t["full_text"]))
    )
    ranked = [count for _, count in words.most_common()]
    assert len(ranked) > 600
    assert ranked[0] > 10 * ranked[99] > 10 * ranked[499]  # roughly Zipf: 1/rank
    assert sum(1 for c in ranked if c < 5) > 100  # rare words find a handful of posts


def test_posts_fit_in_280_characters_and_long_ones_are_cut_at_a_word(demo_tweets):
    for tweet in demo_tweets:
        text = html.unescape(tweet["full_text"])
        media = tweet["entities"].get("media")
        if media:  # X does not count the media link
            text = text[: int(media[0]["indices"][0])].rstrip()
        urls = tweet["entities"]["urls"]
        if urls and urls[-1]["expanded_url"].startswith("https://twitter.com/i/web/status/"):
            head = text.partition("… https://t.co/")[0]
            assert 260 < len(head) <= 279 and not head.endswith(" ")
            continue
        assert len(text) <= 280, tweet["id"]


def test_a_path_under_a_file_fails_with_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with pytest.raises(DemoDataError, match=r"^cannot create .*notes\.txt: "):
        write_demo_archive(tmp_path / "notes.txt" / "demo.zip", posts=20)
