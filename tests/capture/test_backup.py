"""Backups against the X API double: a full run, incrementals, edits, deletions, followers."""

from __future__ import annotations

import gzip
from collections import Counter

import orjson
import pytest
from xapi_dataset import POLICE

from storage.records import new_record
from storage.runs import RunWriter, iter_records, list_runs
from storage.store import read_bytes
from storage.view import current_view

QUIET_DAY = Counter(
    {
        "/2/users/by/username/:username": 1,  # the profile (and the account id)
        "/2/users/:id/tweets": 1,  # since_id: nothing new
        "/2/users/:id/mentions": 1,
        "/2/users/:id/liked_tweets": 1,  # newest first, stops at a like already kept
        "/2/users/me": 1,  # tweepy resolves the OAuth 2.0 user before bookmarks
        "/2/users/:id/bookmarks": 1,
        "/2/dm_events": 1,
        "/2/users/:id/followers": 1,
        "/2/users/:id/following": 1,
        "/2/users/:id/owned_lists": 1,
        "/2/lists/:id/members": 1,
    }
)


def _ids(store, manifest, collection):
    return [r["id"] for r in iter_records(store, manifest, collection)]


def test_full_run_captures_every_item_exactly_once(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=250, mentions=120, followers=1100, dms=20, likes=30)
    result = backup(configure(acc))

    assert result.ok and result.kind == "full"
    (run,) = list_runs(local_store, acc.id)
    assert run.counts == {
        "tweets": 250,
        "mentions": 120,
        "likes": 30,
        "bookmarks": 3,
        "followers": 1100,
        "following": 10,
        "dms": 10,
        "lists": 6,
        "profile": 1,
    }  # DMs: only the 10 of the last 30 days; lists: 1 list + 5 members
    for collection, count in run.counts.items():
        assert len(set(_ids(local_store, run, collection))) == count
    assert sorted(_ids(local_store, run, "followers")) == sorted(acc.followers)
    # 3 pages of posts, 2 of mentions, 2 of followers (1,000 a page)
    assert xapi.routes()["/2/users/:id/tweets"] == 3
    assert xapi.routes()["/2/users/:id/followers"] == 2
    assert run.cursors["tweets"] == {"newest_id": acc.timeline[0]}
    assert result.describe().startswith(f"@{POLICE}: full run {run.run_id}: bookmarks 3, dms 10")


def test_records_keep_authors_media_and_referenced_posts(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=40)
    backup(configure(acc))
    (run,) = list_runs(local_store, acc.id)
    posts = {r["id"]: r for r in iter_records(local_store, run, "tweets")}
    kinds = Counter(r["kind"] for r in posts.values())
    assert kinds == {"post": 28, "reply": 6, "repost": 4, "quote": 2}
    reply = next(r for r in posts.values() if r["kind"] == "reply")
    assert reply["author"]["username"] == POLICE
    assert reply["referenced"][0]["text"].startswith("Public post")
    photo = next(r for r in posts.values() if r["media"])
    assert photo["media"][0]["alt_text"] == "A police car outside the station"
    long_post = next(r for r in posts.values() if "note_tweet" in r["raw"])
    assert long_post["text"].endswith("and more. ") and len(long_post["text"]) > 280
    assert all(r["raw"]["edit_history_tweet_ids"] for r in posts.values())


def test_pages_are_kept_with_provenance_and_partial_errors_recorded(
    xapi, configure, backup, local_store
):
    acc = xapi.account(POLICE, posts=100)
    backup(configure(acc))
    (run,) = list_runs(local_store, acc.id)
    raw = read_bytes(local_store, run.prefix + "files/pages/tweets.jsonl.gz")
    pages = [orjson.loads(line) for line in gzip.decompress(raw).splitlines()]
    assert len(pages) == 1
    assert pages[0]["endpoint"] == "/2/users/:id/tweets"
    assert pages[0]["params"]["max_results"] == "100"
    assert pages[0]["tool"].startswith("social-archive/")
    assert pages[0]["response"]["includes"]["users"]
    # three reposts point at posts since deleted: the 200 said so, and the run keeps it
    missing = [e for e in run.errors if e["parameter"] == "referenced_tweets.id"]
    assert len(missing) == 3
    assert missing[0]["detail"].startswith("Could not find tweet with referenced_tweets.id")
    assert run.details["partial_errors"] == 3


def test_quiet_day_costs_a_handful_of_requests_and_writes_nothing(
    xapi, configure, backup, local_store
):
    acc = xapi.account(POLICE, posts=300, mentions=150, followers=50)
    cfg = configure(acc)
    backup(cfg)
    xapi.requests.clear()

    result = backup(cfg)

    assert result.ok and result.kind == "incremental"
    assert xapi.routes() == QUIET_DAY
    assert sum(result.written.values()) == 0
    assert result.describe().endswith(f"nothing new (10 requests, {result.elapsed:.1f} s)")
    since = next(r for r in xapi.requests if r.route == "/2/users/:id/tweets")
    assert since.params["since_id"] == acc.timeline[0]


def test_incremental_writes_only_what_is_new(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=120, mentions=30)
    cfg = configure(acc)
    backup(cfg)
    new_post = xapi.world.post(acc, "Road closed on the A34")
    new_mention = xapi.world.mention(acc, "is the A34 open yet?")
    new_dm = xapi.world.dm(acc, "I saw the bike")
    xapi.world.follow(acc, xapi.world.public[1400])

    result = backup(cfg)

    assert dict(result.written) == {"tweets": 1, "mentions": 1, "dms": 1, "followers": 1}
    assert dict(result.events) == {"follower_gained": 1}
    incremental = list_runs(local_store, acc.id)[-1]
    assert _ids(local_store, incremental, "tweets") == [new_post]
    assert _ids(local_store, incremental, "mentions") == [new_mention]
    assert _ids(local_store, incremental, "dms") == [new_dm["id"]]
    items = list(current_view(local_store, acc.id, ["tweets"]))
    assert len(items) == 121  # every post exactly once across the two runs


def test_an_edit_is_kept_as_a_new_version(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=60)
    cfg = configure(acc)
    backup(cfg)
    original = acc.timeline[10]
    edited = xapi.world.edit(acc, original, "Appeal: have you seen this RED bike?")

    result = backup(cfg)

    assert result.written["tweets"] == 1
    (item,) = [i for i in current_view(local_store, acc.id, ["tweets"]) if i.key == original]
    assert item.edited
    assert [v["id"] for v in item.versions] == [original, edited]
    assert item.latest["text"] == "Appeal: have you seen this RED bike?"
    assert item.latest["edit_history_ids"] == [original, edited]


def test_a_deletion_is_confirmed_by_lookup_and_nothing_is_removed(
    xapi, configure, backup, local_store
):
    acc = xapi.account(POLICE, posts=150)
    cfg = configure(acc)
    backup(cfg)
    gone, hidden = acc.timeline[20], acc.timeline[30]
    xapi.world.delete(acc, gone)
    acc.timeline.remove(hidden)  # out of the timeline, but the API still serves it by id
    xapi.requests.clear()

    result = backup(cfg, full=True)

    assert dict(result.events) == {"deleted": 1}
    (lookup,) = [r for r in xapi.requests if r.route == "/2/tweets"]
    assert sorted(lookup.params["ids"].split(",")) == sorted([gone, hidden])
    run = list_runs(local_store, acc.id)[-1]
    (event,) = list(iter_records(local_store, run, "events"))
    assert event["type"] == "deleted" and event["id"] == gone and event["collection"] == "tweets"
    assert event["evidence"]["error"]["type"].endswith("/resource-not-found")
    items = {i.key: i for i in current_view(local_store, acc.id, ["tweets"])}
    assert items[gone].deleted_at == event["at"]
    assert items[gone].latest["text"]  # still in the archive, marked deleted
    assert items[hidden].deleted_at is None
    assert len(items) == 150


def test_follower_gains_and_losses_are_recorded(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, followers=40)
    cfg = configure(acc)
    backup(cfg)
    lost = acc.followers[3]
    lost_name = xapi.world.users[lost]["username"]
    xapi.world.unfollow(acc, lost)
    xapi.world.follow(acc, xapi.world.public[1450])

    result = backup(cfg)

    assert dict(result.events) == {"follower_gained": 1, "follower_lost": 1}
    run = list_runs(local_store, acc.id)[-1]
    events = {e["type"]: e for e in iter_records(local_store, run, "events")}
    assert events["follower_lost"]["user_id"] == lost
    assert events["follower_lost"]["username"] == lost_name
    assert events["follower_gained"]["user_id"] == xapi.world.public[1450]
    # the next quiet run records nothing more
    assert not backup(cfg).events


def test_history_beyond_the_api_window_is_left_to_the_archive_import(
    xapi, configure, backup, local_store
):
    acc = xapi.account(POLICE, posts=450, mentions=90)
    xapi.windows.update({"/2/users/:id/tweets": 320, "/2/users/:id/mentions": 80})
    result = backup(configure(acc))
    assert result.seen["tweets"] == 320 and result.seen["mentions"] == 80
    assert xapi.routes()["/2/users/:id/tweets"] == 4


def test_an_oauth2_user_token_alone_reads_dms_and_bookmarks(xapi, configure, backup):
    acc = xapi.account(POLICE, posts=10, dms=8, bookmarks=4)
    result = backup(configure(acc, auth=("oauth2",)))
    assert result.ok and not result.warnings and not result.notes
    assert result.written["dms"] == 4 and result.written["bookmarks"] == 4
    assert {r.auth for r in xapi.requests if r.route != "media"} == {"bearer"}  # media: public


def test_api_capture_and_an_archive_import_merge_without_duplicates(
    xapi, configure, backup, local_store
):
    acc = xapi.account(POLICE, posts=200)
    xapi.windows["/2/users/:id/tweets"] = 120
    # the archive ZIP holds the 150 oldest posts; the API window overlaps it by 70
    _import(
        local_store,
        acc,
        [
            # the importer joins a long post's full text from note-tweet.js
            ("tweets", "post", tid, tweet["created_at"], tweet.get("note_tweet", tweet)["text"])
            for tid in acc.timeline[50:]
            if (tweet := xapi.world.tweets[tid])
        ],
    )

    result = backup(configure(acc))

    assert result.kind == "full" and result.seen["tweets"] == 120
    items = list(current_view(local_store, acc.id, ["tweets"]))
    assert len(items) == 200  # 50 only from the API, 80 only from the ZIP, 70 from both
    assert all(len(i.versions) == 1 for i in items)
    assert sum(1 for i in items if len(i.runs) == 2) == 70


@pytest.mark.slow
def test_a_10000_post_account_full_then_incremental(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=10_000, mentions=2_000, followers=1_000, dms=60, spacing=600.0)
    cfg = configure(acc)

    full = backup(cfg)
    quiet = backup(cfg)

    assert full.seen == {
        "profile": 1,
        "tweets": 3200,
        "mentions": 800,
        "likes": 15,
        "bookmarks": 3,
        "dms": 30,
        "followers": 1000,
        "following": 10,
        "lists": 6,
    }
    assert full.requests == 48  # profile, 32 + 8 pages, 1 for each of the 7 other walks
    assert quiet.requests == 10 and not quiet.written
    held = Counter(i.collection for i in current_view(local_store, acc.id))
    assert held == full.seen  # every item exactly once


def _import(store, acc, rows: list[tuple[str, str, str, str, str]]) -> None:
    """An archive-ZIP import run of (collection, kind, id, created_at, text) records."""
    with RunWriter(
        store,
        account_id=acc.id,
        account=POLICE,
        kind="import",
        source="x-archive",
        tool_version="test",
    ) as run:
        for collection, kind, rid, created_at, text in rows:
            rec = new_record(
                id=rid,
                kind=kind,
                account=POLICE,
                account_id=acc.id,
                created_at=created_at,
                text=text,
                source="x-archive",
                raw={"id_str": rid},
            )
            run.write(rec, collection)
        run.commit()


def test_an_import_ahead_of_the_api_cursor_does_not_stop_daily_capture(
    xapi, configure, backup, local_store
):
    """since_id comes only from committed API runs: an archive ZIP (or a twarc file) with
    newer or bogus ids must not make the next incremental skip what is new."""
    acc = xapi.account(POLICE, posts=120, mentions=20, likes=30)
    cfg = configure(acc)
    backup(cfg)
    cursor = acc.timeline[0]
    newer = str(int(cursor) + 10**15)  # far ahead of anything the API has served
    at, text = "2099-01-01T00:00:00.000Z", "from a hand-edited archive"
    _import(
        local_store,
        acc,
        [(c, kind, newer, at, text) for c, kind in (("tweets", "post"), ("mentions", "mention"))],
    )
    new_post = xapi.world.post(acc, "Road closed on the A34")
    new_mention = xapi.world.mention(acc, "is the A34 open yet?")
    xapi.requests.clear()

    result = backup(cfg)

    assert result.kind == "incremental"
    since = next(r for r in xapi.requests if r.route == "/2/users/:id/tweets")
    assert since.params["since_id"] == cursor
    incremental = list_runs(local_store, acc.id)[-1]
    assert _ids(local_store, incremental, "tweets") == [new_post]
    assert _ids(local_store, incremental, "mentions") == [new_mention]
    assert incremental.cursors["tweets"]["newest_id"] == new_post  # never the import's id


def test_unlikes_and_list_member_changes_become_events(xapi, configure, backup, local_store):
    from archiver.archive import Archive
    from archiver.config import Config, IndexConfig, StorageConfig
    from archiver.index import Index

    acc = xapi.account(POLICE, posts=20, likes=10, lists=1, members=5)
    cfg = configure(acc)
    backup(cfg)
    unliked = acc.likes.pop(2)
    (list_id,) = acc.members
    removed = acc.members[list_id].pop(1)
    added = xapi.world.public[1440]
    acc.members[list_id].append(added)

    result = backup(cfg, full=True)

    assert result.events == {"unliked": 1, "list_member_removed": 1, "list_member_added": 1}
    run = list_runs(local_store, acc.id)[-1]
    events = {e["type"]: e for e in iter_records(local_store, run, "events")}
    assert events["unliked"]["id"] == unliked
    assert events["list_member_removed"]["id"] == f"{list_id}:{removed}"
    assert events["list_member_added"]["user_id"] == added
    assert not backup(cfg, full=True).events  # recorded once
    archive = Archive(
        Config(
            storage=StorageConfig(path=str(local_store.root)),
            index=IndexConfig(path=str(local_store.root.parent / "index")),
        )
    )
    index = Index(archive.config.index.path)
    index.update(archive)
    assert index.search("is:ended", kind="like").total == 1
    assert index.search("", kind="like").total == 9
    assert index.search("is:ended", kind="list_member").total == 1
    assert index.search("", kind="list_member").total == 5
