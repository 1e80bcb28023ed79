"""Where an item is on its platform: the one owner of "view on the platform" links (the UI's
item page, exports' listings).

Ids and handles come from sources and are hostile: each part of a URL is checked against
the platform's own syntax (X's numeric ids and handles, Bluesky's DIDs and record keys,
Mastodon's accts) before it is put in a URL, and only http(s) URLs are ever returned.
A record that cannot be placed safely has no link (None), never a guessed one.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from storage.records import platform_of

_X_ID = re.compile(r"[0-9]{1,20}")
_X_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}")
# at://<did>/<collection NSID>/<record key> (atproto's syntax, restricted to what is safe)
_DID = re.compile(r"did:(plc:[a-z2-7]{24}|web:[A-Za-z0-9.-]+(%3[aA][0-9]{1,5})?)")
_AT_URI = re.compile(
    r"at://(?P<did>did:[a-z]+:[A-Za-z0-9._:%-]{1,200})/(?P<nsid>[A-Za-z0-9.-]{1,300})"
    r"/(?P<rkey>[A-Za-z0-9._:~-]{1,512})"
)
_ACCT = re.compile(r"@?(?P<user>[A-Za-z0-9_.-]{1,64})@(?P<host>[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?)")
_POST_KINDS = frozenset({"post", "reply", "quote", "mention", "like", "bookmark", "dm"})
_PEOPLE_KINDS = frozenset({"follower", "following", "block", "list_member", "profile"})
BSKY_APP = "https://bsky.app"


def http_url(value: object) -> str | None:
    """`value` when it is an absolute http(s) URL with a host and no whitespace, else None."""
    if not isinstance(value, str) or len(value) > 2048 or not value.isascii():
        return None
    if any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return value


def original_url(record: dict[str, Any]) -> str | None:
    """The page of this item on its platform, or None (a DM, or nothing safe to link)."""
    if record.get("kind") == "dm":
        return None  # a direct message has no page anyone but its parties may open
    platform = platform_of(record)
    if platform == "bluesky":
        return _bluesky(record)
    if platform == "mastodon":
        return _mastodon(record)
    return _x(record)


def _x(record: dict[str, Any]) -> str | None:
    kind = record.get("kind")
    item_id = str(record.get("id") or "")
    username = str((record.get("author") or {}).get("username") or "")
    if kind == "dm":
        return None  # a DM has no public page
    if kind in _PEOPLE_KINDS:
        return f"https://x.com/{username}" if _X_HANDLE.fullmatch(username) else None
    if not _X_ID.fullmatch(item_id):
        return None
    if _X_HANDLE.fullmatch(username) and kind != "repost":
        return f"https://x.com/{username}/status/{item_id}"
    return f"https://x.com/i/web/status/{item_id}"  # x.com finds a post by id alone


def bluesky_post_url(at_uri: object) -> str | None:
    """bsky.app's page for an AT URI of a post or a list; None for anything else."""
    m = _AT_URI.fullmatch(str(at_uri or ""))
    if m is None or not _DID.fullmatch(m["did"]):
        return None
    did, nsid, rkey = m["did"], m["nsid"], quote(m["rkey"], safe="")
    if nsid == "app.bsky.feed.post":
        return f"{BSKY_APP}/profile/{did}/post/{rkey}"
    if nsid == "app.bsky.graph.list":
        return f"{BSKY_APP}/profile/{did}/lists/{rkey}"
    return None


def bluesky_profile_url(did: object) -> str | None:
    did = str(did or "")
    return f"{BSKY_APP}/profile/{did}" if _DID.fullmatch(did) else None


def _bluesky(record: dict[str, Any]) -> str | None:
    kind = record.get("kind")
    item_id = str(record.get("id") or "")
    raw: dict[str, Any] = record["raw"] if isinstance(record.get("raw"), dict) else {}
    subject = raw.get("subject")
    if kind == "repost":
        uri = subject.get("uri") if isinstance(subject, dict) else None
        return bluesky_post_url(uri or next(iter(_reposted(record)), None))
    if kind in _PEOPLE_KINDS:
        if _DID.fullmatch(item_id):
            return bluesky_profile_url(item_id)
        if isinstance(subject, str):  # a follow / block / list item record names a DID
            return bluesky_profile_url(subject)
        return bluesky_profile_url((record.get("author") or {}).get("id"))
    return bluesky_post_url(item_id)


def _reposted(record: dict[str, Any]) -> list[Any]:
    """The ids a repost's `referenced` names as reposted (X's spelling or the others')."""
    return [
        r.get("id")
        for r in record.get("referenced") or ()
        if isinstance(r, dict) and r.get("type") in ("retweeted", "reposted")
    ]


def mastodon_profile_url(acct: object) -> str | None:
    m = _ACCT.fullmatch(str(acct or ""))
    if m is None:
        return None
    return http_url(f"https://{m['host'].lower()}/@{quote(m['user'], safe='')}")


def _mastodon(record: dict[str, Any]) -> str | None:
    kind = record.get("kind")
    item_id = str(record.get("id") or "")
    raw: dict[str, Any] = record["raw"] if isinstance(record.get("raw"), dict) else {}
    if kind in _PEOPLE_KINDS:
        return mastodon_profile_url(item_id) or mastodon_profile_url(
            (record.get("author") or {}).get("id")
        )
    if kind == "repost":
        # a boost: the boosted status (API: reblog; archive: the Announce's object; the
        # record's `referenced` either way)
        reblog = raw.get("reblog")
        target = (reblog.get("url") or reblog.get("uri")) if isinstance(reblog, dict) else None
        obj = raw.get("object")
        obj_id = obj.get("id") if isinstance(obj, dict) else obj
        for candidate in (target, obj_id, *_reposted(record)):
            if http_url(candidate):
                return http_url(candidate)
        return None
    uri = http_url(item_id)
    # the status itself: the API's status JSON, or the archive's Create activity's object
    obj = raw.get("object")
    status = obj if isinstance(obj, dict) and obj.get("id") == item_id else raw
    page = http_url(status.get("url"))
    # the status's web page when the status itself says so on the same server (the API's
    # `uri`, the archive's `id`), else its URI: servers answer it with the status page
    said = item_id in (status.get("id"), status.get("uri"))
    if uri and page and said and _host(page) == _host(uri):
        return page
    return uri


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
