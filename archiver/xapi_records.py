"""X API v2 objects -> archive records: pure functions over the documented v2 shapes.

Owns how a tweet (with its page's `includes`), a user, a DM event and a list become the
normalised record (storage.records). Shared by capture (source "x-api-v2") and the twarc2
importer (source "twarc"), so a post reads the same whichever tool fetched it.
`raw` is always the object exactly as served; the expansions it points at (author, media,
referenced posts) are resolved into the record's own fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypedDict
from urllib.parse import urlsplit

from archiver.errors import ArchiveFormatError
from archiver.parties import dm_participants, mentioned_ids, reply_to_user_id
from archiver.timestamps import iso, isoformat, utcnow
from storage.records import new_record

# route templates (the ids replaced by ":id") -> the record kind their `data` items become;
# None means "the account's own posts": post / reply / repost / quote from referenced_tweets
ENDPOINT_KINDS: dict[str, str | None] = {
    "/2/users/:id/tweets": None,
    "/2/users/:id/mentions": "mention",
    "/2/users/:id/liked_tweets": "like",
    "/2/users/:id/bookmarks": "bookmark",
    "/2/users/:id/followers": "follower",
    "/2/users/:id/following": "following",
    "/2/dm_events": "dm",
    "/2/dm_conversations/:id/dm_events": "dm",
    "/2/dm_conversations/with/:id/dm_events": "dm",
    "/2/users/:id/owned_lists": "list",
    "/2/users/:id/followed_lists": "list",
    "/2/users/:id/list_memberships": "list",
    "/2/lists/:id/members": "list_member",
    "/2/users/me": "profile",
    "/2/users/:id": "profile",
    "/2/users/by/username/:id": "profile",
    # look-ups and searches: the account's own posts by author, anyone else's are mentions
    "/2/tweets": None,
    "/2/tweets/:id": None,
    "/2/tweets/search/recent": None,
    "/2/tweets/search/all": None,
}

_API_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_USER_KINDS = ("follower", "following", "list_member", "profile")
_TWEET_KINDS = ("mention", "like", "bookmark")
# "me", "by", "with", "search"... are words of the route, not ids
_ROUTE_WORDS = {
    "2",
    "users",
    "me",
    "by",
    "username",
    "tweets",
    "mentions",
    "liked_tweets",
    "bookmarks",
    "followers",
    "following",
    "dm_events",
    "dm_conversations",
    "with",
    "owned_lists",
    "followed_lists",
    "list_memberships",
    "lists",
    "members",
    "search",
    "recent",
    "all",
}


class Provenance(TypedDict):
    """Where a page's records came from: the same fields on every record it gives."""

    account: str
    account_id: str
    source: str
    captured_at: str
    run_id: str | None


def parse_endpoint(endpoint: str) -> tuple[str, list[str]]:
    """('/2/lists/:id/members', ['123']) from a route, a path or a full URL with a query."""
    path = urlsplit(endpoint).path if "://" in endpoint else endpoint.split("?", 1)[0]
    parts = [p for p in path.strip("/").split("/") if p]
    ids = [p for p in parts if p not in _ROUTE_WORDS and p != ":id"]
    route = "/" + "/".join(p if p in _ROUTE_WORDS else ":id" for p in parts)
    return route, ids


# -- includes ----------------------------------------------------------------------------------
@dataclass
class Includes:
    """A page's `includes`, indexed once so each item resolves its expansions cheaply."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, page: dict[str, Any]) -> Includes:
        inc = page.get("includes") or {}
        # the 2026 spec says "posts" where the docs and tweepy say "tweets": accept both
        tweets = (inc.get("tweets") or []) + (inc.get("posts") or [])
        return cls(
            users={str(u["id"]): u for u in inc.get("users") or () if "id" in u},
            tweets={str(t["id"]): t for t in tweets if "id" in t},
            media={str(m["media_key"]): m for m in inc.get("media") or () if "media_key" in m},
        )


def user_ref(user: dict[str, Any] | None, user_id: str | None = None) -> dict[str, Any]:
    """{id, username, name} of a user object, or just the id when the user was not included."""
    if not user:
        return {"id": str(user_id)} if user_id else {}
    return {"id": str(user["id"]), "username": user.get("username"), "name": user.get("name")}


def iso_utc(value: str | None) -> str | None:
    """The API's '2022-10-03T17:57:11.000Z' in the archive's one ISO 8601 UTC form."""
    if value and _API_TIME.match(value):
        return value  # already that form (the common case: skip parsing thousands of them)
    try:
        return iso(value)
    except ValueError:
        return value  # keep what the source said rather than lose it


# -- tweets ------------------------------------------------------------------------------------
def own_post_kind(tweet: dict[str, Any]) -> str:
    """post / reply / repost / quote, from the tweet's referenced_tweets."""
    types = {ref.get("type") for ref in tweet.get("referenced_tweets") or ()}
    if "retweeted" in types:
        return "repost"
    if "replied_to" in types:
        return "reply"
    if "quoted" in types:
        return "quote"
    return "post"


def post_text(text: str | None) -> str | None:
    """A post's text as its author typed it. X serves (and archives) post text with `&`, `<`
    and `>` as HTML entities; records hold plain text, so every page escapes it exactly once.
    `raw` keeps the text as served."""
    if not text or "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _full_text(tweet: dict[str, Any]) -> str | None:
    # a long post's `text` is cut at 280 characters; note_tweet holds all of it
    note = tweet.get("note_tweet") or {}
    return post_text(note.get("text") or tweet.get("text"))


def _entities(obj: dict[str, Any]) -> dict[str, Any]:
    note = obj.get("note_tweet") or {}
    return note.get("entities") or obj.get("entities") or {}


def _hashtags(entities: dict[str, Any]) -> list[str]:
    return [h["tag"] for h in entities.get("hashtags") or () if h.get("tag")]


def _mentions(entities: dict[str, Any]) -> list[str]:
    return [m["username"] for m in entities.get("mentions") or () if m.get("username")]


def _urls(entities: dict[str, Any]) -> list[str]:
    return [u.get("expanded_url") or u["url"] for u in entities.get("urls") or () if u.get("url")]


def media_ref(key: str, media: dict[str, Any] | None) -> dict[str, Any]:
    """{key, type, url, preview_url, alt_text}: a photo's url, a video's best mp4 variant."""
    if not media:
        return {"key": key}
    url = media.get("url")
    if not url:
        mp4 = [v for v in media.get("variants") or () if v.get("content_type") == "video/mp4"]
        best = max(mp4, key=lambda v: v.get("bit_rate") or 0, default=None)
        url = best["url"] if best else media.get("preview_image_url")
    ref = {"key": key, "type": media.get("type"), "url": url}
    if media.get("preview_image_url"):
        ref["preview_url"] = media["preview_image_url"]
    if media.get("alt_text"):
        ref["alt_text"] = media["alt_text"]
    return ref


def _media(obj: dict[str, Any], inc: Includes) -> list[dict[str, Any]]:
    keys = (obj.get("attachments") or {}).get("media_keys") or ()
    return [media_ref(str(k), inc.media.get(str(k))) for k in keys]


def _referenced(obj: dict[str, Any], inc: Includes) -> list[dict[str, Any]]:
    """[{type, id}] plus, when the page included it, the referenced post's author and text."""
    out = []
    for ref in obj.get("referenced_tweets") or ():
        entry: dict[str, Any] = {"type": ref.get("type", "referenced"), "id": str(ref["id"])}
        included = inc.tweets.get(entry["id"])
        if included:
            author_id = included.get("author_id")
            entry["author"] = user_ref(inc.users.get(str(author_id)), author_id)
            entry["created_at"] = iso_utc(included.get("created_at"))
            entry["text"] = _full_text(included)
        out.append(entry)
    return out


def tweet_record(
    tweet: dict[str, Any],
    inc: Includes,
    *,
    kind: str | None,
    provenance: Provenance,
) -> dict[str, Any]:
    """A post, reply, repost, quote, mention, like or bookmark. kind=None: an own post."""
    if kind is None:
        kind = own_post_kind(tweet)
    entities = _entities(tweet)
    refs = _referenced(tweet, inc)
    author_id = tweet.get("author_id")
    edits = tweet.get("edit_history_tweet_ids") or tweet.get("edit_history_post_ids") or ()
    reply_id = next((r["id"] for r in refs if r["type"] == "replied_to"), None)
    return new_record(
        id=tweet["id"],
        kind=kind,
        author=user_ref(inc.users.get(str(author_id)), author_id),
        created_at=iso_utc(tweet.get("created_at")),
        text=_full_text(tweet),
        lang=tweet.get("lang"),
        conversation_id=tweet.get("conversation_id"),
        in_reply_to_id=reply_id,
        in_reply_to_user_id=reply_to_user_id(tweet) if reply_id else None,
        referenced=refs,
        hashtags=_hashtags(entities),
        mentions=_mentions(entities),
        mentioned_user_ids=mentioned_ids(tweet),
        urls=_urls(entities),
        media=_media(tweet, inc),
        metrics=tweet.get("public_metrics"),
        edit_history_ids=[str(i) for i in edits],
        **provenance,
        raw=tweet,
    )


# -- users, DMs, lists -------------------------------------------------------------------------
def user_record(
    user: dict[str, Any],
    *,
    kind: str,
    provenance: Provenance,
    list_id: str | None = None,
) -> dict[str, Any]:
    """A follower, a followed account, the profile, or a list member (id '<list id>:<user id>')."""
    entities = user.get("entities") or {}
    urls = _urls(entities.get("url") or {}) + _urls(entities.get("description") or {})
    membership = kind == "list_member" and list_id
    return new_record(
        id=f"{list_id}:{user['id']}" if membership else user["id"],
        kind=kind,
        author=user_ref(user),
        created_at=iso_utc(user.get("created_at")),
        text=user.get("description"),
        hashtags=_hashtags(entities.get("description") or {}),
        mentions=_mentions(entities.get("description") or {}),
        urls=urls,
        referenced=[{"type": "member_of", "id": str(list_id)}] if membership else None,
        metrics=user.get("public_metrics"),
        **provenance,
        raw=user,
    )


def dm_record(
    event: dict[str, Any],
    inc: Includes,
    *,
    provenance: Provenance,
) -> dict[str, Any]:
    """A DM event: a message, or someone joining or leaving a conversation."""
    sender = event.get("sender_id")
    # the API puts a DM's entities at the top level; some tools nest them in `entities`
    entities = event.get("entities") or event
    return new_record(
        id=event["id"],
        kind="dm",
        author=user_ref(inc.users.get(str(sender)), sender),
        created_at=iso_utc(event.get("created_at")),
        text=event.get("text"),
        conversation_id=event.get("dm_conversation_id"),
        referenced=_referenced(event, inc) or None,
        hashtags=_hashtags(entities),
        mentions=_mentions(entities),
        mentioned_user_ids=mentioned_ids({"entities": entities}),
        participant_ids=dm_participants(event),
        urls=_urls(entities),
        media=_media(event, inc),
        **provenance,
        raw=event,
    )


def list_record(
    lst: dict[str, Any],
    inc: Includes,
    *,
    provenance: Provenance,
) -> dict[str, Any]:
    """A list (owned, followed, a membership): name and description as text, owner as author."""
    owner = lst.get("owner_id")
    text = lst.get("name") or ""
    if lst.get("description"):
        text = f"{text}\n{lst['description']}"
    counts = {k: lst[k] for k in ("member_count", "follower_count") if k in lst}
    return new_record(
        id=lst["id"],
        kind="list",
        author=user_ref(inc.users.get(str(owner)), owner),
        created_at=iso_utc(lst.get("created_at")),
        text=text or None,
        metrics=counts or None,
        **provenance,
        raw=lst,
    )


# -- pages -------------------------------------------------------------------------------------
def records_from_page(
    page: dict[str, Any],
    *,
    endpoint: str,
    account: str,
    account_id: str,
    source: str = "x-api-v2",
    captured_at: str | None = None,
    run_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every record in one API response. `endpoint` is a route, a path or the request URL
    (e.g. twarc's `__twarc.url`); its ids say which list a member page belongs to."""
    route, ids = parse_endpoint(endpoint)
    if route not in ENDPOINT_KINDS:
        raise ArchiveFormatError(f"X API endpoint {route} has no record kind in the archive")
    kind = ENDPOINT_KINDS[route]
    data = page.get("data")
    if not data:
        return
    items = data if isinstance(data, list) else [data]
    inc = Includes.of(page)
    # what every record of the page says of where it came from (new_record's fields)
    common: Provenance = {
        "account": account,
        "account_id": str(account_id),
        "source": source,
        "captured_at": captured_at or isoformat(utcnow()),
        "run_id": run_id,
    }
    for item in items:
        if not isinstance(item, dict) or "id" not in item:
            raise ArchiveFormatError(f"X API {route}: an item without an id: {str(item)[:80]}")
        if kind == "dm":
            yield dm_record(item, inc, provenance=common)
        elif kind == "list":
            yield list_record(item, inc, provenance=common)
        elif kind in _USER_KINDS:
            list_id = ids[0] if kind == "list_member" and ids else None
            yield user_record(item, kind=kind, list_id=list_id, provenance=common)
        elif kind in _TWEET_KINDS:
            yield tweet_record(item, inc, kind=kind, provenance=common)
        else:
            yield tweet_record(
                item, inc, kind=_lookup_kind(route, item, account_id), provenance=common
            )


def _lookup_kind(route: str, tweet: dict[str, Any], account_id: str) -> str:
    if route == "/2/users/:id/tweets":
        return own_post_kind(tweet)
    # look-ups and searches mix authors: only the account's own posts are its posts
    author = tweet.get("author_id")
    if author is not None and str(author) != str(account_id):
        return "mention"
    return own_post_kind(tweet)
