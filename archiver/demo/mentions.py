"""The public's replies to the demo force, as twarc2 saves `GET /2/users/:id/mentions`: one
API v2 page per line (`data`, `includes`, `meta`, plus twarc's `__twarc` provenance), newest
first, 100 posts a page.

The official archive holds only the account's own posts; replies from the public reach the
archive through the API, so this file is what gives the demo its conversations. It is built
from the same world as the ZIP (same seed, same sizes), so every reply points at a real post
in the archive.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from archiver.demo.clock import iso_s
from archiver.demo.county import FORCE
from archiver.demo.packing import check_target, replaced_when_done
from archiver.demo.people import Person
from archiver.demo.text import Named, Text, x_escape
from archiver.demo.timeline import DemoWorld, Tweet

TWARC_VERSION = "2.14.0"
PAGE_SIZE = 100
_QUERY = {
    "expansions": "author_id,in_reply_to_user_id,referenced_tweets.id,"
    "referenced_tweets.id.author_id,entities.mentions.username,attachments.media_keys,"
    "edit_history_tweet_ids",
    "tweet.fields": "attachments,author_id,conversation_id,created_at,edit_controls,"
    "edit_history_tweet_ids,entities,in_reply_to_user_id,lang,note_tweet,public_metrics,"
    "referenced_tweets,reply_settings,source",
    "user.fields": "created_at,description,id,location,name,profile_image_url,protected,"
    "public_metrics,url,username,verified,verified_type",
    "max_results": str(PAGE_SIZE),
}
_DEFAULT_AVATAR = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"


@dataclass(frozen=True)
class MentionsSummary:
    path: Path
    pages: int
    mentions: int  # posts in the pages' data
    replies: int  # of which reply to one of the force's posts
    users: int  # distinct authors

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def _entities(text: Text) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if text.mentions:
        out["mentions"] = [
            {"start": s.start, "end": s.end, "username": who.username, "id": who.id}
            for who, s in text.mentions
        ]
    if text.hashtags:
        out["hashtags"] = [{"start": s.start, "end": s.end, "tag": tag} for tag, s in text.hashtags]
    if text.links:
        out["urls"] = [
            {
                "start": s.start,
                "end": s.end,
                "url": link.url,
                "expanded_url": link.expanded,
                "display_url": link.display,
            }
            for link, s in text.links
        ]
    return out


def v2_tweet(tweet: Tweet) -> dict[str, Any]:
    """A post as API v2 serves it with the fields twarc asks for."""
    out: dict[str, Any] = {
        "edit_history_tweet_ids": [str(i) for i in tweet.chain],
        "id": str(tweet.id),
        "text": x_escape(tweet.text.value),
        "author_id": tweet.author.id,
        "created_at": iso_s(tweet.created),
        "conversation_id": str(tweet.conversation_id or tweet.id),
    }
    if tweet.reply_to:
        out["in_reply_to_user_id"] = tweet.reply_to.author.id
    refs = []
    if tweet.reply_to:
        refs.append({"type": "replied_to", "id": str(tweet.reply_to.id)})
    if tweet.quoted:
        refs.append({"type": "quoted", "id": str(tweet.quoted.id)})
    if refs:
        out["referenced_tweets"] = refs
    if entities := _entities(tweet.text):
        out["entities"] = entities
    if tweet.media:
        out["attachments"] = {"media_keys": [m.key for m in tweet.media]}
    if tweet.note:
        out["note_tweet"] = {"text": tweet.note.text.value, "entities": _entities(tweet.note.text)}
    out |= {
        "public_metrics": {
            "retweet_count": tweet.reposts,
            "reply_count": 0,
            "like_count": tweet.likes,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": tweet.likes * 37 + 12,
        },
        "lang": "en",
        "possibly_sensitive": False,
        "reply_settings": "everyone",
        "source": tweet.client,
        "edit_controls": {
            "edits_remaining": 6 - len(tweet.chain),
            "is_edit_eligible": tweet.kind != "reply",
            "editable_until": iso_s(tweet.created + dt.timedelta(hours=1)),
        },
    }
    return out


def v2_user(who: Named) -> dict[str, Any]:
    if isinstance(who, Person):
        return {
            "created_at": iso_s(who.created_at),
            "description": "",
            "id": who.id,
            "location": who.location,
            "name": who.name,
            "profile_image_url": _DEFAULT_AVATAR,
            "protected": False,
            "public_metrics": {
                "followers_count": who.followers,
                "following_count": who.following,
                "tweet_count": who.posts,
                "listed_count": 0,
            },
            "url": "",
            "username": who.username,
            "verified": False,
            "verified_type": "none",
        }
    return {
        "created_at": "2018-11-15T09:31:02.000Z",
        "description": f"Official account of {who.name}.",
        "id": who.id,
        "location": "Examplefordshire",
        "name": who.name,
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{who.id}/logo_normal.jpg",
        "protected": False,
        "public_metrics": {
            "followers_count": 48210,
            "following_count": 310,
            "tweet_count": 21544,
            "listed_count": 402,
        },
        "url": "",
        "username": who.username,
        "verified": True,
        "verified_type": "government",
    }


def _public_posts(world: DemoWorld) -> Iterator[Tweet]:
    for slot in world.newest_first():
        yield from reversed(slot.public)


def _pages(world: DemoWorld, page_size: int) -> Iterator[list[Tweet]]:
    page: list[Tweet] = []
    for tweet in _public_posts(world):
        page.append(tweet)
        if len(page) == page_size:
            yield page
            page = []
    if page:
        yield page


def _page(
    world: DemoWorld, tweets: list[Tweet], token: str | None, next_token: str | None
) -> dict[str, Any]:
    users: dict[str, dict[str, Any]] = {}
    included: dict[str, dict[str, Any]] = {}
    for tweet in tweets:
        users.setdefault(tweet.author.id, v2_user(tweet.author))
        for who, _ in tweet.text.mentions:
            users.setdefault(who.id, v2_user(who))
        if tweet.reply_to and tweet.reply_to.author.id == FORCE.id:
            included.setdefault(str(tweet.reply_to.id), v2_tweet(tweet.reply_to))
    meta: dict[str, Any] = {
        "result_count": len(tweets),
        "newest_id": str(tweets[0].id),
        "oldest_id": str(tweets[-1].id),
    }
    if next_token:
        meta["next_token"] = next_token
    query = dict(_QUERY, **({"pagination_token": token} if token else {}))
    return {
        "data": [v2_tweet(t) for t in tweets],
        "includes": {"users": list(users.values()), "tweets": list(included.values())},
        "meta": meta,
        "__twarc": {
            "url": f"https://api.twitter.com/2/users/{FORCE.id}/mentions?{urlencode(query)}",
            "version": TWARC_VERSION,
            "retrieved_at": world.generated_at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        },
    }


def _token(rng: random.Random) -> str:
    """A pagination token shaped like X's (45 lowercase letters and digits)."""
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=45))


def write_demo_mentions_jsonl(
    path: str | os.PathLike[str],
    *,
    posts: int = 3000,
    seed: int = 7,
    start_year: int = 2019,
    years: int = 7,
    overwrite: bool = False,
) -> MentionsSummary:
    """Write the public's replies to the demo force as twarc2 JSONL (one API page a line).
    Give the same arguments as to `write_demo_archive` so the replies point at its posts."""
    world = DemoWorld(posts=posts, seed=seed, start_year=start_year, years=years)
    target = Path(path)
    check_target(target, overwrite, "JSONL file")
    tokens = random.Random(f"{seed}:next-tokens")
    pages = mentions = replies = 0
    authors: set[str] = set()
    with replaced_when_done(target) as partial, partial.open("w", encoding="utf-8") as fh:
        token = None
        ahead = _pages(world, PAGE_SIZE)
        page = next(ahead, None)
        while page is not None:
            following = next(ahead, None)
            next_token = _token(tokens) if following else None
            fh.write(json.dumps(_page(world, page, token, next_token)) + "\n")
            pages, mentions = pages + 1, mentions + len(page)
            replies += sum(1 for t in page if t.reply_to and t.reply_to.author.id == FORCE.id)
            authors.update(t.author.id for t in page)
            page, token = following, next_token
    return MentionsSummary(target, pages, mentions, replies, len(authors))
