"""Bluesky and Mastodon records as the platform helpers' importers and capture write them
(the id contract of issue 16: AT URIs, status URIs, DIDs, accts), committed as runs of
platform-qualified accounts beside an X account, for the downstream tests (index, UI, CLI,
exports). Built with storage.records.new_record and storage.runs.RunWriter only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from storage.accountids import qualified_account_id
from storage.records import COLLECTION_OF_KIND, new_record
from storage.runs import Manifest, RunWriter
from storage.store import ObjectStore
from storage.view import EVENTS

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
BSKY_HANDLE = "examplepolice.bsky.social"
BLUESKY = (qualified_account_id("bluesky", DID), BSKY_HANDLE)
ACCT = "examplepolice@police.social"
MASTODON = (qualified_account_id("mastodon", ACCT), ACCT)
X_ID = "1001"
X = (X_ID, "ExampleshirePolice")
PUBLIC_DID = "did:plc:abcdefghijklmnopqrstuvwx"
PUBLIC_ACCT = "resident@town.example"
CAPTURED = "2025-06-01T00:00:00.000000Z"
HOSTILE_TOOT = '<script>alert("toot")</script> Lost dog found in Millbrook'


def at_uri(rkey: str, collection: str = "app.bsky.feed.post", did: str = DID) -> str:
    return f"at://{did}/{collection}/{rkey}"


def status_uri(n: int, user: str = "examplepolice", host: str = "police.social") -> str:
    return f"https://{host}/users/{user}/statuses/{n}"


def bluesky_record(
    rkey: str,
    text: str,
    *,
    kind: str = "post",
    created_at: str = "2025-03-01T10:00:00.000Z",
    author: tuple[str, str, str] = (DID, BSKY_HANDLE, "Exampleshire Police"),
    collection: str = "app.bsky.feed.post",
    item_id: str | None = None,
    raw: dict[str, Any] | None = None,
    source: str = "bluesky-repo",
    **fields: Any,
) -> dict[str, Any]:
    return new_record(
        id=item_id or at_uri(rkey, collection, author[0] if kind != "like" else DID),
        kind=kind,
        source=source,
        account=BSKY_HANDLE,
        account_id=BLUESKY[0],
        author={"id": author[0], "username": author[1], "name": author[2]},
        created_at=created_at,
        text=text,
        captured_at=CAPTURED,
        raw=raw or {"$type": collection, "text": text, "createdAt": created_at},
        **fields,
    )


def mastodon_record(
    n: int,
    text: str,
    *,
    kind: str = "post",
    created_at: str = "2025-03-02T11:00:00.000Z",
    author: tuple[str, str] = (ACCT, "Exampleshire Police"),
    item_id: str | None = None,
    raw: dict[str, Any] | None = None,
    source: str = "mastodon-archive",
    **fields: Any,
) -> dict[str, Any]:
    user, host = author[0].split("@")
    uri = item_id or status_uri(n, user, host)
    return new_record(
        id=uri,
        kind=kind,
        source=source,
        account=ACCT,
        account_id=MASTODON[0],
        author={"id": author[0], "username": author[0], "name": author[1]},
        created_at=created_at,
        text=text,
        captured_at=CAPTURED,
        raw=raw
        or {
            "id": uri,
            "type": "Note",
            "url": f"https://{host}/@{user}/{n}",
            "content": f"<p>{text}</p>",
        },
        **fields,
    )


def x_record(post_id: str, text: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("created_at", "2025-03-03T12:00:00.000Z")
    fields.setdefault("author", {"id": X_ID, "username": X[1], "name": "Exampleshire Police"})
    return new_record(
        id=post_id,
        kind=fields.pop("kind", "post"),
        source="x-api-v2",
        account=X[1],
        account_id=X_ID,
        text=text,
        captured_at=CAPTURED,
        **fields,
    )


def commit(
    store: ObjectStore,
    account: tuple[str, str],
    records: Iterable[dict[str, Any]],
    *,
    source: str,
    kind: str = "import",
    events: Iterable[dict[str, Any]] = (),
) -> Manifest:
    """One committed run of `records` (each to its kind's collection) for `account`."""
    with RunWriter(
        store,
        account_id=account[0],
        account=account[1],
        kind=kind,
        source=source,
        tool_version="test",
    ) as run:
        for rec in records:
            run.write(rec, collection=COLLECTION_OF_KIND[rec["kind"]])
        for event in events:
            run.write(event, collection=EVENTS)
        return run.commit()


def bluesky_records() -> list[dict[str, Any]]:
    """A Bluesky account's repository: posts, a reply, a repost, a like, follows, a block,
    a list and another app's record (kept, never indexed)."""
    return [
        bluesky_record("3kabc2post1", "Road closure on the A38 near Exeter #roads"),
        bluesky_record(
            "3kabc2post2",
            "Missing person appeal: please share",
            created_at="2025-03-04T09:00:00.000Z",
            hashtags=["appeal"],
        ),
        bluesky_record(
            "3kabc2reply",
            "@resident.bsky.social thanks, we have passed this on",
            kind="reply",
            in_reply_to_id=at_uri("3kzzzparent", did=PUBLIC_DID),
            conversation_id=at_uri("3kzzzparent", did=PUBLIC_DID),
            in_reply_to_user_id=PUBLIC_DID,
            created_at="2025-03-05T09:00:00.000Z",
        ),
        bluesky_record(
            "3kabc2repst",
            "",
            kind="repost",
            collection="app.bsky.feed.repost",
            raw={
                "$type": "app.bsky.feed.repost",
                "subject": {"uri": at_uri("3kzzzfire01", did=PUBLIC_DID), "cid": "bafy"},
                "createdAt": "2025-03-06T09:00:00.000Z",
            },
        ),
        bluesky_record(
            "3kzzzliked",
            "Community speedwatch volunteers needed",
            kind="like",
            item_id=at_uri("3kzzzliked", did=PUBLIC_DID),
            author=(PUBLIC_DID, "resident.bsky.social", "A Resident"),
        ),
        bluesky_record(
            "3kabc2follw",
            "",
            kind="following",
            item_id=PUBLIC_DID,
            author=(PUBLIC_DID, "resident.bsky.social", "A Resident"),
        ),
        bluesky_record(
            "3kabc2block",
            "",
            kind="block",
            collection="app.bsky.graph.block",
            author=("did:plc:zzzzzzzzzzzzzzzzzzzzzzzz", "spammer.bsky.social", "Spam Bot"),
            item_id=at_uri("3kabc2block", "app.bsky.graph.block"),
        ),
        bluesky_record(
            "3kothrapp01",
            "road closure mentioned by another app",
            kind="repo_record",
            collection="com.example.app.note",
        ),
    ]


def mastodon_records() -> list[dict[str, Any]]:
    """A Mastodon account archive: statuses, a reply, a boost, a favourite, a DM, a follower."""
    return [
        mastodon_record(111, "Road closure on the B3212 this morning #roads", hashtags=["roads"]),
        mastodon_record(
            112,
            "@resident thanks for letting us know",
            kind="reply",
            in_reply_to_id=status_uri(900, "resident", "town.example"),
            in_reply_to_user_id=PUBLIC_ACCT,
            created_at="2025-03-07T11:00:00.000Z",
        ),
        mastodon_record(
            113,
            "",
            kind="repost",
            item_id=status_uri(113) + "/activity",
            raw={
                "id": status_uri(113) + "/activity",
                "type": "Announce",
                "object": status_uri(901, "fire", "town.example"),
            },
        ),
        mastodon_record(
            902,
            "Speedwatch session on Friday",
            kind="like",
            author=(PUBLIC_ACCT, "A Resident"),
        ),
        mastodon_record(
            114,
            "Private: please send the CCTV to the inbox",
            kind="dm",
            participant_ids=[ACCT, PUBLIC_ACCT],
        ),
        mastodon_record(  # hostile: markup in the text, a javascript: URL as its page
            115,
            HOSTILE_TOOT,
            created_at="2025-03-08T11:00:00.000Z",
            raw={"id": status_uri(115), "type": "Note", "url": "javascript:alert(1)"},
        ),
        mastodon_record(
            0,
            "",
            kind="follower",
            item_id=PUBLIC_ACCT,
            author=(PUBLIC_ACCT, "A Resident"),
            raw={"acct": PUBLIC_ACCT},
        ),
    ]


def write_three_platforms(store: ObjectStore) -> dict[str, Manifest]:
    """An X, a Bluesky and a Mastodon account of one force, one run each."""
    return {
        "x": commit(
            store,
            X,
            [
                x_record("1800000000000000001", "Road closure on the M5 tonight #roads"),
                x_record("1800000000000000002", "Appeal for witnesses in Taunton"),
            ],
            source="x-api-v2",
        ),
        "bluesky": commit(store, BLUESKY, bluesky_records(), source="bluesky-repo"),
        "mastodon": commit(store, MASTODON, mastodon_records(), source="mastodon-archive"),
    }
