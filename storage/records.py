"""The one normalised record shape every source is turned into (see DESIGN.md).

Records are plain dicts (they go straight to JSONL); `new_record` fills the defaults and
checks the fields every consumer relies on.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

# the platforms an account can live on; X is the default wherever a record or account says none
PLATFORMS = ("x", "bluesky", "mastodon")

# where a record came from, and the platform each source belongs to
PLATFORM_OF_SOURCE = {
    "x-api-v2": "x",
    "x-archive": "x",
    "twarc": "x",
    "bluesky-repo": "bluesky",  # a repository CAR (com.atproto.sync.getRepo or an export)
    "bluesky-api": "bluesky",  # the AppView / PDS XRPC API (followers, notifications, profile)
    "mastodon-api": "mastodon",  # the Mastodon REST API
    "mastodon-archive": "mastodon",  # the account archive ZIP (outbox.json, actor.json, ...)
}
SOURCES = tuple(PLATFORM_OF_SOURCE)

# kind: what the item is to the account's records staff
KINDS = (
    "post",  # the account's own post
    "reply",  # the account's own reply
    "repost",  # the account's retweet
    "quote",  # the account's quote post
    "mention",  # someone else's post mentioning / replying to the account
    "like",  # a post the account liked
    "bookmark",
    "dm",  # a direct-message event
    "follower",
    "following",
    "list",
    "list_member",
    "profile",
    "block",  # an account the account blocks (Bluesky keeps blocks in the public repository)
)
# a record of another lexicon in a Bluesky repository (third-party apps' collections): kept
# verbatim in the run and counted, never indexed or searched, so not one of KINDS
UNINDEXED_KINDS = ("repo_record",)

# collection (the JSONL object in a run) each kind is written to
COLLECTION_OF_KIND = {
    "post": "tweets",
    "reply": "tweets",
    "repost": "tweets",
    "quote": "tweets",
    "mention": "mentions",
    "like": "likes",
    "bookmark": "bookmarks",
    "dm": "dms",
    "follower": "followers",
    "following": "following",
    "list": "lists",
    "list_member": "lists",
    "profile": "profile",
    "block": "blocks",
    "repo_record": "repo_records",
}

RECORD_FIELDS = (
    "id",
    "kind",
    "platform",  # x | bluesky | mastodon (absent in records written before it: see platform_of)
    "account",
    "account_id",
    "author",
    "created_at",
    "text",
    "lang",
    "conversation_id",
    "in_reply_to_id",
    "in_reply_to_user_id",  # who the reply answers (None when not a reply or unknown)
    "referenced",
    "hashtags",
    "mentions",
    "mentioned_user_ids",  # ids of the users @mentioned, where the source gave them
    "participant_ids",  # a DM's participants by user id (the account's own included)
    "urls",
    "media",
    "metrics",
    "edit_history_ids",
    "deleted_at",
    "source",
    "captured_at",
    "run_id",
    "raw",
)

# What makes a new *version* of an item: what a reader would see change. A post's text never
# changes under one id (an edit gets a new id in the same chain); a profile's bio, website,
# pictures and names do, and so can a DM's text. Metrics, capture details and how much context
# a source carried (archive vs API: media keys, expanded entities, referenced posts) do not, so
# the same post from an archive ZIP and from the API is one version, not two.
_PROFILE_CONTENT = ("urls", "media")


_FIELD_SET = frozenset(RECORD_FIELDS)
_LIST_FIELDS = frozenset(
    (
        "referenced",
        "hashtags",
        "mentions",
        "mentioned_user_ids",
        "participant_ids",
        "urls",
        "media",
        "edit_history_ids",
    )
)
_DICT_FIELDS = frozenset(("author", "metrics"))


# every field None, in the documented order: a record starts as a copy (a dict copy and an
# update are C loops; a comprehension over the fields was a third of new_record's cost)
_NONE_RECORD: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)


def new_record(**fields: Any) -> dict[str, Any]:
    """A record with every field present, in the documented order."""
    if not _FIELD_SET.issuperset(fields):
        raise ValueError(f"unknown record fields: {sorted(set(fields) - _FIELD_SET)}")
    for name in ("id", "kind", "source"):
        if not fields.get(name):
            raise ValueError(f"record needs {name}")
    source = fields["source"]
    of_source = PLATFORM_OF_SOURCE.get(source) if isinstance(source, str) else None
    if of_source is None:
        raise ValueError(f"unknown record source {source!r}")
    if fields["kind"] not in COLLECTION_OF_KIND:
        raise ValueError(f"unknown record kind {fields['kind']!r}")
    rec = _NONE_RECORD.copy()
    rec["platform"] = of_source
    rec.update(fields)  # only known fields (above): the order stays the documented one
    if rec["platform"] != of_source:
        raise ValueError(f"source {source!r} is not a {rec['platform']} source")
    for name in _LIST_FIELDS:
        if rec[name] is None:
            rec[name] = []
    for name in _DICT_FIELDS:
        if rec[name] is None:
            rec[name] = {}
    rec["id"] = str(rec["id"])
    return rec


def platform_of(record: dict[str, Any]) -> str:
    """A record's platform; records written before the field existed are X's (derived on read)."""
    platform = record.get("platform")
    if platform in PLATFORMS:
        return str(platform)
    return PLATFORM_OF_SOURCE.get(str(record.get("source") or ""), "x")


def item_key(record: dict[str, Any]) -> str:
    """The id that names an item across its versions: the first id of an edit chain."""
    edits = record.get("edit_history_ids") or []
    return str(edits[0]) if edits else str(record["id"])


def content_hash(record: dict[str, Any]) -> str:
    """Stable hash of what a reader would call the content (not metrics or capture time)."""
    content: dict[str, Any] = {"id": str(record["id"]), "text": (record.get("text") or "").strip()}
    if record.get("kind") == "profile":
        author = record.get("author") or {}
        content["names"] = [author.get("username"), author.get("name")]
        content.update({name: record.get(name) for name in _PROFILE_CONTENT})
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def dumps(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


def loads(line: bytes) -> dict[str, Any]:
    record: dict[str, Any] = orjson.loads(line)
    return record
