"""The completeness report: what the archive holds for an account against what the sources
say should exist (the profile's counts, each archive ZIP's manifest, the API's windows),
with every gap named in words a records officer understands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import ArchiverError
from archiver.timestamps import parse_iso, utcnow
from storage.runs import Manifest, list_runs
from storage.store import ObjectStore
from storage.view import Item, merge_runs

API = "x-api-v2"
ZIP = "x-archive"
POST_WINDOW = 3200
MENTION_WINDOW = 800
DM_DAYS = 30
_OWN = {"post", "reply", "repost", "quote"}


@dataclass(frozen=True)
class Finding:
    topic: str  # posts | archive | mentions | dms | followers | deletions | capture
    text: str
    gap: bool = False  # something that should be in the archive and is not


@dataclass
class Reconciliation:
    account: str
    account_id: str
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def gaps(self) -> list[Finding]:
        return [f for f in self.findings if f.gap]

    def lines(self) -> list[str]:
        head = f"@{self.account}: " + (
            f"{len(self.gaps)} gap{'s' if len(self.gaps) != 1 else ''}" if self.gaps else "no gaps"
        )
        return [head] + [f"  {'GAP ' if f.gap else ''}{f.text}" for f in self.findings]

    def summary(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_id": self.account_id,
            "counts": self.counts,
            "findings": [f.__dict__ for f in self.findings],
        }


def _day(iso: str | None) -> str:
    return (iso or "")[:10] or "an unknown date"


def reconcile(
    store: ObjectStore, account_id: str, *, now: dt.datetime | None = None
) -> Reconciliation:
    manifests = list_runs(store, account_id)
    if not manifests:
        raise ArchiverError(f"no runs for account {account_id} in {store.description}")
    now = now or utcnow()
    report = Reconciliation(manifests[-1].account, account_id)
    runs = {m.run_id: m for m in manifests}
    items = merge_runs(store, manifests)
    api_runs = [m for m in manifests if m.source == API]

    def sources(item: Item) -> set[str]:
        return {runs[r].source for r in item.runs}

    by_collection: dict[str, list[Item]] = {}
    for (collection, _key), item in items.items():
        by_collection.setdefault(collection, []).append(item)
    report.counts = {c: len(v) for c, v in sorted(by_collection.items())}

    posts = [i for i in by_collection.get("tweets", []) if i.latest.get("kind") in _OWN]
    _posts(report, posts, api_runs, sources)
    _archives(report, posts, manifests, sources)
    _mentions(report, by_collection.get("mentions", []), api_runs)
    _dms(report, by_collection.get("dms", []), api_runs, sources, now)
    _followers(report, api_runs)
    _deletions(report, posts, by_collection.get("mentions", []))
    if api_runs:
        for warning in api_runs[-1].warnings:
            report.findings.append(Finding("capture", f"In the latest capture: {warning}", True))
    return report


def _posts(report: Reconciliation, posts: list[Item], api_runs: list[Manifest], sources) -> None:
    alive = [p for p in posts if not p.deleted_at]
    from_api = sum(1 for p in alive if API in sources(p))
    only_zip = sum(1 for p in alive if sources(p) <= {ZIP})
    metrics = api_runs[-1].details.get("profile_metrics") if api_runs else None
    held = (
        f"the archive holds {len(alive):,} ({from_api:,} captured through the X API, "
        f"{only_zip:,} only from archive ZIPs)"
    )
    if not metrics or "tweet_count" not in metrics:
        report.findings.append(
            Finding(
                "posts", f"Posts: {held}; no X API capture has read the profile's post count yet."
            )
        )
        return
    count = int(metrics["tweet_count"])
    report.findings.append(Finding("posts", f"The profile counts {count:,} posts; {held}."))
    if len(alive) < count:
        report.findings.append(
            Finding(
                "posts",
                f"{count - len(alive):,} posts are not in the archive: the X API serves only the "
                f"newest {POST_WINDOW:,}; import the account's official archive ZIP (Settings > "
                "Your account > Download an archive of your data) to fill the gap.",
                gap=True,
            )
        )


def _archives(
    report: Reconciliation, posts: list[Item], manifests: list[Manifest], sources
) -> None:
    only_zip: dict[str, list[Item]] = {}
    for post in posts:
        if sources(post) <= {ZIP} and post.first_run:
            only_zip.setdefault(post.first_run, []).append(post)
    for m in manifests:
        if m.source != ZIP:
            continue
        expected = m.details.get("expected") or {}
        listed = expected.get("tweets", expected.get("tweet"))
        when = _day(m.details.get("generated_at") or m.committed_at)
        mine = only_zip.get(m.run_id, [])
        text = f"The archive ZIP of {when}"
        text += f" lists {int(listed):,} posts" if listed is not None else " has no post count"
        if mine:
            newest = max((p.latest.get("created_at") or "") for p in mine)
            before = int(newest[:4]) + 1 if newest[:4].isdigit() else None
            span = f"from before {before} " if before else ""
            text += f"; {len(mine):,} posts {span}are only in this {when[:4]} archive ZIP"
        report.findings.append(Finding("archive", text + "."))
        for gap in m.gaps:
            report.findings.append(
                Finding("archive", f"The archive ZIP of {when} is incomplete: {gap}.", gap=True)
            )


def _mentions(report: Reconciliation, mentions: list[Item], api_runs: list[Manifest]) -> None:
    first = next((m for m in api_runs if "mentions" in m.details.get("complete", ())), None)
    if first is None:
        report.findings.append(
            Finding(
                "mentions",
                "Mentions (replies and posts from the public "
                "naming the account) have never been captured through "
                "the X API; archive ZIPs do not include them.",
                gap=True,
            )
        )
        return
    oldest = min((i.latest.get("created_at") or "" for i in mentions), default="")
    report.findings.append(
        Finding(
            "mentions",
            f"The archive holds {len(mentions):,} mentions (replies and posts from the "
            f"public naming the account), the oldest from {_day(oldest)}.",
        )
    )
    if (first.details.get("seen") or {}).get("mentions", 0) >= MENTION_WINDOW:
        report.findings.append(
            Finding(
                "mentions",
                f"Mentions from before {_day(oldest)} are not in the archive: the X API "
                f"serves only the newest {MENTION_WINDOW:,} and archive ZIPs do not include them.",
                gap=True,
            )
        )


def _dms(
    report: Reconciliation, dms: list[Item], api_runs: list[Manifest], sources, now: dt.datetime
) -> None:
    captures = [m for m in api_runs if "dms" in m.details.get("complete", ())]
    from_zip = sum(1 for d in dms if sources(d) <= {ZIP})
    from_api = len(dms) - from_zip
    if not captures:
        report.findings.append(
            Finding(
                "dms",
                f"DMs have never been captured through the X API (it needs a user token); "
                f"the archive holds {from_zip:,} DMs from archive ZIPs only.",
                gap=True,
            )
        )
        return
    report.findings.append(
        Finding(
            "dms",
            f"The X API serves DMs for {DM_DAYS} days only: {from_api:,} DMs were captured "
            f"through it since {_day(captures[0].started_at)}; DMs older than {DM_DAYS} days "
            f"are only in ZIP imports ({from_zip:,} DMs from archive ZIPs).",
        )
    )
    limit = dt.timedelta(days=DM_DAYS)
    moments = [parse_iso(m.started_at) for m in captures] + [now]
    for before, after in zip(moments, moments[1:], strict=False):
        if after - before > limit:
            lost_to = (after - limit).date().isoformat()
            report.findings.append(
                Finding(
                    "dms",
                    f"No DM capture between {before.date().isoformat()} and "
                    f"{after.date().isoformat()}: DMs sent from {before.date().isoformat()} to "
                    f"{lost_to} are only recoverable from an archive ZIP; run the backup daily.",
                    gap=True,
                )
            )


def _followers(report: Reconciliation, api_runs: list[Manifest]) -> None:
    latest = next(
        (m for m in reversed(api_runs) if "followers" in m.details.get("complete", ())), None
    )
    if latest is None:
        return
    metrics = latest.details.get("profile_metrics") or {}
    listed = (latest.details.get("seen") or {}).get("followers", 0)
    if "followers_count" in metrics:
        report.findings.append(
            Finding(
                "followers",
                f"The profile counts {int(metrics['followers_count']):,} followers; the "
                f"capture of {_day(latest.started_at)} listed {listed:,}.",
            )
        )


def _deletions(report: Reconciliation, posts: list[Item], mentions: list[Item]) -> None:
    counts = {
        noun: sum(1 for i in items if i.deleted_at)
        for noun, items in (("post", posts), ("mention", mentions))
    }
    parts = [f"{n:,} {noun}{'s' if n != 1 else ''}" for noun, n in counts.items() if n]
    if parts:
        verb = "was" if sum(counts.values()) == 1 else "were"
        report.findings.append(
            Finding(
                "deletions",
                f"{' and '.join(parts)} {verb} deleted on X after capture; the archive keeps "
                f"{'it' if verb == 'was' else 'them'}, marked deleted.",
            )
        )
