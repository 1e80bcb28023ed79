"""The capture commands as an operator runs them: `archiver backup`, `archiver accounts
check`, a backup killed with SIGKILL and resumed, and secrets that never leave the env."""

from __future__ import annotations

import gzip
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from operator_env import OAUTH1, account_env
from xapi_dataset import POLICE

from archiver.capture.checkpoint import Checkpoint
from storage.local import LocalStore
from storage.runs import iter_records, list_runs


def test_two_accounts_one_with_bad_credentials(real_xapi, operator, tmp_path):
    police = real_xapi.account(POLICE, posts=30)
    fire = real_xapi.account("ExampleshireFire", posts=10)
    run, _ = operator((police, "POLICE"), (fire, "FIRE"), env={"X_ACCESS_TOKEN_FIRE": "revoked"})

    result = run("backup")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: account @ExampleshireFire: token rejected (401) on "
        "/2/users/by/username/:username; renew the OAuth 1.0a user token in "
        "X_CONSUMER_KEY_FIRE, X_CONSUMER_SECRET_FIRE, X_ACCESS_TOKEN_FIRE, "
        "X_ACCESS_TOKEN_SECRET_FIRE\n"
    )
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"@{POLICE}: full run ")
    assert (
        ": dms 6, followers 30, following 10, likes 15, lists 6, mentions 20, profile 1, "
        "tweets 30; media 2 files (" in line
    )
    store = LocalStore(tmp_path / "store")
    assert len(list_runs(store, police.id)) == 1
    assert list_runs(store, fire.id) == []


def test_accounts_check_names_each_account_and_what_to_fix(real_xapi, operator):
    police = real_xapi.account(POLICE)
    fire = real_xapi.account("ExampleshireFire")
    road = real_xapi.account("ExampleshireRoads")
    run, _ = operator(
        (police, "POLICE"),
        (fire, "FIRE", ("bearer_token",)),
        (road, "ROADS"),
        env={"X_ACCESS_TOKEN_SECRET_ROADS": ""},
    )

    result = run("accounts", "check")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"ok: @{POLICE} (id {police.id}), OAuth 1.0a user token; bookmarks need an OAuth 2.0 "
        "user token",
        f"ok: @ExampleshireFire (id {fire.id}), app-only bearer token; DMs and likes need a user "
        "token; bookmarks need an OAuth 2.0 user token",
    ]
    assert result.stderr == (
        "error: account @ExampleshireRoads: environment variable X_ACCESS_TOKEN_SECRET_ROADS "
        "(access_token_secret_env) is not set; export it or remove the setting\n"
    )
    assert [r.route for r in real_xapi.requests] == [
        "/2/users/me",
        "/2/users/by/username/:username",
    ]


def test_a_token_for_another_account_is_caught(real_xapi, operator):
    police = real_xapi.account(POLICE)
    fire = real_xapi.account("ExampleshireFire")
    run, _ = operator(
        (police, "POLICE"),
        env={
            "X_ACCESS_TOKEN_POLICE": fire.creds.access_token,
            "X_CONSUMER_KEY_POLICE": fire.creds.consumer_key,
        },
    )
    result = run("accounts", "check")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: account @{POLICE}: the token belongs to @ExampleshireFire (id {fire.id}); put "
        f"@{POLICE}'s tokens in X_CONSUMER_KEY_POLICE"
    )


def test_secrets_never_reach_logs_output_or_storage(real_xapi, operator, caplog, tmp_path):
    police = real_xapi.account(POLICE, posts=20)
    tokens = [v for k, v in account_env(police, "POLICE").items()]
    run, _ = operator((police, "POLICE", (*OAUTH1, "oauth2_user_token")))
    caplog.set_level(logging.DEBUG)

    result = run("--debug", "backup")

    assert result.exit_code == 0, result.output
    assert "Making API request" not in caplog.text  # tweepy's header dump stays off
    stored = b""
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            stored += gzip.decompress(data) if path.name.endswith(".gz") else data
    assert b"pages/tweets.jsonl.gz" in stored  # the manifest lists the kept pages
    for token in tokens:
        assert token not in caplog.text and token not in result.output
        assert token.encode() not in stored


def _backup_held_at_the_sixth_page(real_xapi, config) -> subprocess.Popen:
    """`archiver backup` in a real process, once its request for the sixth page is held."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from archiver.cli import main; main()",
            "--config",
            str(config),
            "backup",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while real_xapi.count() < 7 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if real_xapi.count() != 7:
        proc.kill()
        pytest.fail("the backup never reached the sixth page")
    return proc


def test_a_killed_backup_commits_nothing_and_the_next_run_resumes(real_xapi, operator, tmp_path):
    police = real_xapi.account(POLICE, posts=1000, mentions=30)
    run, config = operator((police, "POLICE"))
    real_xapi.stall_after(6)  # the profile, then 5 of 10 pages of posts
    proc = _backup_held_at_the_sixth_page(real_xapi, config)
    try:
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        real_xapi.release()

    store = LocalStore(tmp_path / "store")
    assert list_runs(store, police.id) == []  # nothing partial was committed
    (cp,) = Checkpoint.find(store, police.id)
    assert len(cp.pages()["tweets"]) == 5
    real_xapi.requests.clear()

    result = run("backup", "--wait", "30")  # the killed holder's lease expires meanwhile

    assert result.exit_code == 0, result.output
    assert "(resumed)" in result.stdout
    tweets = [r for r in real_xapi.requests if r.route == "/2/users/:id/tweets"]
    assert len(tweets) == 5 and all("pagination_token" in r.params for r in tweets)
    (committed,) = list_runs(store, police.id)
    assert committed.run_id == cp.run_id and committed.kind == "full"
    ids = [r["id"] for r in iter_records(store, committed, "tweets")]
    assert len(ids) == len(set(ids)) == 1000
    assert committed.details["pages"]["tweets"] == 10
    assert Checkpoint.find(store, police.id) == []
    assert not [p for p in Path(tmp_path / "store").rglob("checkpoints/**/*") if p.is_file()]


def test_sigterm_mid_backup_finishes_the_page_exits_0_and_the_next_start_resumes(
    real_xapi, operator, tmp_path
):
    import signal

    from archiver.jobs import JobHistory

    police = real_xapi.account(POLICE, posts=1000, mentions=30)
    run, config = operator((police, "POLICE"))
    real_xapi.stall_after(6)  # the profile, then 5 of 10 pages of posts; the 6th is held
    proc = _backup_held_at_the_sixth_page(real_xapi, config)
    try:
        proc.send_signal(signal.SIGTERM)  # while the sixth page is on its way
        time.sleep(0.2)
        real_xapi.release()  # the page arrives: it is kept, then the backup stops
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        real_xapi.release()

    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert b"stopped on request" in out
    store = LocalStore(tmp_path / "store")
    assert list_runs(store, police.id) == []  # nothing partial was committed
    (cp,) = Checkpoint.find(store, police.id)
    assert len(cp.pages()["tweets"]) == 6  # the page in flight was finished and kept
    [record] = JobHistory(store).recent()
    assert (record.job, record.account, record.status) == ("backup", POLICE, "stopped")
    real_xapi.requests.clear()

    result = run("backup")

    assert result.exit_code == 0, result.output
    assert "(resumed)" in result.stdout
    tweets = [r for r in real_xapi.requests if r.route == "/2/users/:id/tweets"]
    assert len(tweets) == 4 and all("pagination_token" in r.params for r in tweets)
    (committed,) = list_runs(store, police.id)
    assert committed.run_id == cp.run_id
