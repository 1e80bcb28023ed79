"""Each configured account's backup state, decided from the stored job history:

- `ok`: the last backup succeeded, and one succeeded since the last scheduled backup that
  is more than `schedule.grace_minutes` old;
- `failing` since the first failure after the last success;
- `overdue` since a scheduled backup plus grace passed with no success after it;
- `never_run`: no backup of the account was ever recorded.

The scheduler alerts on these (alerts.py) and `/healthz` reports them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger

from archiver.archive import Archive
from archiver.jobs import JobHistory, JobKey
from archiver.timestamps import isoformat, utcnow
from storage.errors import StorageError

STATES = ("ok", "failing", "overdue", "never_run")


@dataclass(frozen=True)
class AccountState:
    account: str
    state: str
    since: dt.datetime | None = None  # failing or overdue since
    last_success: dt.datetime | None = None
    last_error: str | None = None  # read only for failing accounts

    def to_dict(self) -> dict[str, str | None]:
        return {
            "account": self.account,
            "state": self.state,
            "since": isoformat(self.since) if self.since else None,
            "last_success": isoformat(self.last_success) if self.last_success else None,
            "last_error": self.last_error,
        }

    def describe(self) -> str:
        when = f" since {isoformat(self.since)}" if self.since else ""
        return f"@{self.account}: {self.state.replace('_', ' ')}{when}"


def backup_trigger(archive: Archive) -> CronTrigger | None:
    """The most frequent backup schedule (incremental, else full); None when both are off."""
    from archiver.schedule import cron_trigger

    cfg = archive.config.schedule
    for job in ("incremental", "full"):
        expr = getattr(cfg, job)
        if expr:
            return cron_trigger(f"schedule.{job}", expr, cfg.timezone)
    return None


def _first_fire_after(trigger: CronTrigger, after: dt.datetime) -> dt.datetime | None:
    fire = trigger.get_next_fire_time(None, after + dt.timedelta(microseconds=1))
    return fire.astimezone(dt.UTC) if fire else None


def account_states(archive: Archive, *, now: dt.datetime | None = None) -> list[AccountState]:
    """The state of every configured account (see the module docstring)."""
    now = (now or utcnow()).astimezone(dt.UTC)
    names = [acc.username for acc in archive.config.accounts]
    history = JobHistory(archive.store)
    pending = {name.lower(): name for name in names}
    backups: dict[str, list[JobKey]] = {name.lower(): [] for name in names}
    last_ok: dict[str, JobKey] = {}
    for key in history.keys(now=now):
        if not pending:
            break
        if key.job != "backup" or key.account is None:
            continue
        name = key.account.lower()
        if name not in pending or key.started > now:
            continue
        if key.ok:
            last_ok[name] = key
            del pending[name]  # newer records (failures) are already in backups[name]
        elif key.status == "failed":
            backups[name].append(key)
    trigger = backup_trigger(archive)
    grace = dt.timedelta(minutes=archive.config.schedule.grace_minutes)
    states = []
    for name in names:
        low = name.lower()
        failures = backups[low]  # newest first, all after the last success
        ok = last_ok.get(low)
        if failures:
            error = None
            try:
                error = history.read(failures[0]).error
            except (StorageError, ValueError, TypeError):
                error = None  # a detail only: the state stands without it
            states.append(
                AccountState(
                    name, "failing", failures[-1].started, ok.started if ok else None, error
                )
            )
            continue
        if ok is None:
            states.append(AccountState(name, "never_run"))
            continue
        due = _first_fire_after(trigger, ok.started) if trigger else None
        if due is not None and due + grace <= now:
            states.append(AccountState(name, "overdue", due + grace, ok.started))
        else:
            states.append(AccountState(name, "ok", None, ok.started))
    return states


def counts(states: list[AccountState]) -> dict[str, int]:
    out = dict.fromkeys(STATES, 0)
    for s in states:
        out[s.state] += 1
    return out
