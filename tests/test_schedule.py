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
    assert message.startswith("job monthly_export: FAILED\n  error: ")
    assert message == outcome.describe()


def test_a_backup_job_with_no_accounts_fails_cleanly(config_file):
    result = CliRunner().invoke(cli, ["--config", str(config_file()), "schedule", "--once", "full"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_the_monthly_export_job_delivers_last_month_and_audits_it(config_file, tmp_path):
    import datetime as dt

    from archiver.audit import AuditLog
    from storage.records import new_record
    from storage.runs import RunWriter

    dest = tmp_path / "records-share"
    dest.mkdir()
    archive = Archive(load_config(config_file(f'[export]\ndestination = "file://{dest}"\n')))
    last_month = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    with RunWriter(
        archive.store,
        account_id="42",
        account="ExampleshirePolice",
        kind="full",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        run.write(
            new_record(
                id="1",
                kind="post",
                account="ExampleshirePolice",
                account_id="42",
                text="Road closed",
                source="x-api-v2",
                created_at=f"{last_month:%Y-%m}-15T10:00:00.000Z",
            )
        )
        run.commit()
    outcome = run_job(archive, "monthly_export")
    assert outcome.ok, outcome.describe()
    assert [p.name for p in dest.rglob("*.zip")] == [f"ExampleshirePolice-{last_month:%Y-%m}.zip"]
    [event] = AuditLog(archive.store).events(action="export")
    assert (event.user, event.detail["kind"], event.detail["month"]) == (
        "scheduler",
        "monthly",
        f"{last_month:%Y-%m}",
    )
