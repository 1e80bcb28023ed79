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

from archiver.archive import AccountRef, Archive
from archiver.audit import AuditLog
from archiver.exports.listing import SafeCsvWriter
from archiver.spoofs import OwnAccount, find_imitation
from archiver.timestamps import day_start, isoformat, utcnow
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


@dataclass
class Review:
    account: AccountRef
    since: str | None  # changes after this moment (the last completed review, or --since)
    last_review: dict[str, Any] | None
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
            "last_review": self.last_review,
        }

    def sections(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        yield "gained", self.gained
        yield "lost", self.lost
        yield "serial_followers", self.serial_followers
        yield "possible_spoofs", self.possible_spoofs
        yield "not_following_back", self.not_following_back
        yield "not_followed_back", self.not_followed_back

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
            return {"by": event.user, "at": event.at}
    return None


def own_accounts(archive: Archive) -> list[OwnAccount]:
    """The body's accounts (archived and configured) with their display names."""
    out: dict[str, OwnAccount] = {}
    for ref in archive.accounts():
        name = None
        view = merge_runs(archive.store, list_runs(archive.store, ref.account_id))
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


def review(
    archive: Archive,
    account: AccountRef,
    *,
    since: dt.date | None = None,
    zone: str | None = None,
) -> Review:
    """The review of one account: since `since` (a day in ui.timezone) or, by default, since
    the last completed review."""
    previous = last_review(archive, account)
    start = (
        isoformat(day_start(since, zone or archive.config.ui.timezone), "microseconds")
        if since
        else (previous or {}).get("at")
    )
    manifests = list_runs(archive.store, account.account_id)
    view = merge_runs(archive.store, manifests)
    members: dict[str, dict[str, Item]] = {"followers": {}, "following": {}}
    for (collection, key), item in view.items():
        if collection in members:
            members[collection][key] = item
    events = _events(archive, manifests)
    latest: dict[tuple[str, str], bool] = {}
    for e in events:  # the latest-dated event of a member says whether they are current
        collection, gained = _MEMBERSHIP_EVENTS[str(e["type"])]
        latest[(collection, str(e.get("user_id")))] = gained
    current = {
        c: {uid: it for uid, it in items.items() if latest.get((c, uid), True)}
        for c, items in members.items()
    }
    out = Review(account, start, previous)
    out.followers = [user_of(it, uid) for uid, it in sorted(current["followers"].items())]
    out.following = [user_of(it, uid) for uid, it in sorted(current["following"].items())]
    for e in events:
        if start and str(e.get("at") or "") <= start:
            continue
        collection, gained = _MEMBERSHIP_EVENTS[str(e["type"])]
        if collection != "followers":
            continue
        uid = str(e.get("user_id"))
        user = user_of(members["followers"].get(uid), uid, e.get("username"))
        if gained:
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
    ours = own_accounts(archive)
    seen: set[str] = set()
    candidates = [(u, "follower") for u in out.followers] + [
        (user_of(it, str((it.latest.get("author") or {}).get("id") or "")), _role(it))
        for (collection, _), it in view.items()
        if collection == "mentions"
    ]
    for user, role in candidates:
        if not user["id"] or user["id"] in seen:
            continue
        found = find_imitation(user["username"], user["name"], ours, user_id=user["id"])
        if found:
            seen.add(user["id"])
            out.possible_spoofs.append(
                {**user, "imitates": found.imitates, "why": list(found.why), "seen_as": role}
            )
    follower_ids = set(current["followers"])
    following_ids = set(current["following"])
    out.not_following_back = [u for u in out.following if u["id"] not in follower_ids]
    out.not_followed_back = [u for u in out.followers if u["id"] not in following_ids]
    return out


def _role(item: Item) -> str:
    return "replier" if item.latest.get("in_reply_to_id") else "mentioner"


def mark_done(archive: Archive, account: AccountRef, user: str) -> dict[str, Any]:
    """Record a completed review (who, when); the next review starts from it."""
    event = AuditLog(archive.store).record(
        user,
        REVIEW_ACTION,
        account=account.username,
        account_id=account.account_id,
        through=isoformat(utcnow(), "microseconds"),
    )
    return {"by": event.user, "at": event.at}
