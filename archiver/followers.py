"""The periodic follower review the force's social media policy asks for: who follows each
account and whom it follows, what changed since the last completed review, serial followers,
possible squatters or spoofers imitating our accounts, and who does not follow back.

Followers and following come from the current view; gains and losses from the membership
events the captures and imports write (`follower_gained`, `follower_lost`, `following_...`,
each dated by the snapshot it describes), so a follower lost stays known with when they were
last seen. A review is marked done in the audit log (`follower_review`, who and when); the
next review starts from it. The JSON shape (`Review.to_dict`) is a contract for scripts.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from archiver import memberships
from archiver.archive import AccountRef, Archive
from archiver.audit import AuditLog
from archiver.errors import ArchiverError
from archiver.exports.listing import SafeCsvWriter
from archiver.spoofs import OwnAccount, find_imitation
from archiver.timestamps import day_start, isoformat, parse_time, utcnow
from storage.accountids import account_platform, native_id
from storage.runs import Manifest, iter_records, list_runs
from storage.view import EVENTS, Item, merge_runs

REVIEW_ACTION = "follower_review"
SERIAL_RATIO = 10  # following at least ten times as many accounts as follow them
_MEMBERSHIP_EVENTS = {
    "follower_gained": ("followers", True),
    "follower_lost": ("followers", False),
    "following_gained": ("following", True),
    "following_lost": ("following", False),
}
CSV_COLUMNS = (
    "section",
    "id",
    "username",
    "name",
    "followers_count",
    "following_count",
    "imitates",
    "why",
    "last_seen",
)


# the review's lists of people, in the order the report, the CSV and the page show them
SECTIONS = (
    "gained",
    "lost",
    "serial_followers",
    "possible_spoofs",
    "not_following_back",
    "not_followed_back",
)


@dataclass
class Review:
    account: AccountRef
    since: str | None  # changes after this moment (the last completed review, or --since)
    last_review: dict[str, Any] | None
    until: dict[str, Any] | None = None  # the follower list reviewed: {run, at, source}
    from_run: str | None = None
    to_run: str | None = None
    followers: list[dict[str, Any]] = field(default_factory=list)
    following: list[dict[str, Any]] = field(default_factory=list)
    gained: list[dict[str, Any]] = field(default_factory=list)
    lost: list[dict[str, Any]] = field(default_factory=list)
    serial_followers: list[dict[str, Any]] = field(default_factory=list)
    possible_spoofs: list[dict[str, Any]] = field(default_factory=list)
    not_following_back: list[dict[str, Any]] = field(default_factory=list)
    not_followed_back: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account.username,
            "platform": account_platform(self.account.account_id),
            "followers": len(self.followers),
            "following": len(self.following),
            "gained": self.gained,
            "lost": self.lost,
            "serial_followers": self.serial_followers,
            "possible_spoofs": self.possible_spoofs,
            "not_following_back": self.not_following_back,
            "not_followed_back": self.not_followed_back,
            "since": self.since,
            "until": self.until,
            "last_review": self.last_review,
        }

    def sections(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        for name in SECTIONS:
            yield name, getattr(self, name)

    def csv(self) -> str:
        """One row per person per section, for the communications team's spreadsheet."""
        buf = io.StringIO(newline="")
        writer = SafeCsvWriter(buf, CSV_COLUMNS)
        for section, users in self.sections():
            for u in users:
                writer.row(
                    [
                        section,
                        u.get("id"),
                        u.get("username"),
                        u.get("name"),
                        u.get("followers_count"),
                        u.get("following_count"),
                        u.get("imitates"),
                        "; ".join(u.get("why") or ()),
                        u.get("last_seen"),
                    ]
                )
        return buf.getvalue()


def user_of(item: Item | None, user_id: str, username: str | None = None) -> dict[str, Any]:
    """{id, username, name, followers_count, following_count}: null where no source said."""
    latest = item.latest if item is not None else {}
    author = latest.get("author") or {}
    metrics = latest.get("metrics") or {}
    return {
        "id": str(author.get("id") or user_id),
        "username": author.get("username") or username or None,
        "name": author.get("name"),
        "followers_count": metrics.get("followers_count"),
        "following_count": metrics.get("following_count"),
    }


def _events(archive: Archive, manifests: Iterable[Manifest]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in manifests:
        if m.collection(EVENTS) is not None:
            records = iter_records(archive.store, m, EVENTS)
            out.extend(r for r in records if r.get("type") in _MEMBERSHIP_EVENTS)
    return sorted(out, key=lambda e: str(e.get("at") or ""))


def last_review(archive: Archive, account: AccountRef) -> dict[str, Any] | None:
    """The newest completed review of this account: who and when (from the audit log)."""
    for event in AuditLog(archive.store).events(action=REVIEW_ACTION, limit=1000):
        if event.detail.get("account_id") == account.account_id:
            return {"by": event.user, "at": event.at, "snapshot": event.detail.get("snapshot")}
    return None


def own_accounts(archive: Archive, known: dict[str, Any] | None = None) -> list[OwnAccount]:
    """The body's accounts (archived and configured) with their display names; `known` holds
    views already merged (account id -> view), so the reviewed account is not read twice."""
    out: dict[str, OwnAccount] = {}
    for ref in archive.accounts():
        name = None
        view = (known or {}).get(ref.account_id) or merge_runs(
            archive.store, list_runs(archive.store, ref.account_id)
        )
        # X keys the profile by the account id; the others by the DID or acct it names
        profile = view.get(("profile", ref.account_id)) or view.get(
            ("profile", native_id(ref.account_id))
        )
        if profile is not None:
            name = (profile.latest.get("author") or {}).get("name")
        out[ref.username.lower()] = OwnAccount(ref.username, name, ref.account_id)
    for acc in archive.config.accounts:
        out.setdefault(acc.username.lower(), OwnAccount(acc.username))
    return list(out.values())


class ReviewError(ArchiverError):
    """A run asked for (--from-run, --to-run) that the review cannot compare."""


def _run(manifests: list[Manifest], run_id: str, option: str) -> Manifest:
    found = [m for m in manifests if m.run_id == run_id] or [
        m for m in manifests if m.run_id.startswith(run_id)
    ]
    if len(found) != 1:
        what = "no run" if not found else f"{len(found)} runs start with"
        raise ReviewError(f"{option} {run_id}: {what} of this account (archiver runs lists them)")
    return found[0]


def _moment(snap: memberships.Snapshot | None) -> dict[str, Any] | None:
    return {"run": snap.run_id, "at": snap.at, "source": snap.source} if snap else None


def review(
    archive: Archive,
    account: AccountRef,
    *,
    since: dt.date | None = None,
    zone: str | None = None,
    from_run: str | None = None,
    to_run: str | None = None,
) -> Review:
    """The review of one account. The lists are those of the newest snapshot (or of the
    snapshot as of `to_run`); the gains and losses are the changes between consecutive
    snapshots after the start: the snapshot of `from_run`, else the day `since` (in
    ui.timezone), else the snapshot the last completed review covered. Snapshots are ordered
    by when each list was true, whatever order they arrived in (archiver.memberships), so an
    archive ZIP imported late slots into place and API incremental runs count as lists."""
    previous = last_review(archive, account)
    manifests = list_runs(archive.store, account.account_id)
    view = merge_runs(archive.store, manifests)
    builder = memberships.build(archive.store, manifests)
    upto = _run(manifests, to_run, "--to-run") if to_run else None
    timelines = {
        c: memberships.timeline(archive.store, account.account_id, c, builder)
        for c in memberships.MEMBERSHIPS
    }
    ends = {c: memberships.as_of(builder, c, upto) for c in memberships.MEMBERSHIPS}
    if from_run:
        first = memberships.as_of(builder, "followers", _run(manifests, from_run, "--from-run"))
        if first is None:
            raise ReviewError(f"--from-run {from_run}: no follower list as of that run")
        start: str | None = first.at
    elif since:
        start = isoformat(day_start(since, zone or archive.config.ui.timezone), "microseconds")
    else:
        start = (previous or {}).get("snapshot") or (previous or {}).get("at")
    end = ends["followers"]
    if start and end and _when({"at": end.at}) < _when({"at": start}):
        raise ReviewError("--to-run's list is older than the start of the review (--from-run)")
    members: dict[str, dict[str, Item]] = {"followers": {}, "following": {}}
    authors: dict[str, dict[str, Any]] = {}
    for (collection, key), item in view.items():
        if collection in members:
            members[collection][key] = item
        elif collection == "mentions":
            author = item.latest.get("author") or {}
            if author.get("id"):
                authors.setdefault(str(author["id"]), author)

    def person(uid: str, username: str | None = None) -> dict[str, Any]:
        item = members["followers"].get(uid) or members["following"].get(uid)
        user = user_of(item, uid, username)
        known = authors.get(uid) or {}  # a name the public's posts gave, where the list gave none
        return {
            **user,
            "username": user["username"] or known.get("username"),
            "name": user["name"] or known.get("name"),
        }

    out = Review(account, start, previous)
    out.since = start
    out.until = _moment(end)
    out.from_run, out.to_run = from_run, to_run
    current: dict[str, set[str]] = {}
    changes: list[dict[str, Any]]
    if timelines["followers"].snapshots:  # the lists as the snapshots have them
        for c in memberships.MEMBERSHIPS:
            snap = ends[c]
            current[c] = set(snap.members) if snap else set()
        lo, hi = parse_time(start), parse_time(end.at if end else None)
        changes = [
            e
            for e in timelines["followers"].changes
            if (lo is None or _when(e) > lo) and (hi is None or _when(e) <= hi)
        ]
    else:  # runs from before snapshots were kept: the view, and the events the runs wrote
        events = _events(archive, manifests)
        latest: dict[tuple[str, str], bool] = {}
        for e in events:  # the latest-dated event of a member says whether they are current
            collection, gained = _MEMBERSHIP_EVENTS[str(e["type"])]
            latest[(collection, str(e.get("user_id")))] = gained
        for c, items in members.items():
            current[c] = {uid for uid in items if latest.get((c, uid), True)}
        changes = [
            e
            for e in events
            if _MEMBERSHIP_EVENTS[str(e["type"])][0] == "followers"
            and not (start and str(e.get("at") or "") <= start)
        ]
    if not timelines["following"].snapshots and timelines["followers"].snapshots:
        current["following"] = set(members["following"])
    out.followers = [person(uid) for uid in sorted(current["followers"], key=_id_order)]
    out.following = [person(uid) for uid in sorted(current["following"], key=_id_order)]
    for e in changes:
        uid = str(e.get("user_id"))
        user = person(uid, e.get("username") or None)
        if str(e["type"]).endswith("_gained"):
            out.gained.append({**user, "at": e.get("at")})
        else:
            out.lost.append({**user, "at": e.get("at"), "last_seen": e.get("last_seen")})
    threshold = archive.config.review.serial_following
    for user in out.followers:
        following, followers = user["following_count"], user["followers_count"]
        if (
            following is not None
            and following >= threshold
            and (not followers or following / followers >= SERIAL_RATIO)
        ):
            out.serial_followers.append(user)
    ours = tuple(own_accounts(archive, {account.account_id: view}))
    # each person once (a follower first, else as first seen among the public's posts)
    candidates: dict[str, tuple[dict[str, Any], str]] = {
        u["id"]: (u, "follower") for u in out.followers
    }
    for (collection, _), it in view.items():
        uid = str((it.latest.get("author") or {}).get("id") or "")
        if collection == "mentions" and uid and uid not in candidates:
            candidates[uid] = (person(uid), _role(it))
    for uid, (user, role) in candidates.items():
        found = find_imitation(user["username"], user["name"], ours, user_id=uid)
        if found:
            out.possible_spoofs.append(
                {**user, "imitates": found.imitates, "why": list(found.why), "seen_as": role}
            )
    out.not_following_back = [u for u in out.following if u["id"] not in current["followers"]]
    out.not_followed_back = [u for u in out.followers if u["id"] not in current["following"]]
    return out


def _when(event: dict[str, Any]) -> dt.datetime:
    return parse_time(event.get("at")) or dt.datetime.min.replace(tzinfo=dt.UTC)


def _id_order(uid: str) -> tuple[int, str]:
    return (int(uid) if uid.isdigit() else 0, uid)


def snapshots(archive: Archive, account: AccountRef) -> list[memberships.Snapshot]:
    """The follower lists the archive holds for the account, oldest first (what --from-run
    and --to-run choose between)."""
    manifests = list_runs(archive.store, account.account_id)
    return memberships.build(archive.store, manifests).ordered("followers")


def _role(item: Item) -> str:
    return "replier" if item.latest.get("in_reply_to_id") else "mentioner"


def mark_done(archive: Archive, account: AccountRef, user: str) -> dict[str, Any]:
    """Record a completed review (who, when); the next review starts from it."""
    lists = snapshots(archive, account)
    newest = lists[-1] if lists else None
    event = AuditLog(archive.store).record(
        user,
        REVIEW_ACTION,
        account=account.username,
        account_id=account.account_id,
        through=isoformat(utcnow(), "microseconds"),
        # the follower list the review saw: the next review starts from it, so a list that
        # arrives later but was true earlier is not counted again, and one true later is
        **({"snapshot": newest.at, "snapshot_run": newest.run_id} if newest else {}),
    )
    return {"by": event.user, "at": event.at, "snapshot": event.detail.get("snapshot")}
