"""archiver.platforms.links.original_url: each platform's page for an item, http(s) only,
never a URL built from a part that does not fit the platform's syntax."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from multiplatform_data import (  # noqa: E402
    DID,
    PUBLIC_ACCT,
    PUBLIC_DID,
    at_uri,
    bluesky_records,
    mastodon_records,
    status_uri,
    x_record,
)

from archiver.platforms.links import original_url  # noqa: E402
from storage.records import new_record  # noqa: E402


def by_kind(records):
    return {r["kind"]: original_url(r) for r in records}


def test_x_links_are_as_before():
    assert original_url(x_record("1800000000000000001", "hi")) == (
        "https://x.com/ExampleshirePolice/status/1800000000000000001"
    )
    like = x_record("1700000000000000002", "liked", kind="like", author={"id": "5"})
    assert original_url(like) == "https://x.com/i/web/status/1700000000000000002"
    follower = x_record("77", "", kind="follower", author={"id": "77", "username": "someone"})
    assert original_url(follower) == "https://x.com/someone"
    assert original_url(x_record("1800000000000000003", "secret", kind="dm")) is None
    # an old record (no platform field) is X's
    old = {"id": "1800000000000000004", "kind": "post", "author": {"username": "a_b"}}
    assert original_url(old) == "https://x.com/a_b/status/1800000000000000004"
    hostile = x_record("1", "x", author={"username": "evil/../../x"})
    assert original_url(hostile) == "https://x.com/i/web/status/1"


def test_bluesky_links():
    links = {r["id"]: original_url(r) for r in bluesky_records()}
    assert links[at_uri("3kabc2post1")] == f"https://bsky.app/profile/{DID}/post/3kabc2post1"
    assert links[at_uri("3kzzzliked", did=PUBLIC_DID)] == (
        f"https://bsky.app/profile/{PUBLIC_DID}/post/3kzzzliked"
    )
    # a repost links the post it reposts; a follow, the followed account
    assert links[at_uri("3kabc2repst", "app.bsky.feed.repost")] == (
        f"https://bsky.app/profile/{PUBLIC_DID}/post/3kzzzfire01"
    )
    assert links[PUBLIC_DID] == f"https://bsky.app/profile/{PUBLIC_DID}"
    assert links[at_uri("3kothrapp01", "com.example.app.note")] is None  # no page for it
    # a repost whose raw is not the record's (an API view): its `referenced` says what
    view = new_record(
        id=at_uri("3kabc2rep2", "app.bsky.feed.repost"),
        kind="repost",
        source="bluesky-api",
        referenced=[{"type": "reposted", "id": at_uri("3kzzz1", did=PUBLIC_DID)}],
    )
    assert original_url(view) == f"https://bsky.app/profile/{PUBLIC_DID}/post/3kzzz1"
    bad = new_record(
        id="at://did:plc:short/app.bsky.feed.post/1", kind="post", source="bluesky-repo"
    )
    assert original_url(bad) is None


def test_mastodon_links():
    links = {r["id"]: original_url(r) for r in mastodon_records()}
    assert links[status_uri(111)] == "https://police.social/@examplepolice/111"
    assert links[status_uri(113) + "/activity"] == status_uri(901, "fire", "town.example")
    assert links[PUBLIC_ACCT] == "https://town.example/@resident"
    assert links[status_uri(114)] is None  # a DM: no page to send anyone to
    assert links[status_uri(115)] == status_uri(115)  # its javascript: page is never used
    # a status whose page is on another server than its URI links the URI
    other = new_record(
        id=status_uri(5),
        kind="post",
        source="mastodon-api",
        raw={"uri": status_uri(5), "url": "https://phish.example/@x/5"},
    )
    assert original_url(other) == status_uri(5)
    api = new_record(
        id=status_uri(6),
        kind="post",
        source="mastodon-api",
        raw={"id": "6", "uri": status_uri(6), "url": "https://police.social/@examplepolice/6"},
    )
    assert original_url(api) == "https://police.social/@examplepolice/6"


_HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "javascript:alert(1)",
            "data:text/html,x",
            "//evil",
            "at://x/y/z",
            "https://ok.example/a b",
            "http://",
            "ftp://a/b",
            "did:plc:" + "a" * 24,
        ]
    ),
)


@settings(max_examples=300, derandomize=True, database=None)
@given(
    item_id=_HOSTILE,
    username=_HOSTILE,
    kind=st.sampled_from(["post", "like", "repost", "follower", "profile", "dm", "list"]),
    source=st.sampled_from(["x-api-v2", "bluesky-repo", "bluesky-api", "mastodon-api"]),
    raw=st.dictionaries(
        st.sampled_from(["id", "uri", "url", "subject", "object", "reblog"]), _HOSTILE, max_size=4
    ),
)
def test_links_are_http_or_none_whatever_the_record(item_id, username, kind, source, raw):
    rec = {
        "id": item_id,
        "kind": kind,
        "source": source,
        "raw": raw,
        "author": {"id": username, "username": username},
    }
    url = original_url(rec)
    assert url is None or url.startswith(("https://", "http://"))
    if url:
        assert not any(c.isspace() for c in url) and url.isascii()
