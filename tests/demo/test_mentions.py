"""The public's replies: twarc2 JSONL of API v2 mentions pages that point at the archive's
posts, readable by tweepy's own models."""

from __future__ import annotations

import copy
import warnings
from urllib.parse import parse_qs, urlsplit

import tweepy

FORCE_ID = "1200000000000000001"


def test_pages_are_newest_first_and_chained_by_next_token(mentions):
    summary, pages = mentions
    assert summary.pages == len(pages) > 1
    previous_token = None
    newest_first = []
    for n, page in enumerate(pages):
        url = urlsplit(page["__twarc"]["url"])
        assert url.path == f"/2/users/{FORCE_ID}/mentions"
        query = parse_qs(url.query)
        assert query.get("pagination_token") == ([previous_token] if previous_token else None)
        assert query["max_results"] == ["100"]
        meta = page["meta"]
        assert meta["result_count"] == len(page["data"]) <= 100
        assert meta["newest_id"] == page["data"][0]["id"]
        assert meta["oldest_id"] == page["data"][-1]["id"]
        if n < len(pages) - 1:
            assert len(meta["next_token"]) == 45
        else:
            assert "next_token" not in meta  # absent on the last page, as the API does
        previous_token = meta.get("next_token")
        newest_first += [int(t["id"]) for t in page["data"]]
    assert newest_first == sorted(newest_first, reverse=True)
    assert len(newest_first) == summary.mentions == len(set(newest_first))


def test_replies_point_at_the_archives_posts(mentions, demo_tweets):
    summary, pages = mentions
    archive_ids = {t["id"] for t in demo_tweets}
    replies = 0
    for page in pages:
        users = {u["id"] for u in page["includes"]["users"]}
        included = {t["id"]: t for t in page["includes"]["tweets"]}
        for tweet in page["data"]:
            assert tweet["author_id"] in users and tweet["author_id"] != FORCE_ID
            assert tweet["created_at"].endswith(".000Z")
            assert tweet["edit_history_tweet_ids"] == [tweet["id"]]
            mention = tweet["entities"]["mentions"][0]
            assert mention["username"] == "ExampleshirePolice" and mention["id"] == FORCE_ID
            assert tweet["text"][mention["start"] : mention["end"]] == "@ExampleshirePolice"
            refs = tweet.get("referenced_tweets", [])
            if not refs:
                assert tweet["conversation_id"] == tweet["id"]  # someone starting a thread
                continue
            (ref,) = refs
            assert ref["type"] == "replied_to" and tweet["in_reply_to_user_id"] == FORCE_ID
            assert ref["id"] in archive_ids
            assert included[ref["id"]]["author_id"] == FORCE_ID
            replies += 1
    assert replies == summary.replies > summary.mentions // 2


def test_pages_read_cleanly_with_tweepys_models(mentions):
    _, pages = mentions
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tweepy warns when edit_history_tweet_ids is missing
        for page in copy.deepcopy(pages[:3]):  # tweepy's models change the dicts they wrap
            for item in page["data"] + page["includes"]["tweets"]:
                tweet = tweepy.Tweet(item)
                assert tweet.created_at.tzinfo is not None
                assert tweet.edit_history_tweet_ids
            for item in page["includes"]["users"]:
                assert tweepy.User(item).username
