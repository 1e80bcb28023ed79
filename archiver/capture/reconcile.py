"""The completeness report: what the archive holds for an account against what the sources
say should exist (the profile's counts, each archive ZIP's manifest, the API's windows),
with every gap named in words a records officer understands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import ArchiverError
from archiver.platforms.names import account_label, platform_name
from archiver.timestamps import local_time, parse_iso, utcnow
from archiver.wording import plural
from storage.accountids import account_platform
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
        head = f"{account_label(self.account, self.account_id)}: " + (
            f"{len(self.gaps)} gap{'s' if len(self.gaps) != 1 else ''}" if self.gaps else "no gaps"
        )
        return [head] + [f"  {'GAP ' if f.gap else ''}{f.text}" for f in self.findings]

    def summary(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_id": self.account_id,
            "platform": account_platform(self.account_id),
            "counts": self.counts,
            "findings": [f.__dict__ for f in self.findings],
        }


def _day(iso: str | dt.datetime | None) -> str:
    """A day as people read it ('20 Aug 2023', in ui.timezone's default), or 'an unknown date'."""
    text = local_time(iso, unknown="") if iso else ""
    return " ".join(text.split()[:3]) if text else "an unknown date"


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
    _held(report, by_collection, posts, sources)
    platform = account_platform(account_id)
    if platform != "x":
        # X's profile counts, API windows and archive ZIPs say nothing about these
        _other_platform(report, platform, posts, by_collection, manifests)
        return report
    _profile(report, posts, by_collection, api_runs)
    _archives(report, posts, manifests, sources)
    _mentions(report, by_collection.get("mentions", []), api_runs)
    _dms(report, by_collection.get("dms", []), api_runs, sources, now)
    _deletions(report, posts, by_collection.get("mentions", []))
    if api_runs:
        for warning in api_runs[-1].warnings:
            report.findings.append(Finding("capture", f"In the latest capture: {warning}", True))
    return report


# what each collection's items are called, in the order the report lists them
_NOUNS = (
    ("tweets", "post"),
    ("mentions", "mention"),
    ("likes", "like"),
    ("bookmarks", "bookmark"),
    ("followers", "follower"),
    ("following", "followed account"),
    ("dms", "DM"),
    ("lists", "list"),
)
_SOURCE_NAMES = {
    API: "the X API",
    ZIP: "archive ZIPs",
    "twarc": "twarc files",
    "bluesky-repo": "Bluesky repository snapshots",
    "bluesky-api": "the Bluesky API",
    "mastodon-api": "the Mastodon API",
    "mastodon-archive": "Mastodon account archives",
}
# the captures that read each platform's live account (the others are imports of exports)
_LIVE = {"bluesky": ("bluesky-repo", "bluesky-api"), "mastodon": ("mastodon-api",)}
# profile counts as the platforms name them (Bluesky's getProfile, Mastodon's account)
_PROFILE_KEYS = (
    ("posts", ("postsCount", "statuses_count", "posts_count"), "post"),
    ("followers", ("followersCount", "followers_count"), "follower"),
    ("following", ("followsCount", "following_count"), "followed account"),
)


def _by_source(items: list[Item], sources: Any) -> str:
    """'321 through the X API, 60 from archive ZIPs': every item counted once, under the
    sources that captured it (an item two sources captured counts under both together)."""
    groups: dict[tuple[str, ...], int] = {}
    for item in items:
        key = tuple(sorted(sources(item)))
        groups[key] = groups.get(key, 0) + 1
    parts = []
    for key, n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])):
        names = [_SOURCE_NAMES.get(s, s) for s in key]
        how = "through" if key == (API,) else "from"
        parts.append(f"{n:,} {how} {' and '.join(names)}")
    return ", ".join(parts)


def _other_platform(
    report: Reconciliation,
    platform: str,
    posts: list[Item],
    by_collection: dict[str, list[Item]],
    manifests: list[Manifest],
) -> None:
    """A Bluesky or Mastodon account: what its own captures and imports say, nothing of X's."""
    name = platform_name(platform)
    live = [m for m in manifests if m.source in _LIVE.get(platform, ())]
    metrics, run = {}, None
    for m in reversed(manifests):
        if m.details.get("profile_metrics"):
            metrics, run = m.details["profile_metrics"], m
            break
    if run is None:
        report.findings.append(
            Finding(
                "profile",
                f"No capture has read the {name} profile's counts yet, so the archive cannot"
                " be compared with them.",
            )
        )
    else:
        when = f"The {name} profile (read {_day(run.started_at)})"
        held = {
            "posts": sum(1 for p in posts if not p.deleted_at),
            "followers": len(by_collection.get("followers", [])),
            "following": len(by_collection.get("following", [])),
        }
        for topic, keys, noun in _PROFILE_KEYS:
            key = next((k for k in keys if isinstance(metrics.get(k), int)), None)
            if key is None:
                continue
            count = int(metrics[key])
            report.findings.append(
                Finding(
                    topic,
                    f"{when} counts {plural(count, noun)}; the archive holds {held[topic]:,}.",
                    gap=topic == "posts" and held[topic] < count,
                )
            )
    if not live:
        report.findings.append(
            Finding(
                "capture",
                f"The account has only been imported from files, never captured from {name}:"
                " replies and mentions from the public, and followers, come from a capture"
                " (`archiver backup`).",
                gap=True,
            )
        )
    mentions = by_collection.get("mentions", [])
    if mentions:
        oldest = min((i.latest.get("created_at") or "" for i in mentions), default="")
        report.findings.append(
            Finding(
                "mentions",
                f"The archive holds {plural(len(mentions), 'mention')} (replies and posts from"
                f" the public naming the account), the oldest from {_day(oldest)}.",
            )
        )
    for m in live[-1:]:
        for warning in m.warnings:
            report.findings.append(Finding("capture", f"In the latest capture: {warning}", True))
    _deletions(report, posts, mentions, name)


def _held(
    report: Reconciliation, by_collection: dict[str, list[Item]], posts: list[Item], sources: Any
) -> None:
    """One count per collection and source: the figures every later line uses."""
    parts = []
    for collection, noun in _NOUNS:
        items = posts if collection == "tweets" else by_collection.get(collection, [])
        if items:
            parts.append(f"{plural(len(items), noun)} ({_by_source(items, sources)})")
    report.findings.append(
        Finding(
            "held",
            "The archive holds (each item once, whatever its versions or captures): "
            + ("; ".join(parts) if parts else "nothing yet")
            + ".",
        )
    )


def _profile_counts(api_runs: list[Manifest]) -> tuple[dict[str, Any], Manifest | None]:
    for m in reversed(api_runs):
        metrics = m.details.get("profile_metrics")
        if metrics:
            return metrics, m
    return {}, None


def _profile(
    report: Reconciliation,
    posts: list[Item],
    by_collection: dict[str, list[Item]],
    api_runs: list[Manifest],
) -> None:
    """The profile's own counts (posts, followers, following, likes) against the archive."""
    metrics, run = _profile_counts(api_runs)
    if run is None:
        report.findings.append(
            Finding(
                "profile",
                "No capture through the X API has read the profile's counts yet, so the"
                " archive cannot be compared with them.",
            )
        )
        return
    when = f"The profile (read {_day(run.started_at)})"
    live = sum(1 for p in posts if not p.deleted_at)
    if "tweet_count" in metrics:
        count = int(metrics["tweet_count"])
        report.findings.append(
            Finding(
                "posts",
                f"{when} counts {plural(count, 'post')}; the archive holds {live:,} of them"
                " still on X.",
            )
        )
        if live < count:
            report.findings.append(
                Finding(
                    "posts",
                    f"{plural(count - live, 'post')} on the profile are not in the archive: the"
                    f" X API serves only the newest {POST_WINDOW:,}; import the account's"
                    " official archive ZIP (Settings > Your account > Download an archive of"
                    " your data) to fill the gap.",
                    gap=True,
                )
            )
    for key, collection, noun in (
        ("followers_count", "followers", "follower"),
        ("following_count", "following", "followed account"),
        ("like_count", "likes", "like"),
    ):
        if key not in metrics:
            continue
        count, held = int(metrics[key]), len(by_collection.get(collection, []))
        text = f"{when} counts {plural(count, noun)}; the archive holds {held:,}"
        seen = (run.details.get("seen") or {}).get(collection)
        if seen is not None and collection in run.details.get("complete", ()):
            text += f" (that capture listed {seen:,})"
        report.findings.append(Finding(collection, text + "."))


def _archives(
    report: Reconciliation, posts: list[Item], manifests: list[Manifest], sources: Any
) -> None:
    """Each archive ZIP, dated by its own generation date (not the day it was imported)."""
    for m in manifests:
        if m.source != ZIP:
            continue
        expected = m.details.get("expected") or {}
        listed = expected.get("tweets", expected.get("tweet"))
        generated = m.details.get("generated_at")
        name = (
            f"The archive ZIP generated on {_day(generated)}"
            if generated
            else f"The archive ZIP imported on {_day(m.committed_at)} (it states no"
            " generation date)"
        )
        from_it = [p for p in posts if m.run_id in p.runs]
        alone = [p for p in from_it if sources(p) <= {ZIP}]
        text = name + (
            f" lists {plural(int(listed), 'post')}" if listed is not None else " has no post count"
        )
        deleted = expected.get("deletedTweets")
        if deleted:
            text += f" and {plural(int(deleted), 'deleted post')}"
        text += f"; {len(from_it):,} of the archive's posts came from it"
        if from_it:
            text += f", {len(alone):,} of them from archive ZIPs alone"
            if alone:
                newest = max((p.latest.get("created_at") or "") for p in alone)
                if newest[:4].isdigit():
                    text += f", the newest of those from {_day(newest)}"
        text += "."
        if listed is not None and len(from_it) != int(listed) + int(deleted or 0):
            text += " The archive counts an edited post once, however many versions it lists."
        report.findings.append(Finding("archive", text))
        for gap in m.gaps:
            report.findings.append(Finding("archive", f"{name} is incomplete: {gap}.", gap=True))


def _mentions(report: Reconciliation, mentions: list[Item], api_runs: list[Manifest]) -> None:
    first = next((m for m in api_runs if "mentions" in m.details.get("complete", ())), None)
    if first is None and mentions:
        oldest = min((i.latest.get("created_at") or "" for i in mentions), default="")
        report.findings.append(
            Finding(
                "mentions",
                f"The archive holds {plural(len(mentions), 'mention')} (replies and posts from"
                f" the public naming the account) from imported files, the oldest from"
                f" {_day(oldest)}, but none captured through the X API, the only source that"
                " keeps them current; archive ZIPs do not include them.",
                gap=True,
            )
        )
        return
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
            lost_to = _day(after - limit)
            report.findings.append(
                Finding(
                    "dms",
                    f"No DM capture between {_day(before)} and "
                    f"{_day(after)}: DMs sent from {_day(before)} to "
                    f"{lost_to} are only recoverable from an archive ZIP; run the backup daily.",
                    gap=True,
                )
            )


def _deletions(
    report: Reconciliation, posts: list[Item], mentions: list[Item], platform: str = "X"
) -> None:
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
                f"{' and '.join(parts)} {verb} deleted on {platform} after capture; the archive "
                "keeps "
                f"{'it' if verb == 'was' else 'them'}, marked deleted.",
            )
        )
