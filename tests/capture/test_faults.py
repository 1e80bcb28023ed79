"""Rate limits and faults: waits the API asks for, bounded retries, and runs that commit
nothing when they give up (their checkpoint stays for the next run)."""

from __future__ import annotations

import sys
from pathlib import Path

from xapi_dataset import POLICE

from archiver.capture.checkpoint import Checkpoint
from storage.errors import StorageError
from storage.runs import list_runs, verify_run

TWEETS = "/2/users/:id/tweets"


def _statuses(xapi, route=None):
    return [r.status for r in xapi.requests if route is None or r.route == route]


def test_waits_before_a_window_runs_dry_and_never_meets_a_429(
    xapi, configure, backup, clock, caplog
):
    acc = xapi.account(POLICE, posts=500)
    xapi.limits[TWEETS] = 2  # two pages per 15 minutes

    result = backup(configure(acc))

    assert result.ok and result.seen["tweets"] == 500
    assert 429 not in _statuses(xapi)
    assert _statuses(xapi, TWEETS) == [200] * 5
    # after pages 2 and 4 the window was empty: wait for its reset (plus a second)
    waits = [s for s in clock.slept if s > 60]
    assert len(waits) == 2 and all(880 <= s <= 901 for s in waits)
    assert result.waited == sum(clock.slept)
    # a long wait is a warning: it shows on a terminal and in cron's log
    assert f"account {POLICE}: rate limit on {TWEETS}; waiting 9" in caplog.text
    assert "WARNING" in [r.levelname for r in caplog.records if "waiting" in r.message]


def test_a_429_waits_until_the_reset_it_names(xapi, configure, backup, clock):
    acc = xapi.account(POLICE, posts=150)
    xapi.fail(TWEETS, 429, reset=True)

    result = backup(configure(acc))

    assert result.ok and result.seen["tweets"] == 150
    assert _statuses(xapi, TWEETS) == [429, 200, 200]
    assert 880 <= clock.slept[0] <= 901


def test_a_429_without_reset_backs_off_with_a_bound(xapi, configure, backup, clock):
    acc = xapi.account(POLICE, posts=50)
    xapi.fail(TWEETS, 429, times=3, reset=False)

    result = backup(configure(acc))

    assert result.ok
    assert clock.slept == [2.0, 4.0, 8.0]


def test_endless_429s_give_up_without_committing_and_resume_later(
    xapi, configure, backup, clock, any_store
):
    """On the local store and on S3 alike: the checkpoint carries the run over."""
    acc = xapi.account(POLICE, posts=250)
    cfg = configure(acc)
    xapi.fail(TWEETS, 429, times=100, reset=False, after=2)  # pages 1 and 2, then 429s

    result = backup(cfg, store=any_store)

    assert result.error == (
        f"account @{POLICE}: {TWEETS} failed 6 times in a row (last: 429 Too Many Requests); "
        "the X API is not answering, try again later"
    )
    assert _statuses(xapi, TWEETS) == [200, 200] + [429] * 6  # no loop: 1 try + 5 retries
    assert sum(clock.slept) == 2 + 4 + 8 + 16 + 32
    assert list_runs(any_store, acc.id) == []
    (cp,) = Checkpoint.find(any_store, acc.id)
    assert len(cp.pages()["tweets"]) == 2

    xapi.faults.clear()
    xapi.requests.clear()
    again = backup(cfg, store=any_store)

    assert again.ok and again.resumed and again.kind == "full"
    assert _statuses(xapi, TWEETS) == [200]  # only the third page was left to fetch
    (run,) = list_runs(any_store, acc.id)
    assert run.run_id == cp.run_id and run.counts["tweets"] == 250
    assert Checkpoint.find(any_store, acc.id) == []


def test_server_errors_and_dropped_connections_are_retried(xapi, configure, backup, clock):
    acc = xapi.account(POLICE, posts=120, mentions=10)
    xapi.fail(TWEETS, 503, times=2)
    xapi.fail("/2/users/:id/mentions", 0, disconnect=True)

    result = backup(configure(acc))

    assert result.ok and result.seen["tweets"] == 120 and result.seen["mentions"] == 10
    assert _statuses(xapi, TWEETS) == [503, 503, 200, 200]
    assert clock.slept == [2.0, 4.0, 2.0]
    assert list_runs_details(result)["retries"] == 3


def list_runs_details(result):
    return result.manifest.details


def test_a_reset_too_far_ahead_stops_the_account_with_a_clear_message(
    xapi, configure, backup, local_store
):
    acc = xapi.account(POLICE, posts=50)
    xapi.fail(TWEETS, 429, reset=True)

    result = backup(configure(acc), max_rate_wait=60)

    assert result.error.startswith(f"account @{POLICE}: rate limit on {TWEETS} resets at ")
    assert result.error.endswith(
        "15 minutes away (longer than x_api.max_rate_wait); the next run resumes from here"
    )
    assert list_runs(local_store, acc.id) == []


def test_an_endpoint_the_tier_does_not_allow_is_skipped_with_a_warning(
    xapi, configure, backup, local_store
):
    acc = xapi.account(POLICE, followers=20)
    xapi.forbidden.add("/2/users/:id/followers")

    result = backup(configure(acc))

    assert result.ok
    warning = (
        f"account @{POLICE}: /2/users/:id/followers is not allowed for this account's API "
        "access (When authenticating requests to the Twitter API v2 endpoints, you must use "
        "keys and tokens from a Twitter developer App that is attached to a Project.); skipped"
    )
    assert result.warnings == [warning]
    (run,) = list_runs(local_store, acc.id)
    assert run.warnings == (warning,)
    assert "followers" not in run.counts and "followers" not in run.details["complete"]
    assert run.counts["following"] == 10


def test_an_app_only_token_skips_what_needs_a_user(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=30, likes=5)

    result = backup(configure(acc, auth=("bearer",)))

    assert result.ok
    assert result.warnings == [
        f"account @{POLICE}: /2/users/:id/liked_tweets is not allowed for this account's API "
        "access (Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint."
        "  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User "
        "Context].); skipped",
        f"account @{POLICE}: DMs need a user token (the OAuth 1.0a *_env settings or "
        "oauth2_user_token_env); skipped",
    ]
    assert result.notes == [
        f"account @{POLICE}: bookmarks need an OAuth 2.0 user token (set "
        "oauth2_user_token_env); skipped"
    ]
    assert result.seen["tweets"] == 30 and "dms" not in result.seen


def test_a_connection_dropped_mid_body_costs_one_retry(xapi, configure, backup, clock):
    acc = xapi.account(POLICE, posts=150)
    xapi.fail(TWEETS, 200, midbody=True, after=1)  # the second page breaks off halfway

    result = backup(configure(acc))

    assert result.ok and result.seen["tweets"] == 150
    assert xapi.count(TWEETS) == 3  # 2 pages + 1 retry
    assert clock.slept == [2.0]


def test_a_malformed_body_is_retried_once_then_fails_the_account_in_one_line(
    xapi, configure, backup, clock
):
    acc = xapi.account(POLICE, posts=50)
    xapi.fail(TWEETS, 200, malformed=True)
    assert backup(configure(acc)).ok  # once: retried
    assert clock.slept == [2.0]

    xapi.fail(TWEETS, 200, malformed=True, times=2)
    result = backup(configure(acc))
    assert result.error == (
        f"account @{POLICE}: {TWEETS} answered with something that is not JSON (HTTP 200)"
    )


def test_a_429_whose_reset_is_past_backs_off_like_one_without_reset(xapi, configure, backup, clock):
    """Measured before: six requests within 0.3 s, then the account failed."""
    acc = xapi.account(POLICE, posts=50)
    xapi.fail(TWEETS, 429, times=3, reset=True)
    xapi.window = -5.0  # the reset the 429 names ended five seconds ago

    result = backup(configure(acc))

    assert result.ok
    assert clock.slept == [2.0, 4.0, 8.0]  # never more than one request a second


def test_a_backup_whose_store_gives_up_fails_in_one_line_and_resumes_next_time(
    xapi, configure, backup, faulty_store, fault_proxy
):
    """S3 behind the fault proxy: every answer to the run's data uploads is lost."""
    acc = xapi.account(POLICE, posts=250)
    cfg = configure(acc)
    fault_proxy.lose_reply(r"/runs/.*\.jsonl\.gz$", how="500", times=10_000)

    failed = backup(cfg, store=faulty_store)

    assert "\n" not in failed.error
    assert failed.error.startswith(f"account @{POLICE}: writing accounts/{acc.id}/runs/")
    assert failed.error.endswith(
        "failed 7 times in a row (last: 500 InternalError); the store is not answering, try "
        "again later; the next run resumes from its checkpoint"
    )
    assert list_runs(faulty_store, acc.id) == []

    fault_proxy.clear()
    xapi.requests.clear()
    again = backup(cfg, store=faulty_store)

    assert again.ok and again.resumed
    assert xapi.count(TWEETS) == 0  # every page came from the checkpoint
    (run,) = list_runs(faulty_store, acc.id)
    assert run.counts["tweets"] == 250 and verify_run(faulty_store, run) == []
    assert Checkpoint.find(faulty_store, acc.id) == []


def test_backups_under_ten_percent_storage_faults_commit(
    xapi, configure, backup, faulty_store, fault_proxy
):
    sys.path.insert(0, str(Path(__file__).parents[1] / "storage"))
    from s3_fault_proxy import runs_under_faults

    acc = xapi.account(POLICE, posts=120, mentions=20)
    cfg = configure(acc)

    def one(i: int) -> None:
        result = backup(cfg, store=faulty_store, full=i == 0)
        if not result.ok:
            raise StorageError(result.error)

    seen = runs_under_faults(
        fault_proxy, one, 3, rate=0.1, seed=4, verify=lambda: _verify_all(faulty_store)
    )
    assert seen.crashed == [] and seen.failed == [] and seen.lost == []
    assert sum(seen.faults.values()) > 0


def _verify_all(store):
    return [p for m in list_runs(store) for p in verify_run(store, m)]


def test_an_account_whose_api_keeps_dropping_fails_in_one_line_and_the_next_runs(
    xapi, configure, clock, local_store
):
    from functools import partial

    from archiver.capture.backup import backup_accounts
    from archiver.capture.client import XClient
    from archiver.config import XApiConfig

    police = xapi.account(POLICE, posts=120)
    fire = xapi.account("ExampleshireFire", posts=30)
    cfgs = [configure(police), configure(fire)]
    xapi.fail(TWEETS, 200, midbody=True, times=6)  # every try of police's first page
    x_api = XApiConfig(base_url=xapi.url)
    clients = {
        c.username: partial(XClient.for_account, c, x_api, clock=clock.time, sleep=clock.sleep)
        for c in cfgs
    }

    first, second = backup_accounts(local_store, clients)

    assert first.error == (
        f"account @{POLICE}: {TWEETS} failed 6 times in a row (last: ChunkedEncodingError); "
        "the X API is not answering, try again later"
    )
    assert second.ok and second.seen["tweets"] == 30
    assert [m.account for m in list_runs(local_store)] == ["ExampleshireFire"]
