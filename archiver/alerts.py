"""Alerts: e-mail (SMTP), a signed JSON webhook and `schedule.alert_command`, sent once per
change of state of a subject (an account's backups, a scheduled job, fixity).

Events: `job_failed` (a job failed after succeeding), `overdue` (an account had no good
backup within its schedule plus grace), `fixity_failed` (a scheduled verify found damage)
and `recovered` (that state cleared). The webhook body is JSON:

    {"event", "account", "job", "message", "action", "time", "since", "store"}

signed with HMAC-SHA256 of the exact body bytes under the secret in `webhook_secret_env`:
header `X-Archive-Signature: sha256=<hex>`. Each channel is tried `alerts.attempts` times
with doubling waits; a channel that still fails is logged, never raised: the job's own
result does not change. Sent alerts are kept in the store (`alerts/<subject>/...`), which
is how the next process knows the current state (one alert per change, not per retry).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import shlex
import smtplib
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

import orjson
import requests

from archiver.archive import Archive
from archiver.config import AlertsConfig
from archiver.timestamps import isoformat, utcnow
from storage.errors import StorageError
from storage.store import read_bytes

log = logging.getLogger(__name__)

PREFIX = "alerts/"
EVENTS = ("job_failed", "overdue", "fixity_failed", "recovered")
SIGNATURE_HEADER = "X-Archive-Signature"
_EVENT_OF_STATE = {"failing": "job_failed", "overdue": "overdue", "fixity_failed": "fixity_failed"}
_ACTION = {
    "backup": "check the account's tokens and the API with `archiver accounts check`, then"
    " `archiver backup --account @{account} -v`; `archiver jobs` shows the history",
    "overdue": "check that a scheduler is running (`archiver schedule --list`, `archiver jobs`)"
    " and can reach the X API and the store",
    "fixity": "run `archiver verify` (and `--against` a saved heads file) to see what changed;"
    " restore damaged objects from a replica or the records system's bundles",
    "job": "see `archiver jobs` and the scheduler log, then `archiver schedule --once {job}`",
}


@dataclass(frozen=True)
class Alert:
    event: str
    subject: str
    account: str | None
    job: str
    message: str  # the cause, one line
    action: str  # what to do
    time: str
    since: str | None = None

    def body(self, store: str) -> dict[str, str | None]:
        return {
            "event": self.event,
            "account": self.account,
            "job": self.job,
            "message": self.message,
            "action": self.action,
            "time": self.time,
            "since": self.since,
            "store": store,
        }

    def subject_line(self) -> str:
        who = f"@{self.account} " if self.account else ""
        return f"[social-archive] {self.event.replace('_', ' ')}: {who}{self.job}"

    def text(self) -> str:
        lines = [
            self.subject_line(),
            "",
            f"Account: {'@' + self.account if self.account else '-'}",
            f"Job: {self.job}",
            f"Cause: {self.message}",
            f"What to do: {self.action}",
            f"Time: {self.time}",
        ]
        if self.since:
            lines.append(f"Since: {self.since}")
        return "\n".join(lines) + "\n"


def action_for(kind: str, *, account: str | None = None, job: str = "") -> str:
    return _ACTION[kind].format(account=account or "", job=job)


def _subject_key(subject: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", subject)


class Alerter:
    """Decides whether a state is a change and, if so, sends and keeps the alert."""

    def __init__(self, archive: Archive, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.archive = archive
        self.cfg: AlertsConfig = archive.config.alerts
        self._sleep = sleep

    def last_state(self, subject: str) -> str:
        """The subject's state as the last alert left it ("ok" when never alerted)."""
        keys = list(self.archive.store.list(f"{PREFIX}{_subject_key(subject)}/"))
        if not keys:
            return "ok"
        doc = orjson.loads(read_bytes(self.archive.store, keys[-1]))
        return str(doc.get("state", "ok"))

    def update(
        self,
        subject: str,
        state: str,
        *,
        job: str,
        message: str,
        action: str,
        account: str | None = None,
        since: str | None = None,
    ) -> Alert | None:
        """Report a subject's current state ("ok" or a failing one); alert on a change."""
        try:
            previous = self.last_state(subject)
        except (StorageError, ValueError) as exc:
            log.error("alerts: cannot read the alert state of %s: %s", subject, exc)
            previous = "ok"
        if state == previous:
            return None
        if state == "ok":
            event = "recovered"
            message = f"{message} (was {previous.replace('_', ' ')})"
            action = "nothing: the earlier alert is resolved"
        else:
            event = _EVENT_OF_STATE[state]
        alert = Alert(event, subject, account, job, message, action, isoformat(utcnow()), since)
        self._keep(alert, state)
        self.send(alert)
        return alert

    def _keep(self, alert: Alert, state: str) -> None:
        stamp = alert.time.replace("-", "").replace(":", "").replace(".", "")
        key = f"{PREFIX}{_subject_key(alert.subject)}/{stamp}-{secrets.token_hex(3)}.json"
        doc = {**alert.body(self.archive.store.description), "state": state}
        try:
            self.archive.store.put_bytes(key, orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))
        except StorageError as exc:
            log.error("alerts: could not keep the alert for %s: %s", alert.subject, exc)

    # -- channels ----------------------------------------------------------------------------
    def send(self, alert: Alert) -> None:
        log.warning("alert %s: %s", alert.event, alert.message)
        cfg = self.cfg
        if cfg.smtp_host:
            self._retry("e-mail", lambda: self._mail(alert))
        if cfg.webhook_url:
            self._retry("webhook", lambda: self._webhook(alert))
        if self.archive.config.schedule.alert_command:
            self._retry("schedule.alert_command", lambda: self._command(alert), attempts=1)

    def _retry(self, channel: str, send: Callable[[], None], attempts: int | None = None) -> bool:
        attempts = attempts or self.cfg.attempts
        wait = self.cfg.retry_seconds
        for attempt in range(1, attempts + 1):
            try:
                send()
                return True
            except (
                OSError,
                smtplib.SMTPException,
                requests.RequestException,
                subprocess.SubprocessError,
                DeliveryError,
            ) as exc:
                log.error(
                    "alerts: %s attempt %d of %d failed: %s",
                    channel,
                    attempt,
                    attempts,
                    _one_line(exc),
                )
            if attempt < attempts:
                self._sleep(wait)
                wait *= 2
        log.error("alerts: %s gave up after %d attempts", channel, attempts)
        return False

    def _mail(self, alert: Alert) -> None:
        cfg = self.cfg
        msg = EmailMessage()
        msg["Subject"] = alert.subject_line()
        msg["From"] = cfg.mail_from
        msg["To"] = ", ".join(cfg.mail_to)
        msg.set_content(alert.text())
        with smtplib.SMTP(cfg.smtp_host or "", cfg.smtp_port, timeout=cfg.timeout) as smtp:
            if cfg.smtp_starttls:
                smtp.starttls()
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, _secret(cfg.smtp_password_env))
            smtp.send_message(msg)

    def _webhook(self, alert: Alert) -> None:
        cfg = self.cfg
        body = orjson.dumps(alert.body(self.archive.store.description), option=orjson.OPT_SORT_KEYS)
        headers = {"Content-Type": "application/json"}
        if cfg.webhook_secret_env:
            headers[SIGNATURE_HEADER] = signature(_secret(cfg.webhook_secret_env), body)
        resp = requests.post(cfg.webhook_url or "", data=body, headers=headers, timeout=cfg.timeout)
        if resp.status_code >= 300:
            raise DeliveryError(f"the webhook answered HTTP {resp.status_code}")

    def _command(self, alert: Alert) -> None:
        subprocess.run(
            shlex.split(self.archive.config.schedule.alert_command),
            input=alert.text(),
            text=True,
            timeout=120,
            check=True,
            capture_output=True,
        )


class DeliveryError(Exception):
    """A channel answered, but not with success."""


def signature(secret: str, body: bytes) -> str:
    """The X-Archive-Signature value of a webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _secret(env: str | None) -> str:
    value = os.environ.get(env or "", "")
    if not value:
        raise DeliveryError(f"environment variable {env} is not set")
    return value


def _one_line(exc: BaseException) -> str:
    # never the URL's query or credentials: requests puts the URL in some messages
    text = " ".join(str(exc).split()) or type(exc).__name__
    return re.sub(r"https?://\S+", "<webhook url>", text)[:300]
