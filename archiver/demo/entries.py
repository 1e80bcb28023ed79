"""The force's posts as the official archive writes them: tweets.js / deleted-tweets.js entries
(v1.1-style objects, numbers as strings, key order as in 2026 archives), tweet-headers.js and
note-tweet.js entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from archiver.demo.clock import iso_s, snowflake_time, x_time
from archiver.demo.county import FORCE
from archiver.demo.media import media_entity
from archiver.demo.text import Text, x_escape
from archiver.demo.timeline import Tweet

_CLIENT_URLS = {
    "Twitter Web App": "https://mobile.twitter.com",
    "TweetDeck Web App": "https://tweetdeck.twitter.com",
    "Twitter for iPhone": "http://twitter.com/download/iphone",
    "Twitter for Android": "http://twitter.com/download/android",
}


def source_html(client: str) -> str:
    return f'<a href="{_CLIENT_URLS[client]}" rel="nofollow">{client}</a>'


def _indices(start: int, end: int) -> list[str]:
    return [str(start), str(end)]


def _entities(text: Text) -> dict[str, Any]:
    return {
        "hashtags": [
            {"text": tag, "indices": _indices(s.start, s.end)} for tag, s in text.hashtags
        ],
        "symbols": [],
        "user_mentions": [
            {
                "name": who.name,
                "screen_name": who.username,
                "indices": _indices(s.start, s.end),
                "id_str": who.id,
                "id": who.id,
            }
            for who, s in text.mentions
        ],
        "urls": [
            {
                "url": link.url,
                "expanded_url": link.expanded,
                "display_url": link.display,
                "indices": _indices(s.start, s.end),
            }
            for link, s in text.links
        ],
    }


def edit_info(tweet: Tweet) -> dict[str, Any]:
    """`initial` on a post's first version, `edit` (pointing back at it) on later versions."""
    chain = tweet.chain
    eligible = tweet.kind in ("post", "quote")
    control = {
        "editTweetIds": [str(i) for i in chain],
        "editableUntil": iso_s(tweet.created + dt.timedelta(hours=1)),
        "editsRemaining": str(6 - len(chain)),
        "isEditEligible": eligible,
    }
    if chain[0] == tweet.id:
        return {"initial": control}
    # the edit window is the first version's: an hour from when it was posted
    control["editableUntil"] = iso_s(snowflake_time(chain[0]) + dt.timedelta(hours=1))
    return {"edit": {"initialTweetId": str(chain[0]), "editControlInitial": control}}


def tweet_entry(tweet: Tweet) -> dict[str, Any]:
    """{"tweet": {...}} for tweets.js, or for deleted-tweets.js when `deleted_at` is set."""
    tid = str(tweet.id)
    entities = _entities(tweet.text)
    media_items = []
    if tweet.media and tweet.media_link:
        link, span = tweet.media_link
        owner = tweet.retweeted.author.username if tweet.retweeted else FORCE.username
        media_items = [media_entity(m, link, span, owner, tid, extended=True) for m in tweet.media]
        first = media_entity(tweet.media[0], link, span, owner, tid, extended=False)
        entities = {
            "user_mentions": entities["user_mentions"],
            "urls": entities["urls"],
            "symbols": [],
            "media": [first],
            "hashtags": entities["hashtags"],
        }
    out: dict[str, Any] = {
        "edit_info": edit_info(tweet),
        "retweeted": False,
        "source": source_html(tweet.client),
        "entities": entities,
        "display_text_range": _indices(0, tweet.text.length),
        "favorite_count": str(tweet.likes),
    }
    reply = tweet.reply_to
    if reply:
        out["in_reply_to_status_id_str"] = str(reply.id)
    out["id_str"] = tid
    if reply:
        out["in_reply_to_user_id"] = reply.author.id
    out |= {"truncated": False, "retweet_count": str(tweet.reposts), "id": tid}
    if reply:
        out["in_reply_to_status_id"] = str(reply.id)
    if tweet.media or tweet.text.links:
        out["possibly_sensitive"] = False
    out |= {
        "created_at": x_time(tweet.created),
        "favorited": False,
        "full_text": x_escape(tweet.text.value),
        "lang": "en",
    }
    if reply:
        out["in_reply_to_screen_name"] = reply.author.username
        out["in_reply_to_user_id_str"] = reply.author.id
    if media_items:
        out["extended_entities"] = {"media": media_items}
    if tweet.deleted_at:
        out["deleted_at"] = x_time(tweet.deleted_at)
    return {"tweet": out}


def header_entry(tweet: Tweet) -> dict[str, Any]:
    header = {"tweet_id": str(tweet.id), "user_id": FORCE.id, "created_at": x_time(tweet.created)}
    if tweet.deleted_at:
        header["deleted_at"] = x_time(tweet.deleted_at)
    return {"tweet": header}


def note_entry(tweet: Tweet) -> dict[str, Any]:
    """note-tweet.js: the full text under the note's own id; no link to the tweet id other
    than the creation second and the text the tweet starts with."""
    assert tweet.note is not None
    text = tweet.note.text
    created = iso_s(tweet.created)
    return {
        "noteTweet": {
            "noteTweetId": str(tweet.note.id),
            "updatedAt": created,
            "lifecycle": {
                "value": "1",
                "name": "Active",
                "originalName": "Active",
                "annotations": {},
            },
            "createdAt": created,
            "core": {
                "styletags": [],
                "urls": [
                    {
                        "shortUrl": link.url,
                        "expandedUrl": link.expanded,
                        "displayUrl": link.display,
                        "fromIndex": str(s.start),
                        "toIndex": str(s.end),
                    }
                    for link, s in text.links
                ],
                "text": text.value,
                "mentions": [
                    {"screenName": who.username, "fromIndex": str(s.start), "toIndex": str(s.end)}
                    for who, s in text.mentions
                ],
                "cashtags": [],
                "hashtags": [
                    {"text": tag, "fromIndex": str(s.start), "toIndex": str(s.end)}
                    for tag, s in text.hashtags
                ],
            },
        }
    }


PROFILE_MEDIA = (
    "Ab3xQ9zKpL2mNv7R.jpg",
    "1500x500.jpg",
)  # avatar, header: profile_media/<id>-<name>
BIO = (
    "Official account of Examplefordshire Police. Not monitored 24/7: in an emergency call "
    "999, otherwise report online or call 101."
)


def account_created(start: dt.datetime) -> dt.datetime:
    """When the force's account was made: a while before its first demo post."""
    return start - dt.timedelta(days=412, hours=3, seconds=1517.381)


def profile_entry() -> dict[str, Any]:
    """profile.js's one entry (the same in every layout)."""
    avatar, header = PROFILE_MEDIA
    return {
        "profile": {
            "description": {
                "bio": BIO,
                "website": "https://t.co/Ex4mpleF0r",
                "location": "Examplefordshire",
            },
            "avatarMediaUrl": f"https://pbs.twimg.com/profile_images/{FORCE.id}/{avatar}",
            "headerMediaUrl": f"https://pbs.twimg.com/profile_banners/{FORCE.id}/{header}",
        }
    }
