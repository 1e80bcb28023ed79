"""Account ids across platforms: X's stay numeric, others are platform-qualified key segments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.accountids import (
    account_platform,
    check_account_id,
    is_account_id,
    native_id,
    qualified_account_id,
)
from storage.errors import StorageError
from storage.records import new_record, platform_of


def test_qualified_ids_round_trip() -> None:
    did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    assert qualified_account_id("x", "783214") == "783214"
    assert qualified_account_id("bluesky", did) == f"bluesky:{did}"
    assert qualified_account_id("mastodon", "@ExamplePolice@Police.Social") == (
        "mastodon:examplepolice@police.social"
    )
    for aid, platform in (("783214", "x"), (f"bluesky:{did}", "bluesky")):
        assert account_platform(aid) == platform
    assert native_id(f"bluesky:{did}") == did
    assert native_id("783214") == "783214"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "12a",
        "a/b",
        "../1",
        "bluesky:did:plc:short",
        "bluesky:handle.bsky.social",
        "mastodon:nobody",
        "mastodon:a@b/c",
        "bluesky:did:web:exa mple",
        "twitter:12",
    ],
)
def test_bad_ids_refused(bad: str) -> None:
    assert not is_account_id(bad)
    with pytest.raises(StorageError):
        check_account_id(bad)


@given(st.text(max_size=40))
def test_a_valid_id_is_one_safe_key_segment(text: str) -> None:
    if is_account_id(text):
        assert "/" not in text and ".." not in text and text.strip() == text and text


def test_records_carry_their_platform() -> None:
    rec = new_record(id="1", kind="post", source="x-api-v2")
    assert rec["platform"] == "x"
    sky = new_record(id="at://did:plc:x/app.bsky.feed.post/3k", kind="post", source="bluesky-repo")
    assert sky["platform"] == "bluesky"
    with pytest.raises(ValueError):
        new_record(id="1", kind="post", source="x-archive", platform="mastodon")
    old = {k: v for k, v in rec.items() if k != "platform"}
    assert platform_of(old) == "x"
    assert platform_of({"source": "mastodon-archive"}) == "mastodon"
