"""Watched: job history, health and alerts for scheduled backups against the X API double,
with a real SMTP sink (aiosmtpd) and a real webhook sink on loopback. A token that starts
failing turns the account red and sends one e-mail and one webhook; fixing it sends one
"recovered"; a month of daily slots leaves a job history that tells exactly that."""

from __future__ import annotations

import hashlib
import hmac
import logging

import orjson
import pytest
from xapi_dataset import POLICE

from archiver.archive import Archive
from archiver.config import load_config
from archiver.health import account_states
from archiver.jobs import JobHistory
from archiver.schedule import run_job

FIRE = "ExampleshireFire"
SECRET = "webhook-secret-for-tests"


@pytest.fixture
def watched(real_xapi, operator, smtp_sink, webhook_sink, monkeypatch):
    # a month of daily slots within minutes of real time: the 15-minute windows never bind
    real_xapi.limits = {route: 100_000 for route in real_xapi.limits}
    police = real_xapi.account(POLICE, posts=2, mentions=1)
    fire = real_xapi.account(FIRE, posts=3)
    toml = (
        "[alerts]\n"
        f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_sink.port}\n'
        'mail_from = "archive@example.org"\nmail_to = ["records@example.org"]\n'
        f'webhook_url = "{webhook_sink.url}"\nwebhook_secret_env = "ARCHIVE_WEBHOOK_SECRET"\n'
        "attempts = 3\nretry_seconds = 0.01\ntimeout = 2.0\n"
        '[schedule]\nindex = ""\n'
    )
    run, path = operator(
        (police, "POLICE"), (fire, "FIRE"), env={"ARCHIVE_WEBHOOK_SECRET": SECRET}, toml=toml
    )
    archive = Archive(load_config(path))

    def token_fails(failing: bool) -> None:
        value = "revoked" if failing else fire.creds.access_token
        monkeypatch.setenv("X_ACCESS_TOKEN_FIRE", value)

    return archive, token_fails, run


def hooks(sink) -> list[dict]:
    return [orjson.loads(body) for _headers, body in sink.requests]


def test_a_token_that_starts_failing_alerts_once_and_recovery_once(
    watched, smtp_sink, webhook_sink
):
    archive, token_fails, _run = watched
    assert run_job(archive, "incremental").ok
    assert smtp_sink.messages == [] and webhook_sink.requests == []

    token_fails(True)
    for _retry in range(3):  # the next slots: still failing, still one alert
        assert not run_job(archive, "incremental").ok
    [mail] = smtp_sink.messages
    assert mail["Subject"] == f"[social-archive] job failed: @{FIRE} backup"
    body = mail.get_content()
    assert f"Account: @{FIRE}" in body and "token rejected (401)" in body
    assert "What to do: check the account's tokens" in body
    [(headers, raw)] = webhook_sink.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["X-Archive-Signature"] == expected
    hook = orjson.loads(raw)
    assert hook["event"] == "job_failed"
    assert (hook["account"], hook["job"]) == (FIRE, "backup")
    assert "token rejected (401)" in hook["message"] and hook["time"] and hook["action"]
    assert "revoked" not in raw.decode()  # the token never reaches an alert

    states = {s.account: s for s in account_states(archive)}
    assert states[FIRE].state == "failing" and states[POLICE].state == "ok"

    token_fails(False)
    assert run_job(archive, "incremental").ok
    assert [m["Subject"] for m in smtp_sink.messages][1] == (
        f"[social-archive] recovered: @{FIRE} backup"
    )
    assert [h["event"] for h in hooks(webhook_sink)] == ["job_failed", "recovered"]
    assert {s.state for s in account_states(archive)} == {"ok"}


def test_a_month_of_daily_slots_with_one_failing_account_is_told_exactly(
    watched, smtp_sink, webhook_sink
):
    archive, token_fails, run = watched
    for day in range(1, 31):
        token_fails(10 <= day < 20)
        run_job(archive, "incremental")
    records = JobHistory(archive.store).recent(200)
    fire = [r for r in reversed(records) if r.account == FIRE]
    police = [r for r in reversed(records) if r.account == POLICE]
    assert [r.status for r in fire] == ["ok"] * 9 + ["failed"] * 10 + ["ok"] * 11
    assert [r.status for r in police] == ["ok"] * 30
    assert all(r.schedule == "incremental" and r.trigger == "scheduled" for r in records)
    assert all("token rejected (401)" in r.error for r in fire if r.status == "failed")
    assert [h["event"] for h in hooks(webhook_sink)] == ["job_failed", "recovered"]
    assert len(smtp_sink.messages) == 2
    listing = run("jobs", "--json")
    assert listing.exit_code == 0
    doc = orjson.loads(listing.output)
    assert len(doc["jobs"]) == 30  # the default limit, newest first
    assert doc["jobs"][0]["started_at"] >= doc["jobs"][-1]["started_at"]
    assert set(doc["next"]) == {"incremental", "full", "monthly_export", "fixity"}


def test_refusing_and_failing_channels_are_retried_and_never_change_the_job(
    watched, smtp_sink, webhook_sink, caplog
):
    archive, token_fails, _run = watched
    smtp_sink.refuse = 2  # 554 twice, then accepted
    webhook_sink.statuses = [500, 503]  # then 200
    token_fails(True)
    with caplog.at_level(logging.ERROR):
        outcome = run_job(archive, "incremental")
    assert not outcome.ok  # the job's own result: the backup failed, nothing else
    assert smtp_sink.attempts == 3 and len(smtp_sink.messages) == 1
    assert webhook_sink.attempts == 3 and len(webhook_sink.requests) == 1
    errors = [r.getMessage() for r in caplog.records if r.name == "archiver.alerts"]
    assert any("e-mail attempt 1 of 3 failed" in e and "554" in e for e in errors)
    assert any("webhook attempt 1 of 3 failed: the webhook answered HTTP 500" in e for e in errors)
    assert not any(r.exc_info for r in caplog.records)


def test_channels_that_never_answer_are_logged_and_the_job_result_stands(
    watched, smtp_sink, webhook_sink, caplog
):
    archive, _token_fails, _run = watched
    smtp_sink.refuse = 10
    webhook_sink.delay = 3.0  # longer than alerts.timeout
    archive = Archive(
        archive.config.__class__(
            **{
                **archive.config.__dict__,
                "alerts": archive.config.alerts.__class__(
                    **{**archive.config.alerts.__dict__, "timeout": 0.3, "attempts": 2}
                ),
            }
        ),
        archive.store,
    )
    from archiver.alerts import Alerter

    with caplog.at_level(logging.ERROR):
        alert = Alerter(archive).update(
            "fixity", "fixity_failed", job="fixity", message="1 object altered", action="x"
        )
    assert alert is not None and alert.event == "fixity_failed"
    errors = [r.getMessage() for r in caplog.records if r.name == "archiver.alerts"]
    assert "alerts: e-mail gave up after 2 attempts" in errors
    assert "alerts: webhook gave up after 2 attempts" in errors
    assert any("timed out" in e for e in errors)
    assert not any(r.exc_info for r in caplog.records)
    # the state was kept: the same state again is not a new alert
    assert (
        Alerter(archive).update("fixity", "fixity_failed", job="fixity", message="m", action="x")
        is None
    )


def test_two_schedulers_on_one_s3_store_never_back_up_one_account_at_once(
    real_xapi, operator, s3_server, make_bucket, s3_client
):
    import os
    import subprocess
    import sys
    import time

    from storage.runs import list_runs
    from storage.s3 import S3Store

    bucket = make_bucket()
    police = real_xapi.account(POLICE, posts=150, mentions=5)
    s3 = {
        "ARCHIVER_STORAGE__BACKEND": "s3",
        "ARCHIVER_STORAGE__BUCKET": bucket,
        "ARCHIVER_STORAGE__ENDPOINT_URL": s3_server,
        "ARCHIVER_STORAGE__REGION": "eu-west-2",
    }
    _run, path = operator((police, "POLICE"), env=s3, toml='[schedule]\nindex = ""\n')
    once = [
        sys.executable,
        "-c",
        "from archiver.cli import main; main()",
        "--config",
        str(path),
        "schedule",
        "--once",
        "incremental",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    posts = "/2/users/:id/tweets"
    real_xapi.stall_after(1, route=posts)  # the first scheduler holds the account mid-walk
    first = subprocess.Popen(once, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts Python slowly
        while real_xapi.count(posts) < 2:
            assert time.monotonic() < deadline and first.poll() is None, "first never started"
            time.sleep(0.05)
        second = subprocess.run(once, env=env, capture_output=True, text=True, timeout=120)
        real_xapi.release()
        _out, first_err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
        real_xapi.release()
    assert first.returncode == 0, first_err.decode()
    assert second.returncode == 0, second.stderr  # a skipped account is not a failure
    assert "skipped: account @ExampleshirePolice: a backup is already running" in second.stdout
    store = S3Store(s3_client, bucket)
    assert len(list_runs(store, police.id)) == 1  # one backup, by the first scheduler
    records = JobHistory(store).recent()
    assert sorted(r.status for r in records if r.job == "backup") == ["ok", "skipped"]
    assert list(store.list("alerts/")) == []  # nothing failed, nothing to alert
