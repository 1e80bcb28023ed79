"""The index for Bluesky and Mastodon beside X: platform field and facet, `platform:`,
ids that are not numbers (AT URIs, status URIs, DIDs, accts) stored and found, accounts
with qualified ids faceted by name, other apps' repository records never indexed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from multiplatform_data import (  # noqa: E402
    BLUESKY,
    DID,
    MASTODON,
    PUBLIC_ACCT,
    PUBLIC_DID,
    X,
    at_uri,
    bluesky_record,
    commit,
    status_uri,
    write_three_platforms,
)

from archiver.index import Index  # noqa: E402
from archiver.index.items import account_number, item_id_of, split_key, version_key  # noqa: E402
from archiver.index.query import parse_query  # noqa: E402
from storage.records import new_record  # noqa: E402


@pytest.fixture
def three(archive, tmp_path):
    write_three_platforms(archive.store)
    index = Index(tmp_path / "index")
    index.update(archive)
    yield index
    index.close()


def ids(result) -> set[str]:
    return {h.id for h in result.hits}


def test_platform_operator_and_filter_select_each_platform(three):
    roads = three.search("road closure", per_page=50)
    assert {h.platform for h in roads.hits} == {"x", "bluesky", "mastodon"}
    assert roads.facets["platform"] == {"bluesky": 1, "mastodon": 1, "x": 1}
    for platform, expected in (
        ("bluesky", at_uri("3kabc2post1")),
        ("mastodon", status_uri(111)),
        ("x", "1800000000000000001"),
    ):
        by_operator = three.search(f"road closure platform:{platform}")
        assert ids(by_operator) == {expected}
        assert ids(three.search("road closure", platform=platform)) == {expected}
    assert ids(three.search("road platform:bsky")) == {at_uri("3kabc2post1")}
    assert ids(three.search("road -platform:x", per_page=50)) == {
        at_uri("3kabc2post1"),
        status_uri(111),
    }


def test_unknown_platform_is_a_notice_not_an_error(three):
    result = three.search("road platform:myspace")
    assert "unknown platform:myspace" in (result.notice or "")


def test_account_facet_names_qualified_accounts_by_handle(three):
    every = three.search("", per_page=1)
    assert set(every.facets["account"]) == {X[1], BLUESKY[1], MASTODON[1]}
    assert every.facets["platform"]["x"] == 2
    assert every.facets["platform"]["bluesky"] == every.facets["account"][BLUESKY[1]]
    assert every.facets["platform"]["mastodon"] == every.facets["account"][MASTODON[1]]
    # filters by handle and by qualified id
    for name in (BLUESKY[1], BLUESKY[0], "@" + MASTODON[1], MASTODON[0]):
        assert three.search("", account=name).total > 0
    assert three.search("account:examplepolice@police.social dm").total == 0
    assert three.search("account:@examplepolice@police.social kind:dm").total == 1


def test_repo_records_of_other_apps_are_never_indexed(three):
    assert three.search("another app").total == 0
    assert "repo_record" not in three.search("", per_page=1).facets["kind"]
    found, _ = three.items(at_uri("3kothrapp01", "com.example.app.note"))
    assert found == []


def test_non_numeric_ids_are_found_exactly(three):
    for item_id, kind in (
        (at_uri("3kabc2post1"), "post"),
        (at_uri("3kzzzliked", did=PUBLIC_DID), "like"),
        (PUBLIC_DID, "following"),
        (status_uri(111), "post"),
        (status_uri(113) + "/activity", "repost"),
        (PUBLIC_ACCT, "follower"),
    ):
        found, _ = three.items(item_id)
        assert [(i.id, i.latest["kind"]) for i in found] == [(item_id, kind)]
        assert ids(three.search(f"id:{item_id}")) == {item_id}
    # a URI that is a prefix of others (a user's statuses) names no item
    assert three.items("https://police.social/users/examplepolice")[0] == []
    assert three.search("id:https://police.social/users/examplepolice").total == 0
    assert three.items(status_uri(11))[0] == []


def test_people_and_mentions_across_platforms(three):
    assert ids(three.search("from:resident.bsky.social")) == {
        at_uri("3kzzzliked", did=PUBLIC_DID),
        PUBLIC_DID,
    }
    assert PUBLIC_ACCT in ids(three.search(f"from:{PUBLIC_ACCT}", per_page=50))
    assert ids(three.search("to:resident platform:mastodon")) == {status_uri(112)}
    assert ids(three.search("spam kind:block")) == {at_uri("3kabc2block", "app.bsky.graph.block")}


def test_conversation_by_at_uri(archive, tmp_path):
    root = at_uri("3kroot00001")
    commit(
        archive.store,
        BLUESKY,
        [
            bluesky_record("3kroot00001", "Thread start", conversation_id=root),
            bluesky_record(
                "3kroot00002",
                "Thread reply",
                kind="reply",
                in_reply_to_id=root,
                conversation_id=root,
            ),
            bluesky_record("3kroot000010", "Another thread"),
        ],
        source="bluesky-repo",
    )
    index = Index(tmp_path / "index")
    index.update(archive)
    try:
        assert ids(index.search(f"conversation:{root}")) == {root, at_uri("3kroot00002")}
    finally:
        index.close()


def test_deletion_event_of_a_non_numeric_id(archive, tmp_path):
    uri = at_uri("3kdel000001")
    commit(
        archive.store,
        BLUESKY,
        [bluesky_record("3kdel000001", "To be deleted")],
        source="bluesky-repo",
    )
    index = Index(tmp_path / "index")
    index.update(archive)
    commit(
        archive.store,
        BLUESKY,
        [],
        source="bluesky-repo",
        kind="incremental",
        events=[
            {"type": "deleted", "collection": "tweets", "id": uri, "at": "2025-04-01T00:00:00Z"}
        ],
    )
    index.update(archive)
    try:
        assert ids(index.search("is:deleted")) == {uri}
        assert index.items(uri)[0][0].deleted_at == "2025-04-01T00:00:00Z"
    finally:
        index.close()


def test_rebuild_and_update_agree_on_every_platform(archive, tmp_path, three):
    rebuilt = Index(tmp_path / "rebuilt")
    rebuilt.rebuild(archive)
    try:
        for q in ("", "road", "platform:bluesky", "platform:mastodon", "kind:like"):
            a, b = three.search(q, per_page=100), rebuilt.search(q, per_page=100)
            assert [h.id for h in a.hits] == [h.id for h in b.hits]
            assert a.facets == b.facets
    finally:
        rebuilt.close()


def test_old_x_records_without_platform_are_x(archive, tmp_path):
    old = new_record(
        id="1700000000000000009",
        kind="post",
        source="x-archive",
        account=X[1],
        account_id=X[0],
        text="An old post",
    )
    del old["platform"]  # written before the field existed
    commit(archive.store, X, [old], source="x-archive")
    index = Index(tmp_path / "index")
    index.update(archive)
    try:
        (hit,) = index.search("old platform:x").hits
        assert hit.platform == "x"
        assert "platform" not in index.items(hit.id)[0][0].latest  # X's state as before
    finally:
        index.close()


_ID_CHARS = st.text(alphabet=st.sampled_from("abcXYZ019:._~-/%@"), min_size=1, max_size=40)


@settings(max_examples=200, derandomize=True, database=None)
@given(
    item_id=_ID_CHARS,
    collection=st.sampled_from(["tweets", "likes", "followers"]),
    account=st.sampled_from([X[0], BLUESKY[0], MASTODON[0]]),
)
def test_index_keys_split_back_whatever_the_id(item_id, collection, account):
    key = version_key(account, collection, item_id)
    assert split_key(key) == (item_id, collection, account)
    assert item_id_of(key) == item_id


def test_account_numbers_never_collide_with_x_or_zero():
    for account in (BLUESKY[0], MASTODON[0], f"bluesky:{PUBLIC_DID}"):
        assert account_number(account) < 0
    assert account_number("1001") == 1001
    assert len({account_number(a) for a in (BLUESKY[0], MASTODON[0], "bluesky:" + DID)}) == 2


def test_platform_operator_parses():
    assert parse_query("platform:Mastodon").notice is None
    assert parse_query("platform:twitter").notice is None
