"""The scheduler: jobs on cron triggers, one at a time, failures alerted and never fatal."""

from __future__ import annotations

from click.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import cli
from archiver.config import load_config
from archiver.schedule import build_scheduler, run_job


def test_the_scheduler_holds_every_configured_job(config_file):
    archive = Archive(load_config(config_file('[schedule]\nindex = ""\n')))
    scheduler = build_scheduler(archive)
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "fixity",
        "full",
        "incremental",
        "monthly_export",
    ]


def test_an_invalid_cron_expression_is_named(config_file):
    path = config_file('[schedule]\nfull = "every sunday"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "schedule", "--list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: schedule.full: invalid cron expression 'every sunday'")


def test_a_job_run_now(config_file):
    result = CliRunner().invoke(
        cli, ["--config", str(config_file()), "schedule", "--once", "index"]
    )
    assert result.exit_code == 0
    assert result.output == "job index: ok\n  index caught up with 0 runs\n"


def test_a_failed_job_raises_an_alert_and_returns(config_file, tmp_path):
    alert_file = tmp_path / "alert.txt"
    path = config_file(f"[schedule]\nalert_command = \"sh -c 'cat > {alert_file}'\"\n")
    outcome = run_job(Archive(load_config(path)), "monthly_export")
    assert not outcome.ok
    message = alert_file.read_text()
    assert message.startswith("[social-archive] job failed: monthly_export\n")
    assert f"Cause: {outcome.lines[-1][len('error: ') :]}\n" in message
    assert "What to do: see `archiver jobs`" in message


def test_a_backup_job_with_no_accounts_fails_cleanly(config_file):
    result = CliRunner().invoke(cli, ["--config", str(config_file()), "schedule", "--once", "full"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_the_monthly_export_job_delivers_last_month_and_audits_it(
    config_file, commit_run, tmp_path
):
    import datetime as dt

    from archiver.audit import AuditLog

    dest = tmp_path / "records-share"
    dest.mkdir()
    archive = Archive(load_config(config_file(f'[export]\ndestination = "file://{dest}"\n')))
    last_month = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    post = {
        "id": "1",
        "kind": "post",
        "text": "Road closed",
        "created_at": f"{last_month:%Y-%m}-15T10:00:00.000Z",
    }
    commit_run(archive.store, post, kind="full")
    outcome = run_job(archive, "monthly_export")
    assert outcome.ok, outcome.describe()
    assert [p.name for p in dest.rglob("*.zip")] == [f"ExampleshirePolice-{last_month:%Y-%m}.zip"]
    [event] = AuditLog(archive.store).events(action="export")
    assert (event.user, event.detail["kind"], event.detail["month"]) == (
        "scheduler",
        "monthly",
        f"{last_month:%Y-%m}",
    )


# -- watched: job history, missed runs, heads after each job, fixity -------------------------
def _scheduled_record(archive, job: str, started):
    from archiver.jobs import JobHistory, JobRecord
    from archiver.timestamps import isoformat

    JobHistory(archive.store).write(
        JobRecord("index", job, None, isoformat(started), isoformat(started), "ok")
    )


def test_a_missed_run_runs_once_decided_from_the_stored_history(config_file):
    import datetime as dt

    from archiver.jobs import JobHistory
    from archiver.schedule import catch_up, missed_jobs

    path = config_file(
        '[schedule]\nincremental = ""\nfull = ""\nmonthly_export = ""\nfixity = ""\n'
        'index = "0 2 * * *"\n'
    )
    archive = Archive(load_config(path))
    now = dt.datetime.now(dt.UTC)  # the clock stands still for the scheduler's decisions
    assert missed_jobs(archive, now) == []  # never ran: waits for its schedule
    two_days_ago = (now - dt.timedelta(days=2)).replace(hour=2, minute=0, second=5)
    _scheduled_record(archive, "index", two_days_ago)  # then the machine was off
    assert missed_jobs(archive, now) == ["index"]  # two 02:00s passed: one run
    [outcome] = catch_up(archive, now)
    assert outcome.ok
    assert missed_jobs(archive, now) == []  # a second start does not run it again
    assert catch_up(archive, now) == []
    index_runs = [r for r in JobHistory(archive.store).recent() if r.schedule == "index"]
    assert len(index_runs) == 2  # the old one and exactly one catch-up


def test_a_missed_full_backup_covers_a_missed_incremental(config_file):
    import datetime as dt

    from archiver.schedule import missed_jobs

    path = config_file('[schedule]\nincremental = "0 2 * * *"\nfull = "0 3 * * *"\n')
    archive = Archive(load_config(path))
    now = dt.datetime.now(dt.UTC)
    for job in ("incremental", "full"):
        _scheduled_record(archive, job, now - dt.timedelta(days=3))
    assert "incremental" not in missed_jobs(archive, now)
    assert "full" in missed_jobs(archive, now)


def test_short_cron_intervals_run_record_and_anchor_each_job(config_file):
    import time

    from apscheduler.schedulers.background import BackgroundScheduler

    from archiver.jobs import JobHistory
    from archiver.schedule import build_scheduler

    path = config_file(
        '[schedule]\nincremental = ""\nfull = ""\nmonthly_export = ""\nfixity = ""\n'
        'index = "*/1 * * * * *"\n'  # six fields: every second
    )
    archive = Archive(load_config(path))
    scheduler = build_scheduler(archive, BackgroundScheduler)
    scheduler.start()
    try:
        deadline = time.monotonic() + 60
        while len(JobHistory(archive.store).recent()) < 2:
            assert time.monotonic() < deadline, "the scheduler ran no jobs"
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    records = JobHistory(archive.store).recent()
    assert {(r.job, r.schedule, r.trigger, r.status) for r in records} == {
        ("index", "index", "scheduled", "ok")
    }
    heads = [k for k in archive.store.list("heads/") if k.endswith(".json")]
    assert len(heads) >= len(records)  # a heads record after every job


def test_the_scheduler_process_stops_cleanly_on_sigterm(config_file, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from archiver.jobs import JobHistory
    from storage.local import LocalStore

    path = config_file(
        '[schedule]\nincremental = ""\nfull = ""\nmonthly_export = ""\nfixity = ""\n'
        'index = "*/1 * * * * *"\n'
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from archiver.cli import main; main()",
            "--config",
            str(path),
            "schedule",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    store = LocalStore(tmp_path / "store")
    try:
        deadline = time.monotonic() + 60
        while not JobHistory(store).recent(1):
            assert time.monotonic() < deadline and proc.poll() is None, "no job ran"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"stopping" in err


def test_fixity_rehashes_checks_chains_records_and_alerts(
    config_file, tmp_path, commit_post, webhook_sink
):
    import orjson

    from archiver.jobs import JobHistory

    path = config_file(f'[alerts]\nwebhook_url = "{webhook_sink.url}"\n')
    archive = Archive(load_config(path))
    manifests = [commit_post(archive.store, i) for i in range(3)]
    outcome = run_job(archive, "fixity")
    assert outcome.ok, outcome.describe()
    assert "store: a local directory (no Object Lock)" in outcome.lines
    [record] = JobHistory(archive.store).recent()
    assert (record.job, record.schedule, record.status) == ("verify", "fixity", "ok")
    assert record.counts == {"runs": 3, "objects": 3, "problems": 0}
    assert webhook_sink.requests == []

    [obj] = (tmp_path / "store").glob(f"accounts/42/runs/{manifests[1].run_id}/*.jsonl.gz")
    obj.write_bytes(b"rotten")
    outcome = run_job(archive, "fixity")
    assert not outcome.ok
    record = JobHistory(archive.store).recent()[0]
    assert record.status == "failed" and "altered" in record.error
    [(_headers, body)] = webhook_sink.requests
    hook = orjson.loads(body)
    assert (hook["event"], hook["job"]) == ("fixity_failed", "fixity")
    assert "altered" in hook["message"] and "archiver verify" in hook["action"]
    run_job(archive, "fixity")  # still failing: no second alert
    assert len(webhook_sink.requests) == 1


def test_fixity_reports_object_lock_retention(s3_client, make_bucket, commit_post, config):
    from archiver.archive import Archive as _Archive
    from storage.s3 import S3Store

    bucket = make_bucket(lock=True)
    s3_client.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
        },
    )
    archive = _Archive(config, S3Store(s3_client, bucket, prefix="archive"))
    commit_post(archive.store, 1)
    outcome = run_job(archive, "fixity")
    assert outcome.ok, outcome.describe()
    [line] = [x for x in outcome.lines if x.startswith("bucket:")]
    assert "Object Lock on, default retention" in line and "GOVERNANCE" in line


def test_an_account_that_becomes_overdue_alerts_once_between_jobs(config_file, webhook_sink):
    import datetime as dt

    import orjson

    from archiver.jobs import JobHistory, JobRecord
    from archiver.schedule import watch
    from archiver.timestamps import isoformat

    path = config_file(
        f'[alerts]\nwebhook_url = "{webhook_sink.url}"\n'
        '[[accounts]]\nusername = "ExampleshirePolice"\nbearer_token_env = "X_TOKEN"\n'
    )
    archive = Archive(load_config(path))
    last_good = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)  # then the scheduler died
    JobHistory(archive.store).write(
        JobRecord(
            "backup",
            "incremental",
            "ExampleshirePolice",
            isoformat(last_good),
            isoformat(last_good),
            "ok",
        )
    )
    watch(archive)
    watch(archive)  # the next check: still overdue, no second alert
    [(_headers, body)] = webhook_sink.requests
    hook = orjson.loads(body)
    assert (hook["event"], hook["account"], hook["job"]) == (
        "overdue",
        "ExampleshirePolice",
        "backup",
    )
    assert hook["since"] and "no good backup of @ExampleshirePolice since" in hook["message"]
    assert "scheduler is running" in hook["action"]
