"""Monthly records bundles: one bag per account and month, delivered to the records destination.

A month's items are those created in it, or edited or deleted during it (in ui.timezone,
Europe/London by default: a records officer's March, DST-correct), each with
all its versions and its deletion time. The bundle is dated by the newest run it draws on,
never by the clock, so exporting the same month from the same runs gives the same bytes and
a re-run finds the identical bundle already delivered.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from archiver.archive import AccountRef, Archive, retry_policy
from archiver.exports.bundle import BundleBuilder, ExportBundle
from archiver.exports.destination import Delivery, Destination, open_destination
from archiver.exports.errors import ExportError
from archiver.exports.items import ExportItem, collector_paused_during, sort_items
from archiver.exports.register import default_operator, record_export
from archiver.exports.signing import SigningKey, load_signing_key
from archiver.platforms.names import platform_name
from archiver.timestamps import day_start, display_zone, isoformat, parse_time, utcnow
from storage.accountids import account_platform
from storage.chain import account_manifests, chain_head
from storage.records import item_key
from storage.runs import Manifest, iter_run, list_runs
from storage.store import ObjectStore
from storage.view import EVENTS, Item, merge_runs

log = logging.getLogger(__name__)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class NothingToExport(ExportError):
    """The account has no items in the month asked for."""


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month as a records officer reads it: in `zone` (ui.timezone, Europe/London
    by default in the exports), so "2026-03" runs from midnight on 1 March UK time (GMT) to
    midnight on 1 April (BST), 23:00 UTC on 31 March. Its bounds are UTC instants."""

    year: int
    month: int
    zone: str = field(default="UTC", compare=False)

    @classmethod
    def parse(cls, text: str, *, today: dt.date | None = None, zone: str = "UTC") -> Month:
        """A finished month as YYYY-MM; the current month is refused (it is not complete).
        `today` is a day in `zone`."""
        m = _MONTH.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2006:
            raise ExportError(f"month must be YYYY-MM (e.g. 2024-03), got {text!r}")
        month = cls(int(m.group(1)), int(m.group(2)), zone)
        today = today or utcnow().astimezone(display_zone(zone)).date()
        if month.next_first > today:
            raise ExportError(
                f"{month} has not ended yet (months are {zone} time); export it from"
                f" {month.next_first:%Y-%m-%d}"
            )
        return month

    @classmethod
    def before(cls, when: dt.date, zone: str = "UTC") -> Month:
        """The month before the one `when` (a day in `zone`) falls in: what the scheduler
        exports."""
        if when.month == 1:
            return cls(when.year - 1, 12, zone)
        return cls(when.year, when.month - 1, zone)

    @property
    def next_first(self) -> dt.date:
        """The first day after the month (a calendar day in the month's zone)."""
        if self.month == 12:
            return dt.date(self.year + 1, 1, 1)
        return dt.date(self.year, self.month + 1, 1)

    @property
    def start(self) -> dt.datetime:
        """The month's first instant, in UTC."""
        return day_start(dt.date(self.year, self.month, 1), self.zone)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the month, in UTC."""
        return day_start(self.next_first, self.zone)

    @property
    def last_day(self) -> dt.date:
        return self.next_first - dt.timedelta(days=1)

    @functools.cached_property
    def _bounds(self) -> tuple[str, str]:
        # the archive's normalised times compare as text to the second
        return (
            isoformat(self.start, "seconds")[:19],
            isoformat(self.end, "seconds")[:19],
        )

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def contains(self, timestamp: Any) -> bool:
        if not timestamp:
            return False
        text = str(timestamp)
        if text.endswith("Z") and len(text) >= 20 and text[10:11] == "T" and text[4:5] == "-":
            # the archive's normalised UTC form: compared as text, no parsing needed
            low, high = self._bounds
            return low <= text[:19] < high
        try:
            ts = parse_time(text)
        except ValueError:
            return False
        return ts is not None and self.start <= ts < self.end


def in_month(item: Item | ExportItem, month: Month) -> bool:
    """Created in the month, or edited (a version made) or deleted during it."""
    if month.contains(item.deleted_at):
        return True
    return any(
        month.contains(rec.get("created_at")) or month.contains(rec.get("deleted_at"))
        for rec in item.versions
    )


def month_items(
    store: ObjectStore, account_id: str, manifests: Sequence[Manifest], month: Month
) -> list[ExportItem]:
    """The month's items with all their versions, oldest first. A first pass streams every
    record to find them; the merge then keeps only those, so memory holds one month rather
    than the account's whole history."""
    wanted: set[tuple[str, str]] = set()
    deleted: set[tuple[str, str]] = set()  # (collection, id) a deletion event in the month names
    later_versions: dict[tuple[str, str], tuple[str, str]] = {}  # (collection, id) -> item
    for manifest in manifests:
        for collection, rec in iter_run(store, manifest):
            if collection == EVENTS:
                if rec.get("type") == "deleted" and month.contains(rec.get("at")):
                    deleted.add((str(rec.get("collection")), str(rec.get("id"))))
                continue
            key = (collection, item_key(rec))
            if str(rec["id"]) != key[1]:
                later_versions[(collection, str(rec["id"]))] = key
            if month.contains(rec.get("created_at")) or month.contains(rec.get("deleted_at")):
                wanted.add(key)
    wanted |= {later_versions.get(d, d) for d in deleted}
    view = merge_runs(store, manifests, keep=lambda c, rec: (c, item_key(rec)) in wanted)
    return sort_items(
        ExportItem.of(account_id, item) for item in view.values() if in_month(item, month)
    )


@dataclass(frozen=True)
class MonthlyExport:
    account: AccountRef
    month: Month
    bundle: ExportBundle
    delivery: Delivery
    record_key: str

    def audit_detail(self) -> dict[str, str]:
        """What the audit log says of this export (the CLI and the scheduler both record it)."""
        return {
            "kind": "monthly",
            "account": self.account.username,
            "month": str(self.month),
            "export_record": self.record_key,
            "bundle": self.bundle.file_name,
            "sha256": self.bundle.sha256,
            "destination": self.delivery.url,
            "status": self.delivery.status,
        }

    def __str__(self) -> str:
        status = {
            "written": "written",
            "identical": "already there (identical)",
            "replaced": f"replaced the previous bundle (sha256 {self.delivery.previous_sha256})",
        }[self.delivery.status]
        return (
            f"@{self.account.username} {self.month}: {self.bundle.counts_text},"
            f" {self.bundle.size_text} -> {self.delivery.url} {status}"
        )


@dataclass(frozen=True)
class MonthlyReport:
    month: Month
    exports: tuple[MonthlyExport, ...]
    skipped: tuple[str, ...]  # accounts with nothing in the month


def period_text(month: Month) -> str:
    """'2026-03-01 to 2026-03-31 (Europe/London time: 2026-03-01T00:00:00Z to
    2026-03-31T23:00:00Z)': the days as the reader counts them, the UTC bounds beside."""
    days = f"{month.start.astimezone(display_zone(month.zone)):%Y-%m-%d} to {month.last_day}"
    if month.zone == "UTC":
        return f"{days} (UTC)"
    bounds = f"{isoformat(month.start, 'seconds')} to {isoformat(month.end, 'seconds')}"
    return f"{days} ({month.zone} time: {bounds})"


def bundle_key(ref: AccountRef, month: Month) -> str:
    """Where a month's bundle lives at the destination."""
    return f"{ref.username}/{month.year:04d}/{ref.username}-{month}.zip"


@collector_paused_during
def export_month(
    archive: Archive,
    ref: AccountRef,
    month: Month,
    destination: Destination,
    *,
    replace: bool = False,
    operator: str | None = None,
    signing_key: SigningKey | None = None,
    workdir: str | os.PathLike[str] | None = None,
) -> MonthlyExport:
    """Build one account's bundle for one month and deliver it."""
    store = archive.store
    manifests = list_runs(store, ref.account_id)
    items = month_items(store, ref.account_id, manifests, month)
    if not items:
        raise NothingToExport(f"no records for @{ref.username} in {month}")
    cfg = archive.config.export
    name = f"{ref.username}-{month}"
    with BundleBuilder(
        store,
        manifests,
        name=name,
        kind="monthly",
        workdir=workdir,
        zone=archive.config.ui.timezone,
    ) as builder:
        builder.write_items(
            items,
            title=f"@{ref.username}: {month}",
            summary=[
                ("Organisation", cfg.organisation),
                ("Account", f"@{ref.username} (id {ref.account_id})"),
                ("Period", period_text(month)),
                ("Retention code", cfg.retention_code or "-"),
                ("Classification", cfg.classification or "-"),
            ],
        )
        by_run = {m.run_id: m for m in manifests}
        # the newest run it draws on dates the bundle: the same runs, the same bytes
        newest = max(_committed(by_run[r]) for r in builder.runs)
        # an outside anchor for the account's manifest chain (archiver/heads.py), as of
        # that run: the records system holds one each month, and re-exports stay identical
        builder.add_json("chain-head.json", chain_head_as_of(store, ref.account_id, newest))
        bundle = builder.build(
            {
                "Source-Organization": cfg.organisation,
                "External-Identifier": name,
                "External-Description": (
                    f"Records of the {platform_name(account_platform(ref.account_id))} account"
                    f" @{ref.username} for {month}: every item created,"
                    f" edited or deleted in the month ({month.zone} time), with all versions"
                ),
                "Account": f"@{ref.username} ({ref.account_id})",
                "Period": f"{isoformat(month.start, 'seconds')}/{isoformat(month.end, 'seconds')}",
                "Retention-Code": cfg.retention_code,
                "Security-Classification": cfg.classification,
            },
            bagging_date=newest,
            signing_key=signing_key,
        )
        delivery = destination.deliver(bundle, bundle_key(ref, month), replace=replace)
    key = record_export(
        store,
        {
            "kind": "monthly",
            "operator": operator or default_operator(),
            "account": ref.username,
            "account_id": ref.account_id,
            "month": str(month),
            "bundle": _bundle_summary(bundle),
            "destination": delivery.url,
            "status": delivery.status,
            "replaced_sha256": delivery.previous_sha256,
        },
    )
    log.info(
        "account %s month %s: bundle %s %s", ref.username, month, delivery.url, delivery.status
    )
    return MonthlyExport(ref, month, bundle, delivery, key)


def chain_head_as_of(store: ObjectStore, account_id: str, when: dt.datetime) -> dict[str, Any]:
    """The head of the account's chain among the runs committed by `when`."""
    manifests = [s for s in account_manifests(store, account_id) if _committed(s.manifest) <= when]
    head = chain_head(manifests)
    if head is None:  # cannot happen for a bundle with items; say so rather than guess
        raise ExportError(f"no committed runs of account {account_id} by {when:%Y-%m-%d}")
    return {
        "format": "social-archive/chain-head/1",
        "account_id": head.account_id,
        "account": head.account,
        "run_id": head.run_id,
        "manifest_sha256": head.sha256,
        "runs": head.runs,
        "chained": head.chained,
        "as_of": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _committed(manifest: Manifest) -> dt.datetime:
    when = parse_time(manifest.committed_at)
    if when is None:
        raise ExportError(f"run {manifest.run_id} has no commit time in its manifest")
    return when


def _bundle_summary(bundle: ExportBundle) -> dict[str, Any]:
    return {
        "name": bundle.file_name,
        "sha256": bundle.sha256,
        "size": bundle.size,
        "items": bundle.items,
        "versions": bundle.versions,
        "counts": bundle.counts,
        "runs": list(bundle.runs),
        "signed_by": bundle.signed_by,
    }


def export_monthly(
    archive: Archive,
    month: str | Month,
    *,
    accounts: Iterable[str] = (),
    dest: str | None = None,
    replace: bool = False,
    operator: str | None = None,
    s3_client: Any = None,
    workdir: str | os.PathLike[str] | None = None,
    today: dt.date | None = None,
) -> MonthlyReport:
    """The month's bundles for the named accounts (default: every account in the archive).
    A named account with nothing in the month is an error; otherwise it is skipped."""
    zone = archive.config.ui.timezone
    month = month if isinstance(month, Month) else Month.parse(month, today=today, zone=zone)
    named = [archive.resolve_account(a) for a in accounts]
    refs = named or archive.accounts()
    if not refs:
        raise ExportError(f"no accounts in {archive.store.description}")
    destination = open_destination(
        dest or archive.config.export.destination or "",
        s3_client=s3_client,
        policy=retry_policy(archive.config.storage),
    )
    signing_key = load_signing_key(archive.config.export)
    exports, skipped = [], []
    for ref in refs:
        try:
            exports.append(
                export_month(
                    archive,
                    ref,
                    month,
                    destination,
                    replace=replace,
                    operator=operator,
                    signing_key=signing_key,
                    workdir=workdir,
                )
            )
        except NothingToExport:
            if named:
                raise
            log.info("account %s: nothing in %s, no bundle", ref.username, month)
            skipped.append(ref.username)
    if not exports:
        raise ExportError(f"no records for any account in {month}")
    return MonthlyReport(month, tuple(exports), tuple(skipped))


def export_last_month(
    archive: Archive, *, now: dt.datetime | None = None, operator: str = "scheduler"
) -> MonthlyReport:
    """The scheduler's job: last month's bundles for every account, to export.destination."""
    zone = archive.config.ui.timezone
    when = (now or utcnow()).astimezone(display_zone(zone)).date()  # the day in UK time
    return export_monthly(archive, Month.before(when, zone), operator=operator, today=when)
