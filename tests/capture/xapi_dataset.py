"""The X API double's world: seeded fake accounts with posts, mentions, likes, followers, DMs
and lists, stored as full v2 objects (the double projects the requested fields), plus the
changes tests make between runs (new posts, edits, deletions, followers lost)."""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Any

TWITTER_EPOCH_MS = 1288834974657
POLICE = "ExampleshirePolice"  # the account most tests back up
DAY = 86400.0


class Clock:
    """Real time, or a fake one tests share with the client so no one really waits."""

    def __init__(self, start: float | None = None) -> None:
        self.fake = start is not None
        self._now = start or 0.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self._now if self.fake else time.time()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.fake:
            self._now += max(seconds, 0.0)
        else:
            time.sleep(max(seconds, 0.0))


def snowflake(ts: float, seq: int) -> str:
    """An X id: milliseconds since the Twitter epoch in the high bits, so ids sort by time."""
    return str(((int(ts * 1000) - TWITTER_EPOCH_MS) << 22) | (seq & 0x3FFFFF))


def iso_ms(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Credentials:
    """What the double accepts for one account (never real secrets)."""

    bearer: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    oauth2_token: str


@dataclass
class Account:
    user: dict[str, Any]
    creds: Credentials
    timeline: list[str] = field(default_factory=list)  # own posts, newest first
    mentions: list[str] = field(default_factory=list)
    likes: list[str] = field(default_factory=list)  # newest like first
    bookmarks: list[str] = field(default_factory=list)
    followers: list[str] = field(default_factory=list)  # user ids, newest first
    following: list[str] = field(default_factory=list)
    dms: list[dict[str, Any]] = field(default_factory=list)  # newest first
    lists: list[dict[str, Any]] = field(default_factory=list)
    members: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.user["id"]


class World:
    """Everything the double serves. Deterministic for a seed."""

    def __init__(self, clock: Clock, seed: int = 7) -> None:
        self.clock = clock
        self.rng = random.Random(seed)
        self.users: dict[str, dict[str, Any]] = {}
        self.by_username: dict[str, str] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, Account] = {}
        # where media URLs point: the double serves the bytes itself (set when it starts)
        self.media_base = "https://pbs.twimg.com"
        self._seq = 0
        self.public = [self.new_user(f"citizen{i}", f"Citizen {i}") for i in range(1, 1501)]

    # -- objects -----------------------------------------------------------------------------
    def _next_id(self, ts: float) -> str:
        self._seq += 1
        return snowflake(ts, self._seq)

    def new_user(self, username: str, name: str, ts: float | None = None) -> str:
        ts = ts if ts is not None else self.clock.time() - 3000 * DAY
        uid = self._next_id(ts)
        self.users[uid] = {
            "id": uid,
            "username": username,
            "name": name,
            "created_at": iso_ms(ts),
            "description": f'<b>{name}</b> & friends; =HYPERLINK("http://x")',
            "protected": False,
            "verified": False,
            "public_metrics": {"followers_count": 10, "following_count": 5, "tweet_count": 0},
        }
        self.by_username[username.lower()] = uid
        return uid

    def new_tweet(
        self,
        author_id: str,
        ts: float,
        text: str,
        *,
        refs: list[tuple[str, str]] = (),  # type: ignore[assignment]
        media: bool = False,
        note: bool = False,
    ) -> str:
        tid = self._next_id(ts)
        tweet: dict[str, Any] = {
            "id": tid,
            "text": text,
            "edit_history_tweet_ids": [tid],
            "author_id": author_id,
            "created_at": iso_ms(ts),
            "conversation_id": tid,
            "lang": "en",
            "public_metrics": {
                "retweet_count": self.rng.randint(0, 20),
                "reply_count": self.rng.randint(0, 5),
                "like_count": self.rng.randint(0, 99),
                "quote_count": 0,
            },
            "edit_controls": {
                "edits_remaining": 5,
                "is_edit_eligible": True,
                "editable_until": iso_ms(ts + 3600),
            },
            "reply_settings": "everyone",
            "possibly_sensitive": False,
        }
        mentioned = [m[1:] for m in text.split() if m.startswith("@")]
        if mentioned:
            tweet["entities"] = {
                "mentions": [
                    {
                        "start": text.index("@" + m),
                        "end": text.index("@" + m) + len(m) + 1,
                        "username": m,
                        "id": self.by_username.get(m.lower(), "0"),
                    }
                    for m in mentioned
                ]
            }
        if refs:
            tweet["referenced_tweets"] = [{"type": t, "id": i} for t, i in refs]
            for kind, ref_id in refs:
                target = self.tweets.get(ref_id)
                if kind == "replied_to" and target:
                    tweet["in_reply_to_user_id"] = target["author_id"]
                    tweet["conversation_id"] = target["conversation_id"]
        if media:
            key = f"3_{tid}"
            self.media[key] = {
                "media_key": key,
                "type": "photo",
                "url": f"{self.media_base}/media/{tid}.jpg",
                "width": 1200,
                "height": 675,
                "alt_text": "A police car outside the station",
            }
            tweet["attachments"] = {"media_keys": [key]}
        if note:
            tweet["note_tweet"] = {"text": text + " " + "and more. " * 40}
        self.tweets[tid] = tweet
        return tid

    # -- accounts ----------------------------------------------------------------------------
    def add_account(
        self,
        username: str,
        *,
        posts: int = 50,
        mentions: int = 20,
        likes: int = 15,
        bookmarks: int = 3,
        followers: int = 30,
        following: int = 10,
        dms: int = 12,
        lists: int = 1,
        members: int = 5,
        spacing: float = 3600.0,
    ) -> Account:
        """An account with its history: newest items an hour old, older ones `spacing` apart."""
        now = self.clock.time()
        n = len(self.accounts) + 1
        uid = self.new_user(username, f"{username} (official)", now - 4000 * DAY)
        creds = Credentials(
            *(
                f"{kind}-{username.lower()}"
                for kind in ("bearer", "ck", "cs", f"{uid}-at", "ats", "oauth2")
            )
        )
        acc = Account(self.users[uid], creds)
        self.accounts[uid] = acc
        pool = self.rng.sample(self.public, k=min(len(self.public), 1200))
        others = [
            self.new_tweet(
                self.rng.choice(pool),
                now - (i + 1) * spacing * 0.7,
                f"Public post {i} about road safety",
            )
            for i in range(60)
        ]
        gone = {self._next_id(now - 99 * DAY) for _ in range(2)}  # referenced, since deleted
        start = now - 3600 - posts * spacing
        for i in range(posts):
            acc.timeline.append(self._own_post(acc, start + i * spacing, i, others, gone))
        acc.timeline.reverse()
        mstart = now - 3600 - mentions * spacing
        for i in range(mentions):
            reply_to = acc.timeline[self.rng.randrange(len(acc.timeline))] if acc.timeline else None
            refs = [("replied_to", reply_to)] if reply_to and i % 2 else []
            acc.mentions.append(
                self.new_tweet(
                    pool[i % len(pool)],
                    mstart + i * spacing,
                    f"@{username} report {i}: <script>alert(1)</script> =cmd|' /C calc'!A0",
                    refs=refs,
                )
            )
        acc.mentions.reverse()
        acc.likes = list(reversed(others[:likes])) if likes <= len(others) else others
        acc.bookmarks = others[likes : likes + bookmarks]
        acc.followers = pool[:followers]
        acc.following = pool[followers : followers + following]
        for i in range(dms):
            # half inside the API's 30 days, half older (only an archive ZIP has those)
            ts = now - 3600 - i * (60 * DAY / max(dms, 1))
            acc.dms.append(self._dm(acc, pool[i % 7], ts, f"DM {i} from the public"))
        for j in range(lists):
            lid = self._next_id(now - 500 * DAY - j)
            acc.lists.append(
                {
                    "id": lid,
                    "name": f"{username} partners {j}",
                    "description": "Local partners",
                    "created_at": iso_ms(now - 500 * DAY),
                    "owner_id": uid,
                    "private": False,
                    "member_count": members,
                    "follower_count": 2,
                }
            )
            acc.members[lid] = pool[-members - j :][:members] if members else []
        acc.user["public_metrics"] = {
            "followers_count": followers,
            "following_count": following,
            "tweet_count": posts,
            "listed_count": 1,
        }
        acc.user["description"] = f"Official account of {username}. Not monitored 24/7 #{n}"
        return acc

    def _own_post(self, acc: Account, ts: float, i: int, others: list[str], gone: set[str]) -> str:
        roll = i % 20
        if roll in (1, 2, 3):
            refs = [("replied_to", others[i % len(others)])]
            return self.new_tweet(
                acc.id,
                ts,
                f"@{self._author_name(others[i % len(others)])} thanks, reply {i}",
                refs=refs,
            )
        if roll in (4, 5):
            target = sorted(gone)[i % 2] if i % 40 == 4 else others[(i * 7) % len(others)]
            return self.new_tweet(acc.id, ts, f"RT post {i}", refs=[("retweeted", target)])
        if roll == 6:
            return self.new_tweet(
                acc.id,
                ts,
                f"Quote {i}: read this",
                refs=[("quoted", others[(i * 3) % len(others)])],
            )
        return self.new_tweet(
            acc.id,
            ts,
            f"Appeal {i}: have you seen this bike? #appeal",
            media=roll == 7,
            note=roll == 8,
        )

    def _author_name(self, tweet_id: str) -> str:
        return self.users[self.tweets[tweet_id]["author_id"]]["username"]

    def _dm(self, acc: Account, other: str, ts: float, text: str) -> dict[str, Any]:
        low, high = sorted((acc.id, other), key=int)
        return {
            "id": self._next_id(ts),
            "event_type": "MessageCreate",
            "text": text,
            "created_at": iso_ms(ts),
            "sender_id": other,
            "dm_conversation_id": f"{low}-{high}",
            "_ts": ts,
        }

    # -- media -------------------------------------------------------------------------------
    def attach_video(self, tweet_id: str, bitrates: tuple[int, ...] = (256000, 832000, 2176000)):
        """Give a post a video: MP4 variants at several bitrates, an HLS playlist, a preview."""
        key = f"7_{tweet_id}"
        base = f"{self.media_base}/video/{tweet_id}"
        variants: list[dict[str, Any]] = [
            {"bit_rate": rate, "content_type": "video/mp4", "url": f"{base}/{rate}.mp4"}
            for rate in bitrates
        ]
        variants.append({"content_type": "application/x-mpegURL", "url": f"{base}/pl.m3u8"})
        self.media[key] = {
            "media_key": key,
            "type": "video",
            "preview_image_url": f"{self.media_base}/media/{tweet_id}_preview.jpg",
            "variants": variants,
            "duration_ms": 12000,
        }
        tweet = self.tweets[tweet_id]
        keys = (tweet.get("attachments") or {}).get("media_keys") or []
        tweet["attachments"] = {"media_keys": [*keys, key]}
        return key

    def attach_dm_photo(self, event: dict[str, Any]) -> str:
        """A photo in a DM: served from the DM media host, only with the user's token."""
        key = f"3_dm{event['id']}"
        self.media[key] = {
            "media_key": key,
            "type": "photo",
            "url": f"{self.media_base}/dm/{event['id']}/photo.jpg",
        }
        event["attachments"] = {"media_keys": [key]}
        return key

    def photo_urls(self, acc: Account) -> list[str]:
        return [
            self.media[k]["url"]
            for tid in acc.timeline
            for k in (self.tweets[tid].get("attachments") or {}).get("media_keys", [])
            if self.media[k].get("url")
        ]

    # -- changes between runs ----------------------------------------------------------------
    def post(self, acc: Account, text: str) -> str:
        tid = self.new_tweet(acc.id, self.clock.time() - 1, text)
        acc.timeline.insert(0, tid)
        acc.user["public_metrics"]["tweet_count"] += 1
        return tid

    def mention(self, acc: Account, text: str) -> str:
        tid = self.new_tweet(
            self.public[3], self.clock.time() - 1, f"@{acc.user['username']} " + text
        )
        acc.mentions.insert(0, tid)
        return tid

    def dm(self, acc: Account, text: str) -> dict[str, Any]:
        event = self._dm(acc, self.public[5], self.clock.time() - 1, text)
        acc.dms.insert(0, event)
        return event

    def edit(self, acc: Account, tweet_id: str, text: str) -> str:
        """A new version: a new id at the top of the timeline, both sharing the edit chain."""
        old = self.tweets[tweet_id]
        new_id = self._next_id(self.clock.time() - 1)
        chain = old["edit_history_tweet_ids"] + [new_id]
        self.tweets[new_id] = {
            **old,
            "id": new_id,
            "text": text,
            "created_at": iso_ms(self.clock.time() - 1),
        }
        for version in chain:
            if version in self.tweets:
                self.tweets[version]["edit_history_tweet_ids"] = list(chain)
        acc.timeline.remove(tweet_id)
        acc.timeline.insert(0, new_id)
        return new_id

    def delete(self, acc: Account, tweet_id: str) -> None:
        if tweet_id in acc.timeline:
            acc.user["public_metrics"]["tweet_count"] -= 1
        for ids in (acc.timeline, acc.mentions):
            if tweet_id in ids:
                ids.remove(tweet_id)
        self.tweets.pop(tweet_id, None)

    def unfollow(self, acc: Account, user_id: str) -> None:
        acc.followers.remove(user_id)

    def follow(self, acc: Account, user_id: str) -> None:
        acc.followers.insert(0, user_id)
