"""Fixtures for the search index: archives written run by run, real sample posts, and an
independent oracle (storage.view's current view scanned word by word) to check answers."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archiver.archive import Archive
from archiver.index import Index
from archiver.index.schema import ANALYZER, INDEXED_COLLECTIONS, PEOPLE_KINDS
from archiver.xapi_records import records_from_page
from storage.records import new_record
from storage.runs import Manifest, RunWriter, list_accounts
from storage.view import EVENTS, Item, current_view

POLICE = ("1001", "ExampleshirePolice")
FIRE = ("2002", "ExampleshireFire")
_SNOWFLAKE_EPOCH_MS = 1288834974657


def snowflake_time(post_id: str) -> str:
    ms = (int(post_id) >> 22) + _SNOWFLAKE_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def post(
    post_id: int | str,
    text: str,
    *,
    kind: str = "post",
    account: tuple[str, str] = POLICE,
    author: str | None = None,
    name: str | None = None,
    created_at: str | None = "2024-01-15T09:30:00.000Z",
    **fields: Any,
) -> dict[str, Any]:
    """A record as the importers and capture write them."""
    username = author or account[1]
    return new_record(
        id=str(post_id),
        kind=kind,
        source="x-api-v2",
        account=account[1],
        account_id=account[0],
        author={
            "id": account[0] if username == account[1] else f"9{abs(hash(username)) % 10**6}",
            "username": username,
            "name": name or username.title(),
        },
        created_at=created_at,
        text=text,
        captured_at="2024-06-01T00:00:00.000000Z",
        **fields,
    )


def deletion(
    post_id: str, at: str = "2024-03-01T12:00:00Z", collection: str = "tweets"
) -> dict[str, Any]:
    return {"type": "deleted", "collection": collection, "id": post_id, "at": at}


class Runs:
    """Commit runs of records into the archive's store, as capture and imports do."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def commit(
        self,
        records: Iterable[dict[str, Any]],
        *,
        account: tuple[str, str] = POLICE,
        kind: str = "incremental",
        events: Iterable[dict[str, Any]] = (),
    ) -> Manifest:
        with RunWriter(
            self.archive.store,
            account_id=account[0],
            account=account[1],
            kind=kind,
            source="x-api-v2",
            tool_version="test",
        ) as run:
            for rec in records:
                run.write(rec)
            for event in events:
                run.write(event, collection=EVENTS)
            return run.commit()


def commit_with_a_record_without_id(archive: Archive, post_id: int) -> None:
    """A run holding one post and a record the index must skip (no id) with a warning."""
    with RunWriter(
        archive.store,
        account_id=POLICE[0],
        account=POLICE[1],
        kind="import",
        source="x-archive",
        tool_version="test",
    ) as run:
        run.write(post(post_id, "Kept"))
        run.write({"kind": "post", "text": "no id"}, collection="tweets")
        run.commit()


@pytest.fixture
def runs(archive: Archive) -> Runs:
    return Runs(archive)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    idx = Index(tmp_path / "index")
    yield idx
    idx.close()


# -- real posts from the samples ------------------------------------------------------------
_PAGES = {  # sample file -> the endpoint its page came from
    "tweepy-cassettes-decoded/test_client_get_list_tweets.json": "/2/users/1001/tweets",
    "tweepy-cassettes-decoded/test_client_get_liked_tweets.json": "/2/users/1001/liked_tweets",
    "tweepy-cassettes-decoded/test_client_get_users_mentions.json": "/2/users/1001/mentions",
    "tweepy-cassettes-decoded/test_client_get_users_followers.json": "/2/users/1001/followers",
}


def sample_records(samples: Path) -> list[dict[str, Any]]:
    """~300 real posts, likes, mentions and followers from the recorded API responses,
    turned into records by the same code capture uses. Dates come from the snowflake ids."""
    records = []
    for name, endpoint in _PAGES.items():
        body = json.loads((samples / "api-v2" / name).read_text(encoding="utf-8"))[0]["body"]
        page = json.loads(body) if isinstance(body, str) else body
        for rec in records_from_page(
            page,
            endpoint=endpoint,
            account=POLICE[1],
            account_id=POLICE[0],
            captured_at="2024-06-01T00:00:00Z",
        ):
            if rec["created_at"] is None and rec["kind"] not in PEOPLE_KINDS:
                rec["created_at"] = snowflake_time(rec["id"])
            records.append(rec)
    return records


@pytest.fixture(scope="session")
def sample_posts(samples: Path) -> list[dict[str, Any]]:
    return sample_records(samples)


# -- the oracle: the current view, scanned ---------------------------------------------------
def view_items(archive: Archive) -> list[Item]:
    items: list[Item] = []
    for account_id in list_accounts(archive.store):
        items.extend(current_view(archive.store, account_id, INDEXED_COLLECTIONS))
    return items


_LINK = re.compile(r"https?://\S+")  # t.co links are not words (documented in search.md)


def _texts(item: Item) -> list[str]:
    return [_LINK.sub(" ", v.get("text") or "") for v in item.versions]


def item_words(item: Item) -> set[str]:
    texts = _texts(item)
    if item.latest["kind"] in PEOPLE_KINDS:
        author = item.latest.get("author") or {}
        texts += [author.get("name") or "", author.get("username") or ""]
    return {t.text for text in texts for t in ANALYZER(text)}


def item_surface_words(item: Item) -> set[str]:
    """Words as written (lowercased, not stemmed): what a person types."""
    return {w.lower() for text in _texts(item) for w in re.findall(r"\w+", text)}


def item_phrases(item: Item) -> list[list[str]]:
    return [[t.text for t in ANALYZER(text)] for text in _texts(item)]


def ids(items: Iterable[Item]) -> list[str]:
    return sorted({item.key for item in items})
