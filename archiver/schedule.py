"""The unattended archiver: APScheduler runs the capture, index, export and fixity jobs on
cron schedules from `[schedule]`, one job at a time, and watches what they did.

Jobs: `incremental` (daily backup of what is new, DMs included: they are only served for
30 days), `full` (monthly full walk with deletion checks), `monthly_export` (last month's
bundles to the records destination), `index` (catch up with committed runs), `fixity`
(weekly: re-hash every object, check the chains, report Object Lock).

Every job leaves job records in the store (jobs.py); after each one the scheduler keeps a
signed heads record (heads.py) and updates the alert state of what it touched (alerts.py).
A scheduler that starts after downtime runs each job whose last scheduled time passed
without it once (coalesced), decided from the stored job history, not from memory. A
cron expression of six fields starts with seconds (short intervals, for tests and demos).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archiver.archive import Archive
from archiver.errors import ArchiverError, ConfigError
from archiver.jobs import JobHistory, note_job, scheduled, tracked
from archiver.timestamps import isoformat, utcnow
from archiver.wording import plural
from storage.errors import StorageError

log = logging.getLogger(__name__)

JOBS = ("incremental", "full", "monthly_export", "index", "fixity")
BACKUPS = ("incremental", "full")
_JOB_KIND = {"monthly_export": "export", "index": "index", "fixity": "verify"}
WATCH_MINUTES = 15  # how often the scheduler looks for overdue accounts between jobs
_RUN_LOCK = threading.Lock()  # one job at a time, whoever starts it (trigger or catch-up)


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
    note_job(counts={"bundles": len(report.exports)})


def _index(archive: Archive, outcome: JobOutcome) -> None:
    from archiver.index import open_index

    runs = open_index(archive).update(archive)
    outcome.lines.append(f"index caught up with {plural(runs, 'run')}")
    note_job(counts={"runs": runs})


def _fixity(archive: Archive, outcome: JobOutcome) -> None:
    """Re-hash every object, check every chain, say what protects the objects."""
    from storage.runs import VerifyProblem, list_runs

    manifests = list_runs(archive.store)
    problems = archive.verify()
    objects = sum(len(m.objects) for m in manifests)
    protection = getattr(archive.store, "protection", None)
    if callable(protection):
        prot = protection()
        retention = prot.get("default_retention")
        lock = (
            f"Object Lock on, default retention {retention}"
            if prot.get("object_lock") and retention
            else "Object Lock on, per-object retention"
            if prot.get("object_lock")
            else "no Object Lock"
        )
        outcome.lines.append(f"bucket: versioning {prot.get('versioning')}, {lock}")
    else:
        outcome.lines.append("store: a local directory (no Object Lock)")
    outcome.lines += [str(p) for p in problems]
    bad_objects = sum(isinstance(p, VerifyProblem) for p in problems)
    note_job(
        counts={"runs": len(manifests), "objects": objects, "problems": len(problems)},
    )
    if problems:
        outcome.ok = False
        summary = (
            f"{len(problems)} problems ({bad_objects} of {objects} objects failed, "
            f"{len(problems) - bad_objects} chain problems); first: {problems[0]}"
        )
        note_job(error=summary)
        outcome.lines.append(f"error: {summary}")
    else:
        outcome.lines.append(f"{objects} objects in {len(manifests)} runs verified, chains intact")


_RUNNERS: dict[str, Callable[[Archive, JobOutcome], None]] = {
    "incremental": lambda a, o: _backup(a, o, full=False),
    "full": lambda a, o: _backup(a, o, full=True),
    "monthly_export": _monthly_export,
    "index": _index,
    "fixity": _fixity,
}


def run_job(archive: Archive, job: str) -> JobOutcome:
    """Run one job now. Failures are caught, logged, recorded, alerted and returned, never
    raised: the scheduler must keep running for the next job."""
    if job not in _RUNNERS:
        raise ConfigError(f"schedule: unknown job {job!r} (one of {', '.join(JOBS)})")
    outcome = JobOutcome(job)
    with _RUN_LOCK, scheduled(job):
        try:
            # backups record one job per account themselves; a failure before any is one
            with tracked(
                archive.store, _JOB_KIND.get(job, "backup"), always=job not in BACKUPS
            ) as record:
                _RUNNERS[job](archive, outcome)
                if not outcome.ok and job not in BACKUPS:
                    record.status = "failed"
                    record.error = record.error or _first_error(outcome)
        except (ArchiverError, StorageError) as exc:
            outcome.ok = False
            outcome.lines.append(f"error: {exc}")
        except Exception as exc:  # a bug: keep the traceback in the log, keep scheduling
            log.exception("job %s crashed", job)
            outcome.ok = False
            outcome.lines.append(f"error: unexpected {type(exc).__name__}: {exc}")
        if outcome.ok:
            log.info("%s", outcome.describe())
        else:
            log.error("%s", outcome.describe())
        _after_job(archive, job, outcome)
    return outcome


def _first_error(outcome: JobOutcome) -> str:
    return next((line[7:] for line in outcome.lines if line.startswith("error: ")), "failed")


def _after_job(archive: Archive, job: str, outcome: JobOutcome) -> None:
    """Keep a signed heads record and update the alert state; neither may fail the job."""
    from archiver.alerts import Alerter, action_for
    from archiver.heads import save_heads, take_heads

    try:
        save_heads(archive, take_heads(archive))
    except (ArchiverError, StorageError) as exc:
        log.error("could not keep a heads record after job %s: %s", job, exc)
    if job in BACKUPS:
        if archive.config.accounts:
            watch(archive)
        else:  # nothing per account to say: the job itself failed
            _alert_job(archive, job, outcome)
        return
    if job == "fixity":
        Alerter(archive).update(
            "fixity",
            "ok" if outcome.ok else "fixity_failed",
            job="fixity",
            message=_first_error(outcome) if not outcome.ok else "fixity check passed",
            action=action_for("fixity"),
        )
        return
    _alert_job(archive, job, outcome)


def _alert_job(archive: Archive, job: str, outcome: JobOutcome) -> None:
    from archiver.alerts import Alerter, action_for

    Alerter(archive).update(
        f"job_{job}",
        "ok" if outcome.ok else "failing",
        job=job,
        message=f"job {job} ok" if outcome.ok else _first_error(outcome),
        action=action_for("job", job=job),
    )


def _alert_accounts(archive: Archive, now: dt.datetime | None = None) -> None:
    """Alert on each configured account whose backup state changed (failing, overdue, ok)."""
    from archiver.alerts import Alerter, action_for
    from archiver.health import account_states

    alerter = Alerter(archive)
    for st in account_states(archive, now=now):
        if st.state == "never_run":
            continue
        since = isoformat(st.since) if st.since else None
        if st.state == "failing":
            message = st.last_error or f"the backup of @{st.account} failed (see archiver jobs)"
            action = action_for("backup", account=st.account)
        elif st.state == "overdue":
            message = f"no good backup of @{st.account} since {st.last_success:%Y-%m-%d %H:%M} UTC"
            action = action_for("overdue")
        else:
            message = f"backup of @{st.account} ok"
            action = ""
        alerter.update(
            f"backup_{st.account.lower()}",
            "failing" if st.state == "failing" else st.state,
            job="backup",
            account=st.account,
            message=message,
            action=action,
            since=since,
        )


def watch(archive: Archive, now: dt.datetime | None = None) -> None:
    """Between jobs: an account can become overdue without any job failing."""
    try:
        _alert_accounts(archive, now)
    except (ArchiverError, StorageError) as exc:
        log.error("watch: cannot check the accounts' state: %s", exc)


def cron_trigger(setting: str, expr: str, timezone: str) -> CronTrigger:
    """A crontab expression (five fields, or six with seconds first)."""
    try:
        fields = expr.split()
        if len(fields) == 6:
            second, minute, hour, day, month, dow = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=dow,
                timezone=timezone,
            )
        return CronTrigger.from_crontab(expr, timezone=timezone)
    except (ValueError, LookupError) as exc:
        raise ConfigError(f"{setting}: invalid cron expression {expr!r} ({exc})") from None


def triggers(archive: Archive) -> dict[str, CronTrigger]:
    """Each scheduled job's trigger; an empty expression disables the job."""
    cfg = archive.config.schedule
    return {
        job: cron_trigger(f"schedule.{job}", getattr(cfg, job), cfg.timezone)
        for job in JOBS
        if getattr(cfg, job)
    }


def next_runs(archive: Archive, now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    now = now or utcnow()
    out = {}
    for job, trigger in triggers(archive).items():
        when = trigger.get_next_fire_time(None, now)
        if when is not None:
            out[job] = when
    return out


def missed_jobs(archive: Archive, now: dt.datetime | None = None) -> list[str]:
    """Jobs whose latest scheduled time passed with no run of them since (by the stored
    job history of every host). A job that never ran waits for its schedule."""
    now = (now or utcnow()).astimezone(dt.UTC)
    history = JobHistory(archive.store)
    missed = []
    for job, trigger in triggers(archive).items():
        last = history.last_started(job, now=now)
        if last is None:
            continue
        due = trigger.get_next_fire_time(None, last + dt.timedelta(seconds=1))
        if due is not None and due.astimezone(dt.UTC) <= now:
            missed.append(job)
    # a full backup also does what an incremental would
    if "full" in missed and "incremental" in missed:
        missed.remove("incremental")
    return missed


def catch_up(archive: Archive, now: dt.datetime | None = None) -> list[JobOutcome]:
    """Run each missed job once, in schedule order."""
    return [run_job(archive, job) for job in missed_jobs(archive, now)]


def build_scheduler(
    archive: Archive, scheduler_cls: type[BaseScheduler] = BlockingScheduler
) -> BaseScheduler:
    # one worker: a full backup and an export never run at the same time on the same store
    scheduler = scheduler_cls(
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone=archive.config.schedule.timezone,
    )
    for job, trigger in triggers(archive).items():
        scheduler.add_job(run_job, trigger, args=(archive, job), id=job, name=job)
    if archive.config.accounts:
        scheduler.add_job(
            watch,
            IntervalTrigger(minutes=WATCH_MINUTES),
            args=(archive,),
            id="_watch",
            name="watch",
        )
    return scheduler
