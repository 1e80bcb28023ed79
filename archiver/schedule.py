"""The unattended archiver: APScheduler runs the capture, index and export jobs on cron
schedules from `[schedule]`, one job at a time, and raises an alert when one fails.

Jobs: `incremental` (daily backup of what is new, DMs included: they are only served for
30 days), `full` (monthly full walk with deletion checks), `monthly_export` (last month's
bundles to the records destination), `index` (catch up with committed runs).
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from archiver.archive import Archive
from archiver.errors import ArchiverError, ConfigError
from storage.errors import StorageError

log = logging.getLogger(__name__)

JOBS = ("incremental", "full", "monthly_export", "index")


@dataclass
class JobOutcome:
    job: str
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def describe(self) -> str:
        head = f"job {self.job}: {'ok' if self.ok else 'FAILED'}"
        return "\n".join([head, *(f"  {line}" for line in self.lines)])


def _backup(archive: Archive, outcome: JobOutcome, *, full: bool) -> None:
    from archiver.capture.backup import backup_configured

    for result in backup_configured(archive.config, archive.store, full=full):
        if result.locked:  # another host's job has the account: it is tried at the next slot
            log.warning("skipping: %s; trying again at the next slot", result.error)
            outcome.lines.append(f"skipped: {result.error}")
            continue
        outcome.ok &= result.ok
        outcome.lines.append(result.describe() if result.ok else f"error: {result.error}")
        outcome.lines += [f"warning: {w}" for w in result.warnings]
    _index(archive, outcome)


def _monthly_export(archive: Archive, outcome: JobOutcome) -> None:
    from archiver.audit import AuditLog
    from archiver.exports.monthly import export_last_month

    report = export_last_month(archive, operator="scheduler")
    for e in report.exports:
        AuditLog(archive.store).record("scheduler", "export", **e.audit_detail())
    outcome.lines += [f"exported {e}" for e in report.exports]
    outcome.lines += [f"nothing to export for {s}" for s in report.skipped]


def _index(archive: Archive, outcome: JobOutcome) -> None:
    from archiver.index import open_index

    runs = open_index(archive).update(archive)
    outcome.lines.append(f"index caught up with {runs} runs")


_RUNNERS: dict[str, Callable[[Archive, JobOutcome], None]] = {
    "incremental": lambda a, o: _backup(a, o, full=False),
    "full": lambda a, o: _backup(a, o, full=True),
    "monthly_export": _monthly_export,
    "index": _index,
}


def run_job(archive: Archive, job: str) -> JobOutcome:
    """Run one job now. Failures are caught, logged, alerted and returned, never raised:
    the scheduler must keep running for the next job."""
    if job not in _RUNNERS:
        raise ConfigError(f"schedule: unknown job {job!r} (one of {', '.join(JOBS)})")
    outcome = JobOutcome(job)
    try:
        _RUNNERS[job](archive, outcome)
    except (ArchiverError, StorageError) as exc:
        outcome.ok = False
        outcome.lines.append(f"error: {exc}")
    except Exception as exc:  # a bug: keep the traceback in the log, alert, keep scheduling
        log.exception("job %s crashed", job)
        outcome.ok = False
        outcome.lines.append(f"error: unexpected {type(exc).__name__}: {exc}")
    if outcome.ok:
        log.info("%s", outcome.describe())
    else:
        log.error("%s", outcome.describe())
        alert(archive, outcome)
    return outcome


def alert(archive: Archive, outcome: JobOutcome) -> None:
    """Hand a failure to the operator's alert command (its message on stdin)."""
    command = archive.config.schedule.alert_command
    if not command:
        return
    try:
        subprocess.run(
            shlex.split(command),
            input=outcome.describe(),
            text=True,
            timeout=120,
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.error("schedule.alert_command failed: %s", exc)


def triggers(archive: Archive) -> dict[str, CronTrigger]:
    """Each scheduled job's trigger; an empty expression disables the job."""
    cfg = archive.config.schedule
    out = {}
    for job in JOBS:
        expr = getattr(cfg, job)
        if not expr:
            continue
        try:
            out[job] = CronTrigger.from_crontab(expr, timezone=cfg.timezone)
        except (ValueError, LookupError) as exc:
            raise ConfigError(f"schedule.{job}: invalid cron expression {expr!r} ({exc})") from None
    return out


def build_scheduler(archive: Archive) -> BlockingScheduler:
    # one worker: a full backup and an export never run at the same time on the same store
    scheduler = BlockingScheduler(
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone=archive.config.schedule.timezone,
    )
    for job, trigger in triggers(archive).items():
        scheduler.add_job(run_job, trigger, args=(archive, job), id=job, name=job)
    return scheduler
