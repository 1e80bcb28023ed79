"""Job history: every job, scheduled or manual, leaves one small record in the store.

    jobs/<YYYY>/<MM>/<started>-<schedule>-<job>-<account>-<status>-<rand>.json
    {"job_id", "job", "schedule", "trigger", "account", "started_at", "ended_at",
     "status", "counts", "run_id", "error", "host"}

`job` is what ran (backup per account, import, index, export, verify); `schedule` the
scheduler's job that ran it (incremental, full, monthly_export, index, fixity) or
"manual". `status` is ok, failed, stopped (interrupted: SIGTERM) or skipped (another
host's job held the account's lock). A failure that commits no run
is recorded too. The key repeats what health and missed-run checks need, so they list keys
and read no objects. Records are create-only like everything else in the store.

The scheduler (schedule.py) decides missed runs from these records, the health check
(health.py) decides each account's state from them, and `archiver jobs` lists them.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import re
import secrets
import socket
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import click
import orjson

from archiver.platforms.names import handle_label, handle_platform
from archiver.timestamps import isoformat, utcnow
from storage.errors import StorageError
from storage.store import ObjectStore, read_bytes

log = logging.getLogger(__name__)

PREFIX = "jobs/"
JOBS = ("backup", "import", "index", "export", "verify")
STATUSES = ("ok", "failed", "stopped", "skipped")
MANUAL = "manual"
_KEY = re.compile(
    r"^jobs/\d{4}/\d{2}/(?P<started>\d{8}T\d{12}Z)-(?P<schedule>[a-z_]+)-(?P<job>[a-z]+)"
    r"-(?P<account>[A-Za-z0-9_]+)-(?P<status>[a-z]+)-[0-9a-f]{6}\.json$"
)
_STAMP = "%Y%m%dT%H%M%S%fZ"
NO_ACCOUNT = "_all"

# which scheduled job is running now (set by the scheduler around a job; "manual" outside)
_SCHEDULE: contextvars.ContextVar[str] = contextvars.ContextVar("schedule", default=MANUAL)


@dataclass
class JobRecord:
    job: str
    schedule: str = MANUAL
    account: str | None = None
    started_at: str = ""
    ended_at: str = ""
    status: str = "ok"
    counts: dict[str, int] = field(default_factory=dict)
    run_id: str | None = None
    error: str | None = None  # one line
    job_id: str = ""
    host: str = field(default_factory=socket.gethostname)

    @property
    def trigger(self) -> str:
        return "manual" if self.schedule == MANUAL else "scheduled"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "trigger": self.trigger}

    def describe(self) -> str:
        # a record names the account by handle, whose syntax says the platform
        who = (
            f" {handle_label(self.account, handle_platform(self.account))}" if self.account else ""
        )
        how = self.trigger if self.trigger == MANUAL else f"scheduled: {self.schedule}"
        what = f"{self.job}{who} ({how})"
        tail = f": {self.error}" if self.error else ""
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        return f"{self.started_at}  {what} {self.status}{tail}{'  ' + counts if counts else ''}"


@dataclass(frozen=True)
class JobKey:
    """What a record's key says, without reading it."""

    key: str
    started: dt.datetime
    schedule: str
    job: str
    account: str | None
    status: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def parse_key(key: str) -> JobKey | None:
    match = _KEY.match(key)
    if not match:
        return None
    account = match["account"]
    return JobKey(
        key,
        dt.datetime.strptime(match["started"], _STAMP).replace(tzinfo=dt.UTC),
        match["schedule"],
        match["job"],
        None if account == NO_ACCOUNT else account,
        match["status"],
    )


def _key_part(value: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", value) if value else NO_ACCOUNT


def one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= 500 else line[:497] + "..."


class JobHistory:
    """Read and write the job records of one store."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def write(self, record: JobRecord) -> str | None:
        """Keep a record; a store that refuses is logged, never raised: a job's own result
        must not change because its history could not be written."""
        started = _parse(record.started_at) or utcnow()
        record.job_id = record.job_id or f"{started.strftime(_STAMP)}-{secrets.token_hex(3)}"
        key = (
            f"{PREFIX}{started:%Y}/{started:%m}/{started.strftime(_STAMP)}-{record.schedule}"
            f"-{record.job}-{_key_part(record.account)}-{record.status}"
            f"-{record.job_id[-6:]}.json"
        )
        try:
            self.store.put_bytes(key, orjson.dumps(record.to_dict(), option=orjson.OPT_SORT_KEYS))
        except StorageError as exc:
            log.error("job %s: could not write its record to the job history: %s", record.job, exc)
            return None
        return key

    def keys(self, *, now: dt.datetime | None = None, months: int = 13) -> Iterator[JobKey]:
        """Records newest first, month by month back from `now` (a lazy listing)."""
        when = (now or utcnow()).astimezone(dt.UTC)
        year, month = when.year, when.month
        for _ in range(months):
            listed = self.store.list(f"{PREFIX}{year:04d}/{month:02d}/")
            found = [k for k in map(parse_key, listed) if k is not None]
            yield from sorted(found, key=lambda k: k.key, reverse=True)
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)

    def read(self, key: JobKey) -> JobRecord:
        doc = orjson.loads(read_bytes(self.store, key.key))
        doc.pop("trigger", None)
        return JobRecord(**doc)

    def recent(self, limit: int = 50, *, now: dt.datetime | None = None) -> list[JobRecord]:
        out: list[JobRecord] = []
        for key in self.keys(now=now):
            if len(out) >= limit:
                break
            try:
                out.append(self.read(key))
            except (StorageError, ValueError, TypeError) as exc:
                log.warning("job record %s is unreadable: %s", key.key, exc)
        return out

    def last_started(self, schedule: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
        """When the scheduled job `schedule` last started (any status, any host)."""
        return next((k.started for k in self.keys(now=now) if k.schedule == schedule), None)


def _parse(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def record_backup(store: ObjectStore, result: Any, started_at: str) -> None:
    """One account's backup (a capture.backup.BackupResult) as a job record."""
    JobHistory(store).write(
        JobRecord(
            "backup",
            current_schedule(),
            result.account,
            started_at,
            isoformat(utcnow()),
            _backup_status(result),
            dict(result.written),
            result.manifest.run_id if result.manifest else None,
            one_line(result.error) if result.error else None,
        )
    )


def _backup_status(result: Any) -> str:
    if result.stopped:
        return "stopped"
    if getattr(result, "locked", False):
        return "skipped"  # another host's job had the account: it did this slot's work
    return "ok" if result.ok else "failed"


# -- recording ---------------------------------------------------------------------------------
def current_schedule() -> str:
    return _SCHEDULE.get()


@contextlib.contextmanager
def scheduled(name: str) -> Iterator[None]:
    """Mark the jobs run inside as run by the scheduler's job `name`."""
    token = _SCHEDULE.set(name)
    try:
        yield
    finally:
        _SCHEDULE.reset(token)


_CURRENT: contextvars.ContextVar[JobRecord | None] = contextvars.ContextVar("job", default=None)


def current_job() -> JobRecord | None:
    """The job being recorded, for a command to add counts or the error line to."""
    return _CURRENT.get()


def note_job(
    *,
    account: str | None = None,
    run_id: str | None = None,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> None:
    """Add what a command knows to the job being recorded (nothing when none is)."""
    record = _CURRENT.get()
    if record is None:
        return
    if account:
        record.account = account
    if run_id:
        record.run_id = run_id
    if counts:
        record.counts.update(counts)
    if error:
        record.error = one_line(error)


@contextlib.contextmanager
def tracked(
    store: ObjectStore, job: str, *, account: str | None = None, always: bool = True
) -> Iterator[JobRecord]:
    """Record the job run inside: ok, failed (an exception, a non-zero exit) or stopped
    (interrupted). `always=False` writes only a failure (the job records its own parts)."""
    record = JobRecord(job, current_schedule(), account, isoformat(utcnow()))
    token = _CURRENT.set(record)
    try:
        yield record
    except SystemExit as exc:
        if exc.code not in (0, None):
            record.status = "failed"
            record.error = record.error or f"exit status {exc.code}"
        raise
    except Exception as exc:
        record.status = "failed"
        record.error = one_line(f"{exc}") or type(exc).__name__
        raise
    except BaseException:
        record.status = "stopped"
        record.error = record.error or "interrupted"
        raise
    finally:
        _CURRENT.reset(token)
        record.ended_at = isoformat(utcnow())
        if record.status != "ok" and record.error is None:
            record.error = "failed"
        if always or record.status != "ok":
            JobHistory(store).write(record)


def track_command(command: click.Command, job: str) -> click.Command:
    """Wrap a click command so each invocation is recorded as `job` in the job history."""
    inner = command.callback
    assert inner is not None

    def callback(*args: Any, **kwargs: Any) -> Any:
        archive = getattr(click.get_current_context().obj, "archive", None)
        if archive is None:
            return inner(*args, **kwargs)
        with tracked(archive.store, job, account=_account_arg(kwargs)):
            return inner(*args, **kwargs)

    command.callback = callback
    return command


def _account_arg(kwargs: dict[str, Any]) -> str | None:
    value = kwargs.get("account") or kwargs.get("accounts")
    if isinstance(value, (list, tuple)):
        value = ",".join(value) if value else None
    return str(value).lstrip("@") if value else None
