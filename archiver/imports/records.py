"""Pure functions: official-archive and classic-archive objects -> normalised records.

Every field is read through `archiver.imports.fields.Obj`, so a value of the wrong type is
a FieldError naming the field (never an AttributeError); the entry loops in xarchive add the
file and the entry number."""

from __future__ import annotations

import re
from typing import Any

from archiver.imports.fields import FieldError, Obj
from archiver.parties import dm_participants, mentioned_ids, reply_to_user_id
from archiver.xapi_records import post_text
from storage.records import new_record

SOURCE = "x-archive"
_STATUS_URL = re.compile(r"^https?://(?:mobile\.)?(?:twitter|x)\.com/\w+/status(?:es)?/(\d+)")


def edit_chain(tweet: Obj) -> list[str]:
    """Ids of the edit chain, oldest first (`initial` on the first version, `edit` on later)."""
    info = tweet.obj("edit_info")
    edit = info.obj("edit")
    initial = info.obj("initial") if info.has("initial") else edit.obj("editControlInitial")
    chain = initial.ids("editTweetIds")
    first = edit.id("initialTweetId")
    if first and first not in chain:
        chain.insert(0, first)
    own = tweet.id("id_str") or tweet.id("id")
    if chain and own and own not in chain:
        chain.append(own)
    return chain


def media_of_raw(tweet: Obj) -> list[Obj]:
    """All media entities: extended_entities has every item, entities only the first photo."""
    return tweet.obj("extended_entities").objs("media") or tweet.obj("entities").objs("media")


def _quoted_id(tweet: Obj, urls: list[Obj], text: str) -> str | None:
    """Archives carry no quoted_status: a quote is a post whose last link (of `urls`, its
    entities' urls) is to a status."""
    if not urls:
        return None
    last = urls[-1]
    match = _STATUS_URL.match(last.text("expanded_url") or "")
    if match and (
        tweet.flag("is_quote_status") or text.rstrip().endswith(last.text("url") or "\0")
    ):
        return match.group(1)
    return None


def media_of(tweet: Obj) -> list[dict[str, Any]]:
    media = []
    for m in media_of_raw(tweet):
        url = m.text("media_url_https") or m.text("media_url")
        kind = m.text("type", "photo")
        if kind in ("video", "animated_gif"):
            mp4s = [
                v
                for v in m.obj("video_info").objs("variants")
                if v.text("content_type") == "video/mp4"
            ]
            if mp4s:
                url = max(mp4s, key=lambda v: v.number("bitrate") or 0).text("url")
        media.append({"key": str(m.id("id_str") or m.id("id")), "type": kind, "url": url})
    return media


def media_file_name(tweet_id: str, url: str) -> str:
    """The archive names media `<tweet id>-<basename of the media url>` (query string dropped)."""
    return f"{tweet_id}-{url.split('?', 1)[0].rsplit('/', 1)[-1]}"


def _metrics(tweet: Obj) -> dict[str, int]:
    return {
        name: value
        for name in ("favorite_count", "retweet_count")
        if (value := tweet.number(name)) is not None
    }


def tweet_record(
    entry: dict[str, Any],
    owner: dict[str, str],
    captured_at: str | None,
    *,
    note: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A tweets.js, tweet.js or deleted-tweets.js entry (bare 2018, wrapped since) or classic.
    A field of the wrong type raises FieldError."""
    wrapper = Obj(entry)
    tweet = wrapper.obj("tweet") if "tweet" in wrapper.value else wrapper
    tid = tweet.id("id_str") or tweet.id("id")
    if tid is None:
        raise FieldError(f"{tweet.path}.id_str", "an id", None)
    typed = tweet.text("full_text") if "full_text" in tweet.value else tweet.text("text", "")
    text = post_text(typed)
    entities = tweet.obj("entities")
    url_objs = entities.objs("urls")
    urls = [u.text("expanded_url") or u.text("url") for u in url_objs]
    referenced = []
    reply_to = tweet.id("in_reply_to_status_id_str") or tweet.id("in_reply_to_status_id")
    kind = "post"
    if reply_to:
        kind = "reply"
        referenced.append({"type": "replied_to", "id": reply_to})
    retweeted = tweet.obj("retweeted_status")
    if retweeted.value or (text or "").startswith("RT @"):
        kind = "repost"
        source_id = retweeted.id("id_str") or next(
            (
                m.id("source_status_id_str")
                for m in media_of_raw(tweet)
                if m.id("source_status_id_str")
            ),
            None,
        )
        if source_id:
            referenced.append({"type": "retweeted", "id": source_id})
    elif kind == "post" and (quoted := _quoted_id(tweet, url_objs, text or "")):
        kind = "quote"
        referenced.append({"type": "quoted", "id": quoted})
    if note is not None:
        held = Obj(note, "note")
        core = (held.obj("noteTweet") if "noteTweet" in held.value else held).obj("core")
        text = post_text(core.text("text", text))
        urls = urls + [
            u.text("expandedUrl") for u in core.objs("urls") if u.text("expandedUrl") not in urls
        ]
    raw = entry if note is None else {**entry, **note}
    return new_record(
        id=tid,
        kind=kind,
        account=owner["username"],
        account_id=owner["id"],
        author=dict(owner),
        created_at=tweet.time("created_at"),
        text=text,
        lang=tweet.text("lang"),
        in_reply_to_id=reply_to,
        in_reply_to_user_id=reply_to_user_id(tweet.value) if reply_to else None,
        referenced=referenced,
        hashtags=[h.text("text") for h in entities.objs("hashtags")],
        mentions=[m.text("screen_name") for m in entities.objs("user_mentions")],
        mentioned_user_ids=mentioned_ids(tweet.value),
        urls=urls,
        media=media_of(tweet),
        metrics=_metrics(tweet),
        edit_history_ids=edit_chain(tweet),
        deleted_at=tweet.time("deleted_at"),
        source=SOURCE,
        captured_at=captured_at,
        raw=raw,
    )


def _unwrap(entry: dict[str, Any], key: str) -> Obj:
    # entries are wrapped ({"like": {...}}) since 2019; bare before
    outer = Obj(entry)
    return outer.obj(key) if key in outer.value else outer


def _required_id(obj: Obj, key: str) -> str:
    value = obj.id(key)
    if value is None:
        raise FieldError(f"{obj.path}.{key}", "an id", None)
    return value


def like_record(
    entry: dict[str, Any], owner: dict[str, str], captured_at: str | None
) -> dict[str, Any]:
    like = _unwrap(entry, "like")
    link = like.text("expandedUrl")
    return new_record(
        id=_required_id(like, "tweetId"),
        kind="like",
        account=owner["username"],
        account_id=owner["id"],
        text=like.text("fullText"),
        urls=[link] if link else [],
        source=SOURCE,
        captured_at=captured_at,
        raw=entry,
    )


def relation_record(
    entry: dict[str, Any], kind: str, owner: dict[str, str], captured_at: str | None
) -> dict[str, Any]:
    """follower.js / following.js: an account id (and a link), no names."""
    rel = _unwrap(entry, kind)
    uid = _required_id(rel, "accountId")
    link = rel.text("userLink")
    return new_record(
        id=uid,
        kind=kind,
        account=owner["username"],
        account_id=owner["id"],
        author={"id": uid},
        urls=[link] if link else [],
        source=SOURCE,
        captured_at=captured_at,
        raw=entry,
    )


def dm_records(
    entry: dict[str, Any], owner: dict[str, str], captured_at: str | None
) -> list[dict[str, Any]]:
    """One record per message of a conversation (1:1 or group); other events stay in the file."""
    conv = _unwrap(entry, "dmConversation")
    conversation = conv.id("conversationId")
    # everyone the conversation's events name: a group message names only its sender
    members = dm_participants({}, conversation)
    for event in conv.value.get("messages") or []:
        if isinstance(event, dict):
            members += [m for m in dm_participants(event) if m not in members]
    records = []
    for event in conv.objs("messages"):
        msg = (
            event.obj("messageCreate")
            if event.has("messageCreate")
            else event.obj("welcomeMessageCreate")
        )
        mid = msg.id("id")
        if not mid:
            continue
        sender = msg.id("senderId") or ""
        recipient = msg.id("recipientId")
        records.append(
            new_record(
                id=mid,
                kind="dm",
                account=owner["username"],
                account_id=owner["id"],
                author={
                    "id": sender,
                    **({"username": owner["username"]} if sender == owner["id"] else {}),
                },
                created_at=msg.time("createdAt"),
                text=msg.text("text"),
                conversation_id=str(conversation),
                urls=[u.text("expanded") or u.text("url") for u in msg.objs("urls")],
                media=[
                    {
                        "key": u.rsplit("/", 2)[-2] if u.count("/") > 2 else u,
                        "type": "dm_media",
                        "url": u,
                    }
                    for u in msg.texts("mediaUrls")
                ],
                mentions=[recipient] if recipient else [],
                participant_ids=members,
                source=SOURCE,
                captured_at=captured_at,
                raw={"conversationId": conv.get("conversationId"), **event.value},
            )
        )
    return records


def profile_record(
    account: dict[str, Any], profile: dict[str, Any], owner: dict[str, str], captured_at: str | None
) -> dict[str, Any]:
    acc = Obj(account, "account")
    acc = acc.obj("account") if "account" in acc.value else acc
    prof = Obj(profile, "profile")
    prof = prof.obj("profile") if "profile" in prof.value else prof
    desc = prof.obj("description")
    website = desc.text("website")
    return new_record(
        id=owner["id"],
        kind="profile",
        account=owner["username"],
        account_id=owner["id"],
        author=dict(owner),
        created_at=acc.time("createdAt"),
        text=desc.text("bio"),
        urls=[website] if website else [],
        media=[
            {"key": k, "type": "photo", "url": url}
            for k in ("avatarMediaUrl", "headerMediaUrl")
            if (url := prof.text(k))
        ],
        source=SOURCE,
        captured_at=captured_at,
        raw={**account, **profile},
    )
