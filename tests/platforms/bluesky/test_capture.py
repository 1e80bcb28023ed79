"""Bluesky capture against the PDS double over real HTTP: full and incremental (`since`)
backups verified against the account's key, blobs, followers, mentions, deletions, faults."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from pds_double import Account, PdsDouble

from archiver.capture.backup import backup_configured
from archiver.config import AccountConfig, BlueskyConfig, Config, StorageConfig
from archiver.demo.bluesky import FORCE_DID, HANDLE, demo_did, demo_repository
from archiver.platforms.bluesky import backup
from archiver.platforms.bluesky.build import RepoBuilder, SigningKey, tid
from storage.local import LocalStore
from storage.runs import iter_records, list_runs
from storage.view import current_view

PASSWORD = "abcd-efgh-ijkl-mnop"
ENV = "BSKY_TEST_APP_PASSWORD"
ACCOUNT_ID = f"bluesky:{FORCE_DID}"


def _person(n: int) -> dict:
    handle = f"resident{n}.bsky.example"
    return {
        "did": demo_did(handle),
        "handle": handle,
        "displayName": f"Resident {n}",
        "description": "lives here",
        "indexedAt": "2025-03-01T00:00:00.000Z",
    }


def _mention(n: int, reason: str = "mention") -> dict:
    author = _person(100 + n)
    text = f"@{HANDLE} thank you for the update {n}"
    return {
        "uri": f"at://{author['did']}/app.bsky.feed.post/{tid(1740000000000000 + n)}",
        "cid": "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5kpqcsgz7soqaie",
        "author": {
            "did": author["did"],
            "handle": author["handle"],
            "displayName": author["displayName"],
        },
        "reason": reason,
        "record": {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": f"2025-03-0{1 + n % 8}T10:00:00.000Z",
        },
        "isRead": False,
        "indexedAt": f"2025-03-0{1 + n % 8}T10:00:01.000Z",
    }


@pytest.fixture
def pds():
    double = PdsDouble().start()
    yield double
    double.stop()


@pytest.fixture
def force(pds, monkeypatch):
    repo, blobs, _ = demo_repository(12)
    monkeypatch.setenv(ENV, PASSWORD)
    return pds.add(
        Account(
            repo,
            HANDLE,
            followers=[_person(n) for n in range(5)],
            notifications=[_mention(3), _mention(2, "like"), _mention(1, "reply")],
            app_password=PASSWORD,
        ),
        blobs,
    )


@pytest.fixture
def config(tmp_path, pds) -> Config:
    return Config(
        storage=StorageConfig(path=str(tmp_path / "store")),
        accounts=(AccountConfig(username=HANDLE, platform="bluesky", app_password_env=ENV),),
        bluesky=BlueskyConfig(plc_url=pds.plc_url, appview_url=pds.url, backoff_base=0.001),
    )


@pytest.fixture
def store(config) -> LocalStore:
    return LocalStore(config.storage.path)


def test_a_full_backup_keeps_the_verified_repository_and_what_is_beside_it(
    config, store, pds, force
):
    result = backup(config, store, config.accounts[0])
    assert result.ok, result.error
    assert result.kind == "full" and result.account_id == ACCOUNT_ID
    (run,) = list_runs(store, ACCOUNT_ID)
    assert run.kind == "full" and run.source == "bluesky-repo"
    car_key = run.details["repo"]["car"]
    with store.open(run.prefix + car_key) as fh:
        assert fh.read() == force.repo.car()  # kept verbatim
    keys = {e.key for e in run.objects}
    assert {f"files/bluesky_media/{c}.jpg" for c in pds.blobs} <= keys
    assert pds.count("com.atproto.sync.getBlob") == len(pds.blobs)
    followers = list(iter_records(store, run, "followers"))
    assert sorted(r["id"] for r in followers) == sorted(p["did"] for p in force.followers)
    assert pds.count("app.bsky.graph.getFollowers") == 3  # pages of 2
    mentions = list(iter_records(store, run, "mentions"))
    assert {r["id"] for r in mentions} == {
        n["uri"] for n in force.notifications if n["reason"] != "like"
    }
    assert all(r["kind"] == "mention" and r["author"]["username"] for r in mentions)
    assert run.details["snapshots"]["followers"]["count"] == 5
    tweets = list(iter_records(store, run, "tweets"))
    assert len(tweets) == sum(
        1 for p in force.repo.records if "feed.post/" in p or "feed.repost/" in p
    )


def test_the_app_password_never_reaches_the_store_or_the_log(
    config, store, pds, force, caplog, tmp_path
):
    caplog.set_level(logging.DEBUG)
    assert backup(config, store, config.accounts[0]).ok
    assert PASSWORD not in caplog.text
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes()
    session_tokens = list(pds.tokens)
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(t.encode() in data for t in session_tokens)


def test_an_incremental_backup_asks_since_the_last_revision_and_finds_deletions(
    config, store, pds, force
):
    assert backup(config, store, config.accounts[0]).ok
    first_rev = force.repo.commits[-1].rev
    posts = sorted(p for p in force.repo.records if p.startswith("app.bsky.feed.post/"))
    gone = posts[0]
    force.repo.delete(*gone.split("/"))
    new_uri = force.repo.put(
        "app.bsky.feed.post",
        tid(1760000000000000),
        {
            "$type": "app.bsky.feed.post",
            "text": "A new appeal for witnesses",
            "createdAt": "2025-10-09T10:00:00.000Z",
        },
    )
    force.repo.commit(tid(1760000000100000))
    force.followers.append(_person(9))
    newer = _mention(7)  # indexed on the 8th, after every earlier one
    force.notifications.insert(0, newer)
    result = backup(config, store, config.accounts[0])
    assert result.ok, result.error
    assert result.kind == "incremental"
    since = [r.params.get("since") for r in pds.requests if r.method == "com.atproto.sync.getRepo"]
    assert since == [None, first_rev]
    first, second = list_runs(store, ACCOUNT_ID)
    assert second.details["repo"]["since"] == first_rev
    with store.open(second.prefix + second.details["repo"]["car"]) as fh:
        assert len(fh.read()) < len(force.repo.car())  # only the changed blocks
    deletion = second.details["deletions"]
    assert deletion["before"]["rev"] == first_rev
    assert deletion["after"]["rev"] == force.repo.commits[-1].rev
    assert deletion["ids"] == [f"at://{FORCE_DID}/{gone}"]
    items = {(i.collection, i.key): i for i in current_view(store, ACCOUNT_ID)}
    assert items[("tweets", f"at://{FORCE_DID}/{gone}")].deleted_at
    assert items[("tweets", new_uri)].latest["text"] == "A new appeal for witnesses"
    events = list(iter_records(store, second, "events"))
    assert {"follower_gained"} <= {e["type"] for e in events}
    assert [r["id"] for r in iter_records(store, second, "mentions")] == [newer["uri"]]
    pages = [r for r in pds.requests if r.method == "app.bsky.notification.listNotifications"]
    assert len(pages) == 2 + 1  # the whole list once (pages of 2), then only the newest page
    assert pds.count("com.atproto.sync.getBlob") == len(pds.blobs)  # none fetched twice


def test_nothing_new_writes_no_run(config, store, pds, force):
    assert backup(config, store, config.accounts[0]).ok
    again = backup(config, store, config.accounts[0])
    assert again.ok and again.manifest is None
    assert len(list_runs(store, ACCOUNT_ID)) == 1


def test_rate_limits_and_server_errors_are_retried(config, store, pds, force):
    pds.fail("com.atproto.sync.getRepo", 429, 503)
    pds.fail("app.bsky.graph.getFollowers", 502)
    result = backup(config, store, config.accounts[0])
    assert result.ok, result.error
    assert pds.count("com.atproto.sync.getRepo") == 3


def test_a_pds_that_keeps_failing_is_one_line(config, store, pds, force):
    pds.fail("com.atproto.sync.getRepo", *[503] * 10)
    result = backup(config, store, config.accounts[0])
    assert result.error == (
        f"account @{HANDLE}: com.atproto.sync.getRepo at {pds.url[7:]} failed 6 times in a row "
        "(last: 503 server error)"
    )
    assert list_runs(store, ACCOUNT_ID) == []


@pytest.mark.parametrize(
    "status, words",
    [
        ("RepoDeactivated", "is deactivated"),
        ("RepoTakendown", "was taken down by its PDS"),
        ("RepoNotFound", "may have moved PDS or been deleted"),
    ],
)
def test_a_gone_account_fails_alone(config, store, pds, force, status, words):
    other_key = SigningKey.from_secret(31337)
    other = RepoBuilder(demo_did("fire.bsky.example"), other_key)
    other.put(
        "app.bsky.feed.post",
        tid(1750000000000000),
        {
            "$type": "app.bsky.feed.post",
            "text": "Fire safety week",
            "createdAt": "2025-06-01T00:00:00.000Z",
        },
    )
    other.commit(tid(1750000000000001))
    pds.add(Account(other, "fire.bsky.example"))
    force.status = status
    config = replace(
        config,
        accounts=(
            config.accounts[0],
            AccountConfig(username="fire.bsky.example", platform="bluesky"),
        ),
    )
    bad, good = backup_configured(config, store)
    assert bad.error is not None and words in bad.error and "\n" not in bad.error
    assert good.ok and good.manifest is not None
    assert list_runs(store, ACCOUNT_ID) == []


def test_a_move_to_another_pds_is_a_clear_failure(config, store, pds, force):
    force.doc_pds = "https://elsewhere.example"
    account = replace(config.accounts[0], pds_url=pds.url)
    result = backup(config, store, account)
    assert result.error is not None and "moved to another PDS" in result.error
    assert "https://elsewhere.example" in result.error


def test_a_repository_signed_by_another_key_is_refused(config, store, pds, force):
    force.repo.put(
        "app.bsky.feed.post",
        tid(1770000000000000),
        {"$type": "app.bsky.feed.post", "text": "forged", "createdAt": "2025-01-01T00:00:00Z"},
    )
    force.repo.commit(tid(1770000000000001), sign_with=SigningKey.from_secret(4))
    result = backup(config, store, config.accounts[0])
    assert result.error is not None
    assert "the commit signature does not verify" in result.error
    assert list_runs(store, ACCOUNT_ID) == []


def test_a_refused_app_password_fails_the_account(config, store, pds, force, monkeypatch):
    monkeypatch.setenv(ENV, "wrong-pass-word-here")
    result = backup(config, store, config.accounts[0])
    assert result.error == (
        f"account @{HANDLE}: the app password in ${ENV} was refused by {pds.url[7:]} "
        "(AuthenticationRequired); create a new app password and set it"
    )
    assert "wrong-pass-word-here" not in result.error


def test_a_blob_that_does_not_match_its_cid_is_a_gap(config, store, pds, force):
    cid = sorted(pds.blobs)[0]
    pds.blobs[cid] = pds.blobs[cid] + b"changed"
    result = backup(config, store, config.accounts[0])
    assert result.ok, result.error
    (run,) = list_runs(store, ACCOUNT_ID)
    assert any(cid in g and "do not hash" in g for g in run.gaps)
    assert f"files/bluesky_media/{cid}.jpg" not in {e.key for e in run.objects}


def test_the_handle_is_resolved_and_the_did_config_skips_it(config, store, pds, force):
    assert backup(config, store, config.accounts[0]).ok
    assert pds.count("com.atproto.identity.resolveHandle") == 1
    by_did = replace(config.accounts[0], did=FORCE_DID)
    backup(config, store, by_did)
    assert pds.count("com.atproto.identity.resolveHandle") == 1


def test_a_stored_repository_that_cannot_be_read_back_means_a_full_fetch(
    config, store, pds, force, tmp_path
):
    assert backup(config, store, config.accounts[0]).ok
    (run,) = list_runs(store, ACCOUNT_ID)
    car = tmp_path / "store" / run.prefix / run.details["repo"]["car"]
    car.chmod(0o644)
    car.write_bytes(car.read_bytes()[:100])  # damaged in storage (verify would name it)
    force.repo.put(
        "app.bsky.feed.post",
        tid(1780000000000000),
        {
            "$type": "app.bsky.feed.post",
            "text": "after the damage",
            "createdAt": "2025-11-01T00:00:00.000Z",
        },
    )
    force.repo.commit(tid(1780000000000001))
    result = backup(config, store, config.accounts[0])
    assert result.ok, result.error
    assert result.kind == "full"
    assert any("cannot be read back" in w for w in result.warnings)
    since = [r.params.get("since") for r in pds.requests if r.method == "com.atproto.sync.getRepo"]
    assert since == [None, None]


def test_did_web_documents_come_from_the_host_s_well_known():
    from archiver.platforms.bluesky.identity import did_doc_url

    assert did_doc_url("did:web:police.example", "https://plc.example") == (
        "https://police.example/.well-known/did.json"
    )
    assert did_doc_url("did:web:localhost%3A8443", "x") == (
        "https://localhost:8443/.well-known/did.json"
    )
    assert did_doc_url(FORCE_DID, "https://plc.example/") == f"https://plc.example/{FORCE_DID}"


def test_a_429_waits_for_its_ratelimit_reset(config, store, pds, force):
    waits: list[float] = []
    pds.fail("com.atproto.sync.getRepo", 429)
    pds.reset_in = 120
    result = backup(config, store, config.accounts[0], sleep=waits.append)
    assert result.ok, result.error
    assert any(110 < w <= 121 for w in waits)  # until the reset, not the short backoff alone


def test_a_reset_further_away_than_allowed_fails_the_account_alone(config, store, pds, force):
    pds.fail("com.atproto.sync.getRepo", 429)
    pds.reset_in = 7200
    result = backup(config, store, config.accounts[0], sleep=lambda _s: None)
    assert result.error is not None and "is rate-limited until" in result.error
    assert "120 minutes away" in result.error or "119 minutes away" in result.error
