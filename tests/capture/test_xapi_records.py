"""X API v2 pages become the records staff will read: pages the X API double serves (its
documented shapes, with the fields and expansions a backup asks for), and the founders'
recorded samples as an extra set (skipped, with the reason, when they are absent)."""

from __future__ import annotations

import json

import pytest
from xapi_dataset import POLICE, Clock, World
from xapi_double import http_query, twarc_line

from archiver.capture.fields import DM_PARAMS, LIST_PARAMS, TWEET_PARAMS
from archiver.errors import ArchiveFormatError
from archiver.xapi_records import parse_endpoint, records_from_page
from storage.records import content_hash, item_key

NOW = 1767225600.0  # 2026-01-01: the double's clock, so pages are the same every run
# what a post's reference makes of it (the API's types; FORMATS.md)
OWN_KINDS = {"retweeted": "repost", "replied_to": "reply", "quoted": "quote"}


@pytest.fixture
def police():
    """(world, account) of the double: the force with 40 posts of every kind."""
    world = World(Clock(start=NOW))
    return world, world.add_account(POLICE, posts=40)


def _served(world, acc, path: str, query: dict[str, str]) -> dict:
    return twarc_line(world, path, query, acc)


def _own(page: dict, acc) -> list[dict]:
    args = {"account": POLICE, "account_id": acc.id}
    return list(records_from_page(page, endpoint=page["__twarc"]["url"], **args))


def test_a_served_timeline_resolves_kinds_authors_and_referenced_posts(police):
    world, acc = police
    page = _served(
        world, acc, f"/2/users/{acc.id}/tweets", http_query(TWEET_PARAMS, max_results="40")
    )
    recs = _own(page, acc)
    assert [r["id"] for r in recs] == acc.timeline
    expected = [
        next(
            (OWN_KINDS[ref["type"]] for ref in world.tweets[tid].get("referenced_tweets", [])),
            "post",
        )
        for tid in acc.timeline
    ]
    assert [r["kind"] for r in recs] == expected
    assert {"post", "reply", "repost", "quote"} <= set(expected)
    users = {u["id"]: u for u in page["includes"]["users"]}
    included = {t["id"]: t for t in page["includes"]["tweets"]}
    reply = next(r for r in recs if r["kind"] == "reply")
    served = world.tweets[reply["id"]]
    (parent,) = (ref["id"] for ref in served["referenced_tweets"])
    assert reply["author"] == {"id": acc.id, "username": POLICE, "name": acc.user["name"]}
    assert reply["in_reply_to_id"] == parent
    assert (
        reply["referenced"][0]["author"]["username"]
        == users[world.tweets[parent]["author_id"]]["username"]
    )
    assert reply["referenced"][0]["text"] == included[parent]["text"]
    assert reply["created_at"] == served["created_at"]
    assert reply["mentions"] == [m["username"] for m in served["entities"]["mentions"]]
    assert reply["source"] == "x-api-v2"
    assert reply["raw"] == page["data"][recs.index(reply)]  # the evidential original, untouched
    with_photo = next(r for r in recs if r["media"])
    (key,) = world.tweets[with_photo["id"]]["attachments"]["media_keys"]
    assert with_photo["media"][0]["key"] == key
    assert with_photo["media"][0]["type"] == world.media[key]["type"]


def test_a_served_edit_keeps_its_edit_chain(police):
    world, acc = police
    first = next(tid for tid in acc.timeline if not world.tweets[tid].get("referenced_tweets"))
    newest = world.edit(acc, first, "Appeal: have you seen this bike? (corrected)")
    page = _served(world, acc, "/2/tweets", http_query(TWEET_PARAMS, ids=newest))
    (rec,) = records_from_page(
        page, endpoint=page["__twarc"]["url"], account=POLICE, account_id=acc.id, source="twarc"
    )
    assert rec["kind"] == "post"  # a look-up of the account's own post
    assert rec["edit_history_ids"] == [first, newest]
    assert item_key(rec) == first
    assert rec["source"] == "twarc"


def test_served_referenced_post_context_does_not_make_a_new_version(police):
    world, acc = police
    page = _served(
        world, acc, f"/2/users/{acc.id}/tweets", http_query(TWEET_PARAMS, max_results="40")
    )
    included = {t["id"] for t in page["includes"]["tweets"]}
    first = next(
        t for t in page["data"] if any(r["id"] in included for r in t.get("referenced_tweets", []))
    )
    args = {"endpoint": f"/2/users/{acc.id}/tweets", "account": "a", "account_id": acc.id}
    (with_context,) = records_from_page({**page, "data": [first]}, **args)
    (without,) = records_from_page(
        {"data": [first], "includes": {"users": page["includes"]["users"]}}, **args
    )
    assert "text" in with_context["referenced"][0] and "text" not in without["referenced"][0]
    assert content_hash(with_context) == content_hash(without)


@pytest.mark.parametrize(
    ("endpoint", "params", "kind", "items"),
    [
        ("mentions", TWEET_PARAMS, "mention", "mentions"),
        ("liked_tweets", TWEET_PARAMS, "like", "likes"),
        ("bookmarks", TWEET_PARAMS, "bookmark", "bookmarks"),
        ("followers", {}, "follower", "followers"),
        ("following", {}, "following", "following"),
        ("owned_lists", LIST_PARAMS, "list", "lists"),
        ("me", {}, "profile", None),
        ("dm_events", DM_PARAMS, "dm", None),
        ("members", {}, "list_member", None),
    ],
)
def test_every_served_backup_endpoint_has_a_kind(police, endpoint, params, kind, items):
    world, acc = police
    path = {
        "me": "/2/users/me",
        "dm_events": "/2/dm_events",
        "members": f"/2/lists/{acc.lists[0]['id']}/members",
    }.get(endpoint, f"/2/users/{acc.id}/{endpoint}")
    page = _served(world, acc, path, http_query(params, max_results="100"))
    recs = _own(page, acc)
    data = page["data"] if isinstance(page["data"], list) else [page["data"]]
    assert [r["id"].rsplit(":", 1)[-1] for r in recs] == [d["id"] for d in data]
    if items:
        served = getattr(acc, items)
        assert len(recs) == len(served) > 0
    assert {r["kind"] for r in recs} == {kind}


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
