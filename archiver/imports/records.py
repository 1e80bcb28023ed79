"""Pure functions: official-archive and classic-archive objects -> normalised records."""

from __future__ import annotations

import re
from typing import Any

from archiver.timestamps import iso
from archiver.xapi_records import post_text
from storage.records import new_record

SOURCE = "x-archive"
_STATUS_URL = re.compile(r"^https?://(?:mobile\.)?(?:twitter|x)\.com/\w+/status(?:es)?/(\d+)")


def _ints(values: dict[str, Any], *names: str) -> dict[str, int]:
    out = {}
    for name in names:
        if values.get(name) not in (None, ""):
            out[name] = int(values[name])
    return out


def edit_chain(tweet: dict[str, Any]) -> list[str]:
    """Ids of the edit chain, oldest first (`initial` on the first version, `edit` on later)."""
    info = tweet.get("edit_info") or {}
    initial = info.get("initial") or (info.get("edit") or {}).get("editControlInitial") or {}
    chain = [str(i) for i in initial.get("editTweetIds") or []]
    first = (info.get("edit") or {}).get("initialTweetId")
    if first and str(first) not in chain:
        chain.insert(0, str(first))
    own = str(tweet.get("id_str") or tweet.get("id"))
    if chain and own not in chain:
        chain.append(own)
    return chain


def media_of_raw(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    """All media entities: extended_entities has every item, entities only the first photo."""
    ext = (tweet.get("extended_entities") or {}).get("media")
    return ext or (tweet.get("entities") or {}).get("media") or []


def _quoted_id(tweet: dict[str, Any], text: str) -> str | None:
    """Archives carry no quoted_status: a quote is a post whose last link is to a status."""
    urls = (tweet.get("entities") or {}).get("urls") or []
    if not urls:
        return None
    last = urls[-1]
    match = _STATUS_URL.match(last.get("expanded_url") or "")
    if match and (tweet.get("is_quote_status") or text.rstrip().endswith(last.get("url") or "\0")):
        return match.group(1)
    return None


def media_of(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    media = []
    for m in media_of_raw(tweet):
        url = m.get("media_url_https") or m.get("media_url")
        if m.get("type") in ("video", "animated_gif"):
            variants = (m.get("video_info") or {}).get("variants") or []
            mp4s = [v for v in variants if v.get("content_type") == "video/mp4"]
            if mp4s:
                url = max(mp4s, key=lambda v: int(v.get("bitrate") or 0))["url"]
        media.append(
            {"key": str(m.get("id_str") or m.get("id")), "type": m.get("type", "photo"), "url": url}
        )
    return media


def media_file_name(tweet_id: str, url: str) -> str:
    """The archive names media `<tweet id>-<basename of the media url>` (query string dropped)."""
    return f"{tweet_id}-{url.split('?', 1)[0].rsplit('/', 1)[-1]}"


def tweet_record(
    entry: dict[str, Any],
    owner: dict[str, str],
    captured_at: str | None,
    *,
    deleted_at: str | None = None,
    note: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A tweets.js, tweet.js or deleted-tweets.js entry (bare 2018, wrapped since) or classic."""
    tweet = entry.get("tweet", entry)
    tid = str(tweet.get("id_str") or tweet["id"])
    text = post_text(tweet.get("full_text") if "full_text" in tweet else tweet.get("text", ""))
    entities = tweet.get("entities") or {}
    urls = [u.get("expanded_url") or u.get("url") for u in entities.get("urls") or []]
    referenced = []
    reply_to = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    kind = "post"
    if reply_to:
        kind = "reply"
        referenced.append({"type": "replied_to", "id": str(reply_to)})
    retweeted = tweet.get("retweeted_status")
    if retweeted or (text or "").startswith("RT @"):
        kind = "repost"
        source_id = (retweeted or {}).get("id_str") or next(
            (
                m.get("source_status_id_str")
                for m in media_of_raw(tweet)
                if m.get("source_status_id_str")
            ),
            None,
        )
        if source_id:
            referenced.append({"type": "retweeted", "id": str(source_id)})
    elif kind == "post" and (quoted := _quoted_id(tweet, text or "")):
        kind = "quote"
        referenced.append({"type": "quoted", "id": quoted})
    if note is not None:
        core = note.get("noteTweet", note).get("core", {})
        text = post_text(core.get("text", text))
        urls = urls + [
            u.get("expandedUrl") for u in core.get("urls") or [] if u.get("expandedUrl") not in urls
        ]
    raw = entry if note is None else {**entry, **note}
    return new_record(
        id=tid,
        kind=kind,
        account=owner["username"],
        account_id=owner["id"],
        author=dict(owner),
        created_at=iso(tweet.get("created_at")),
        text=text,
        lang=tweet.get("lang"),
        in_reply_to_id=str(reply_to) if reply_to else None,
        referenced=referenced,
        hashtags=[h.get("text") for h in entities.get("hashtags") or []],
        mentions=[m.get("screen_name") for m in entities.get("user_mentions") or []],
        urls=urls,
        media=media_of(tweet),
        metrics=_ints(tweet, "favorite_count", "retweet_count"),
        edit_history_ids=edit_chain(tweet),
        deleted_at=iso(deleted_at or tweet.get("deleted_at")),
        source=SOURCE,
        captured_at=captured_at,
        raw=raw,
    )


def like_record(
    entry: dict[str, Any], owner: dict[str, str], captured_at: str | None
) -> dict[str, Any]:
    like = entry.get("like", entry)
    return new_record(
        id=str(like["tweetId"]),
        kind="like",
        account=owner["username"],
        account_id=owner["id"],
        text=like.get("fullText"),
        urls=[like["expandedUrl"]] if like.get("expandedUrl") else [],
        source=SOURCE,
        captured_at=captured_at,
        raw=entry,
    )


def relation_record(
    entry: dict[str, Any], kind: str, owner: dict[str, str], captured_at: str | None
) -> dict[str, Any]:
    """follower.js / following.js: an account id (and a link), no names."""
    rel = entry.get(kind, entry)
    uid = str(rel["accountId"])
    return new_record(
        id=uid,
        kind=kind,
        account=owner["username"],
        account_id=owner["id"],
        author={"id": uid},
        urls=[rel["userLink"]] if rel.get("userLink") else [],
        source=SOURCE,
        captured_at=captured_at,
        raw=entry,
    )


def dm_records(
    entry: dict[str, Any], owner: dict[str, str], captured_at: str | None
) -> list[dict[str, Any]]:
    """One record per message of a conversation (1:1 or group); other events stay in the file."""
    conv = entry.get("dmConversation", entry)
    records = []
    for event in conv.get("messages") or []:
        msg = event.get("messageCreate") or event.get("welcomeMessageCreate")
        if not msg or not msg.get("id"):
            continue
        sender = str(msg.get("senderId") or "")
        records.append(
            new_record(
                id=str(msg["id"]),
                kind="dm",
                account=owner["username"],
                account_id=owner["id"],
                author={
                    "id": sender,
                    **({"username": owner["username"]} if sender == owner["id"] else {}),
                },
                created_at=iso(msg.get("createdAt")),
                text=msg.get("text"),
                conversation_id=str(conv.get("conversationId")),
                urls=[u.get("expanded") or u.get("url") for u in msg.get("urls") or []],
                media=[
                    {
                        "key": u.rsplit("/", 2)[-2] if u.count("/") > 2 else u,
                        "type": "dm_media",
                        "url": u,
                    }
                    for u in msg.get("mediaUrls") or []
                ],
                mentions=[str(msg["recipientId"])] if msg.get("recipientId") else [],
                source=SOURCE,
                captured_at=captured_at,
                raw={"conversationId": conv.get("conversationId"), **event},
            )
        )
    return records


def profile_record(
    account: dict[str, Any], profile: dict[str, Any], owner: dict[str, str], captured_at: str | None
) -> dict[str, Any]:
    acc = account.get("account", account)
    prof = profile.get("profile", profile)
    desc = prof.get("description") or {}
    return new_record(
        id=owner["id"],
        kind="profile",
        account=owner["username"],
        account_id=owner["id"],
        author=dict(owner),
        created_at=iso(acc.get("createdAt")),
        text=desc.get("bio"),
        urls=[desc["website"]] if desc.get("website") else [],
        media=[
            {"key": k, "type": "photo", "url": prof[k]}
            for k in ("avatarMediaUrl", "headerMediaUrl")
            if prof.get(k)
        ],
        source=SOURCE,
        captured_at=captured_at,
        raw={**account, **profile},
    )
