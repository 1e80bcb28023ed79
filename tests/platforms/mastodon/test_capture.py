"""Capturing a Mastodon account through Mastodon.py against the API double over real HTTP:
every walk, edit histories as versions, Link pagination, since_id incrementals, membership
events, media from allowed hosts only, pages kept with provenance, per-account failures."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from archiver.config import AccountConfig, MastodonConfig
from archiver.platforms.mastodon.capture import MastodonBackup
from archiver.platforms.mastodon.client import MastodonClient
from storage.local import LocalStore
from storage.runs import iter_run, list_runs
from storage.store import read_bytes
from storage.view import merge_runs

from .mastodon_double import OTHER_MEDIA_HOST, TOKEN, MastodonDouble

ENV = "MASTODON_TEST_TOKEN"


@pytest.fixture
def double():
    server = MastodonDouble().start()
    yield server
    server.stop()


def _config(double: MastodonDouble, user: str = "force", env: str = ENV, extra: str = "") -> str:
    return (
        f'[[accounts]]\nplatform = "mastodon"\nusername = "{user}"\n'
        f'instance = "{double.url}"\naccess_token_env = "{env}"\n' + extra
    )


def _account_id(double: MastodonDouble) -> str:
    return f"mastodon:force@{double.host}"


def _runs(tmp_path: Path, account_id: str):
    store = LocalStore(tmp_path / "store")
    return store, list_runs(store, account_id)


def _records(tmp_path: Path, account_id: str) -> list[tuple[str, dict]]:
    store, runs = _runs(tmp_path, account_id)
    return [pair for m in runs for pair in iter_run(store, m)]


def test_a_full_backup_captures_every_walk(double, cli_run, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, TOKEN)
    result = cli_run("backup", config=_config(double))
    assert result.exit_code == 0, result.output + result.stderr
    records = _records(tmp_path, _account_id(double))
    by = Counter(coll for coll, _ in records)
    # 45 statuses: every visibility, boosts and replies; 6 of them edited (3 versions each)
    timeline = double.timeline
    direct = Counter(s["visibility"] == "direct" for s in timeline)
    edited = Counter(s["visibility"] == "direct" for s in timeline if s["id"] in double.history)
    assert by["tweets"] == direct[False] + 2 * edited[False]  # older versions beside
    assert by["dms"] == direct[True] + 2 * edited[True] + 1  # and the one direct mention
    assert by["mentions"] == len(double.notifications) - 1
    assert (by["likes"], by["bookmarks"]) == (len(double.favourites), len(double.bookmarks))
    assert (by["followers"], by["following"]) == (len(double.followers), len(double.following))
    lists = sum(len(m) for m in double.list_members.values()) + len(double.lists)
    assert by["lists"] == lists and by["profile"] == 1
    recs = [r for _, r in records]
    assert {r["platform"] for r in recs} == {"mastodon"}
    kinds = Counter(r["kind"] for coll, r in records if coll == "tweets")
    assert kinds["repost"] == sum(1 for s in timeline if s["reblog"])
    assert kinds["reply"] >= 1
    # a boost is the reblog's own uri (the Announce), pointing at the boosted status
    boost = next(r for r in recs if r["kind"] == "repost")
    assert boost["id"].endswith("/activity")
    assert boost["referenced"][0]["id"] == boost["raw"]["reblog"]["uri"]
    # replies to the account's own statuses are named by the parent's URI
    reply = next(r for r in recs if r["kind"] == "reply")
    assert reply["in_reply_to_id"].startswith("http") and "/statuses/" in reply["in_reply_to_id"]
    # DMs have their participants; people are full accts
    dm = next(r for _, r in records if r["kind"] == "dm")
    assert dm["participant_ids"][0] == f"force@{double.host}" and len(dm["participant_ids"]) == 2
    sent = next(r for c, r in records if c == "dms" and r["author"]["id"] != f"force@{double.host}")
    assert f"force@{double.host}" in sent["participant_ids"]  # a DM the account received
    follower = next(r for coll, r in records if coll == "followers")
    assert follower["id"] == f"person0@{double.host}"
    assert any(r["id"] == "partner@other.example" for coll, r in records if coll == "following")

    # an edited status is one item with every version, oldest first, the served JSON as raw
    store, runs = _runs(tmp_path, _account_id(double))
    items = merge_runs(store, runs)
    sid = next(iter(double.history))
    status = next(s for s in timeline if s["id"] == sid)
    item = items[("tweets", status["uri"])]
    assert [v["text"] for v in item.versions] == [
        f"Witness apeal {_n(status)}",
        f"Witness appeal {_n(status)}: call 101",
        f"Witness appeal {_n(status)}: call 101 #Appeal{_n(status)}",
    ]
    assert item.versions[-1]["raw"]["edited_at"] == status["edited_at"]

    # Link-header pagination walked the timeline: 45 statuses at 40 a page
    assert double.count(f"/api/v1/accounts/{double.me['id']}/statuses") == 2
    (manifest,) = runs
    assert manifest.source == "mastodon-api" and manifest.kind == "full"
    assert manifest.cursors["tweets"]["newest_id"] == timeline[0]["id"]
    # every page is kept verbatim with its provenance, never the token
    page_files = [o.key for o in manifest.objects if o.key.startswith("files/pages/")]
    assert "files/pages/history.jsonl.gz" in page_files
    lines = [
        json.loads(line)
        for key in page_files
        for line in gzip.decompress(read_bytes(store, manifest.prefix + key)).splitlines()
    ]
    assert {"endpoint", "params", "retrieved_at", "response", "status"} <= set(lines[0])
    statuses = [p for p in lines if p["endpoint"] == "/api/v1/accounts/:id/statuses"]
    assert statuses[1]["params"]["max_id"] == statuses[0]["response"][-1]["id"]
    assert TOKEN not in json.dumps(lines)
    # media: the server's own files are kept, another host's are a recorded gap
    assert manifest.details["media"]["stored"] >= 1
    assert any(OTHER_MEDIA_HOST in w and "not fetched" in w for w in manifest.warnings)
    assert not any(OTHER_MEDIA_HOST in r.path for r in double.requests)


def _n(status: dict) -> int:
    return int(status["content"].split("appeal ", 1)[1].split(":", 1)[0])


def test_an_incremental_asks_since_the_newest_id_and_records_membership_changes(
    double, cli_run, monkeypatch, tmp_path
):
    monkeypatch.setenv(ENV, TOKEN)
    assert cli_run("backup", config=_config(double)).exit_code == 0
    newest = double.timeline[0]["id"]
    when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    double.timeline.insert(0, double.make_status(100, when))
    double.timeline.insert(0, double.make_status(101, when + dt.timedelta(hours=1)))
    gone = double.followers.pop(0)
    double.followers.append(double.people[7])
    double.requests.clear()
    result = cli_run("backup")
    assert result.exit_code == 0, result.output + result.stderr
    asked = [r for r in double.requests if r.path.endswith("/statuses")]
    assert asked[0].params["since_id"] == newest and len(asked) == 1
    store, runs = _runs(tmp_path, _account_id(double))
    assert [m.kind for m in runs] == ["full", "incremental"]
    new = [(c, r) for c, r in iter_run(store, runs[-1])]
    tweets = [r for c, r in new if c == "tweets"]
    assert len(tweets) == 2
    events = {(r["type"], r["user_id"]) for c, r in new if c == "events"}
    assert events == {
        ("follower_lost", f"{gone['acct']}@{double.host}"),
        ("follower_gained", "partner@other.example"),
    }
    # nothing new a third time: no statuses, no events
    third = cli_run("backup")
    assert third.exit_code == 0
    store, runs = _runs(tmp_path, _account_id(double))
    assert runs[-1].counts.get("tweets", 0) == 0 and not runs[-1].counts.get("events")


def test_a_revoked_token_fails_that_account_only(cli_run, monkeypatch, tmp_path):
    revoked, good = MastodonDouble().start(), MastodonDouble(user="other").start()
    try:
        revoked.revoked = True
        monkeypatch.setenv(ENV, TOKEN)
        config = _config(revoked) + _config(good, user="other")
        result = cli_run("backup", config=config)
        assert result.exit_code == 1
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert errors == [
            "error: account @force: the Mastodon server refused the access token (401: The "
            "access token is invalid); it may have been revoked: make a new token with the "
            "read scopes and set it in the account's access_token_env"
        ]
        assert "Traceback" not in result.output + result.stderr
        assert list_runs(LocalStore(tmp_path / "store"), f"mastodon:other@{good.host}")
    finally:
        revoked.stop()
        good.stop()


def test_a_rate_limit_beyond_the_wait_budget_fails_that_account_only(
    cli_run, monkeypatch, tmp_path
):
    limited, good = MastodonDouble().start(), MastodonDouble(user="other").start()
    try:
        limited.fail("/api/v1/favourites", 429, times=1, reset_in=3600)
        monkeypatch.setenv(ENV, TOKEN)
        config = _config(limited) + _config(good, user="other") + "[mastodon]\nmax_rate_wait = 60\n"
        result = cli_run("backup", config=config)
        assert result.exit_code == 1
        (error,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert error.startswith("error: account @force: rate limit on /api/v1/favourites resets")
        assert "longer than mastodon.max_rate_wait" in error
        assert not list_runs(LocalStore(tmp_path / "store"), _account_id(limited))
        assert list_runs(LocalStore(tmp_path / "store"), f"mastodon:other@{good.host}")
    finally:
        limited.stop()
        good.stop()


def test_429_and_5xx_are_waited_for_through_the_one_retry_loop(double, local_store):
    double.fail("/api/v1/bookmarks", 429, times=1, reset_in=30)
    double.fail("/api/v1/lists", 503, times=2)
    waits: list[float] = []
    slept = [0.0]

    def sleep(seconds: float) -> None:  # the clock moves on by the waits: no test really waits
        waits.append(seconds)
        slept[0] += seconds

    client = MastodonClient(
        "force",
        double.url,
        TOKEN,
        settings=MastodonConfig(),
        clock=lambda: time.time() + slept[0],
        sleep=sleep,
    )
    account = AccountConfig(username="force", platform="mastodon", instance=double.url)
    result = MastodonBackup(local_store, client, account).run()
    assert result.ok, result.error
    assert result.written["bookmarks"] == len(double.bookmarks)
    assert 28 <= waits[0] <= 31.1  # until the reset the 429 named (+1 s)
    assert waits[1:3] == [2.0, 4.0]  # the policy's backoff for the two 503s
    assert client.limiter.retries == 3


def test_a_token_for_another_account_is_refused(double, local_store):
    client = MastodonClient("someone", double.url, TOKEN, sleep=lambda s: None)
    account = AccountConfig(username="someone", platform="mastodon", instance=double.url)
    result = MastodonBackup(local_store, client, account).run()
    assert result.error == (
        f"account @someone: the access token belongs to @force@{double.host}, "
        "not to the configured account"
    )


def test_a_missing_token_is_one_line(double, cli_run, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    result = cli_run("backup", config=_config(double))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: account force: the environment variable {ENV} (access_token_env) is not set"
    )


def test_accounts_check_names_whose_token_it_is(double, cli_run, monkeypatch):
    monkeypatch.setenv(ENV, TOKEN)
    result = cli_run("accounts", "check", config=_config(double))
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.strip() == (
        f"ok: @force@{double.host} (id 1), Mastodon access token on {double.url}"
    )
    double.revoked = True
    again = cli_run("accounts", "check")
    assert again.exit_code == 1
    assert "refused the access token (401" in again.stderr


def test_a_full_run_confirms_what_the_server_deleted(double, cli_run, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, TOKEN)
    assert cli_run("backup", config=_config(double)).exit_code == 0
    gone = next(s for s in double.timeline if s["visibility"] == "public" and not s["reblog"])
    double.timeline.remove(gone)
    double.requests.clear()
    result = cli_run("backup", "--full")
    assert result.exit_code == 0, result.output + result.stderr
    store, runs = _runs(tmp_path, _account_id(double))
    events = [r for c, r in iter_run(store, runs[-1]) if c == "events" and r["type"] == "deleted"]
    assert [(e["id"], e["evidence"]["status"]) for e in events] == [(gone["uri"], 404)]
    item = merge_runs(store, runs)[("tweets", gone["uri"])]
    assert item.deleted_at == events[0]["at"]
    # only the one missing status was looked up
    assert double.count(f"/api/v1/statuses/{gone['id']}") == 1


def test_an_archive_import_and_a_capture_of_the_same_statuses_are_one_item_each(
    double, cli_run, monkeypatch, tmp_path
):
    """The archive names statuses by the URIs the API serves: importing the account's archive
    and then capturing it keeps one item (and one version) per status."""
    from archiver.demo.mastodon import MastodonArchive

    archive = MastodonArchive("force", double.host, "Example Force")
    shared = [s for s in double.timeline if not s["reblog"] and s["visibility"] == "public"][:5]
    for status in shared:
        when = dt.datetime.fromisoformat(status["created_at"].replace("Z", "+00:00"))
        archive.status(status["id"], status["content"], when)
    path = archive.zip_to(tmp_path / "archive.zip")
    imported = cli_run("import", str(path), config=_config(double))
    assert imported.exit_code == 0, imported.output + imported.stderr
    monkeypatch.setenv(ENV, TOKEN)
    assert cli_run("backup").exit_code == 0
    store, runs = _runs(tmp_path, _account_id(double))
    assert [m.source for m in runs] == ["mastodon-archive", "mastodon-api"]
    items = merge_runs(store, runs)
    for status in shared:
        item = items[("tweets", status["uri"])]
        assert len(item.versions) == 1  # the capture saw it and wrote nothing new
        assert item.runs == [runs[0].run_id]
    assert runs[1].details["seen"]["tweets"] > runs[1].details["written"]["tweets"]
