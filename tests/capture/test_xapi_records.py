"""X API v2 pages from the recorded samples become the records staff will read."""

from __future__ import annotations

import json

import pytest

from archiver.errors import ArchiveFormatError
from archiver.xapi_records import parse_endpoint, records_from_page
from storage.records import content_hash, item_key


def _page(samples, name: str) -> dict:
    return json.loads((samples / "api-v2" / name).read_text(encoding="utf-8"))


def _cassette(samples, name: str, uri_end: str) -> dict:
    exchanges = _page(samples, f"tweepy-cassettes-decoded/{name}")
    return next(e for e in exchanges if e["method"] == "GET" and e["uri"].endswith(uri_end))


def test_own_timeline_page_resolves_kinds_authors_and_referenced_posts(samples):
    page = _page(samples, "twarc-csv/users_id_tweets_page_trimmed.json")
    recs = list(
        records_from_page(
            page, endpoint=page["__twarc"]["url"], account="PhillyNEFL", account_id="2351222345"
        )
    )
    assert [r["kind"] for r in recs] == [
        "repost",
        "reply",
        "repost",
        "post",
        "post",
        "reply",
        "repost",
    ]
    reply = recs[1]
    assert reply["author"] == {"id": "2351222345", "username": "PhillyNEFL", "name": "Philly NEFL"}
    assert reply["in_reply_to_id"] == "1257680252781899776"
    assert reply["referenced"][0]["author"]["username"] == "BleacherReport"
    assert reply["referenced"][0]["text"].startswith("In 1986, Larry Bird")
    assert reply["created_at"] == "2020-05-05T16:45:14.000Z"
    assert reply["mentions"] == ["BleacherReport", "NBAHistory"]
    assert reply["source"] == "x-api-v2"
    assert reply["raw"] == page["data"][1]  # the evidential original, untouched
    video = recs[-1]["media"][0]
    assert video["key"] == "13_1257090303334338561" and video["type"] == "video"


def test_edited_post_keeps_its_edit_chain(samples):
    page = json.loads((samples / "api-v2/twarc-csv/edited.jsonl").read_text().splitlines()[0])
    (rec,) = records_from_page(
        page,
        endpoint=page["__twarc"]["url"],
        account="wongmjane",
        account_id="337119125",
        source="twarc",
    )
    assert rec["kind"] == "post"  # a look-up of the account's own post
    assert rec["edit_history_ids"] == ["1576994746135764992", "1576994789110992896"]
    assert item_key(rec) == "1576994746135764992"
    assert rec["source"] == "twarc"


def test_referenced_post_context_does_not_make_a_new_version(samples):
    page = _page(samples, "twarc-csv/users_id_tweets_page_trimmed.json")
    args = {"endpoint": "/2/users/2351222345/tweets", "account": "a", "account_id": "2351222345"}
    with_context = next(records_from_page(page, **args))
    without = next(
        records_from_page(
            {"data": page["data"][:1], "includes": {"users": page["includes"]["users"]}}, **args
        )
    )
    assert "text" in with_context["referenced"][0] and "text" not in without["referenced"][0]
    assert content_hash(with_context) == content_hash(without)


@pytest.mark.parametrize(
    ("cassette", "uri_end", "kind", "count"),
    [
        ("test_client_get_users_mentions.json", "/mentions", "mention", 10),
        ("test_client_get_liked_tweets.json", "/liked_tweets", "like", 96),
        ("test_client_get_users_followers.json", "/followers", "follower", 100),
        ("test_client_get_users_following.json", "/following", "following", 35),
        ("test_client_get_owned_lists.json", "/owned_lists", "list", 11),
        ("test_client_bookmarks.json", "/bookmarks", "bookmark", 1),
        ("test_client_get_me.json", "/users/me", "profile", 1),
        (
            "test_manage_and_lookup_direct_messages.json",
            "/with/750362064426721281/dm_events",
            "dm",
            2,
        ),
    ],
)
def test_every_backup_endpoint_has_a_kind(samples, cassette, uri_end, kind, count):
    exchange = _cassette(samples, cassette, uri_end)
    recs = list(
        records_from_page(
            exchange["body"], endpoint=exchange["uri"], account="Twitter", account_id="783214"
        )
    )
    assert len(recs) == count
    assert {r["kind"] for r in recs} == {kind}


def test_empty_page_gives_no_records():
    assert (
        list(
            records_from_page(
                {"meta": {"result_count": 0}}, endpoint="/2/dm_events", account="a", account_id="1"
            )
        )
        == []
    )


def test_list_members_are_memberships_not_users():
    page = {"data": [{"id": "42", "name": "Ann", "username": "ann"}], "meta": {"result_count": 1}}
    (rec,) = records_from_page(page, endpoint="/2/lists/777/members", account="a", account_id="1")
    assert rec["id"] == "777:42" and rec["kind"] == "list_member"
    assert rec["referenced"] == [{"type": "member_of", "id": "777"}]


def test_unknown_endpoint_is_a_clear_error():
    assert parse_endpoint("https://api.x.com/2/lists/9/tweets?x=1") == (
        "/2/lists/:id/tweets",
        ["9"],
    )
    with pytest.raises(ArchiveFormatError, match="X API endpoint /2/lists/:id/tweets has no"):
        list(
            records_from_page(
                {"data": [{"id": "1"}]}, endpoint="/2/lists/9/tweets", account="a", account_id="1"
            )
        )
