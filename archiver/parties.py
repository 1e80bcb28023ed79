"""Who a record involves besides its author: the user it replies to, the users it mentions,
and a direct message's participants (every user id in the conversation, the account's own
included).

Records carry these as `in_reply_to_user_id`, `mentioned_user_ids` and `participant_ids`, so
exports, subject access selection and redaction read records, never `raw`. The importers and
capture fill them when a record is made; runs written before the fields existed get them
derived here from `raw` on read (`with_parties`). This module is the one reader of `raw` for
them, and knows every spelling: X API v2, the archive ZIP (2018 to today), the classic CSV.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from storage.records import platform_of

PARTY_FIELDS = ("in_reply_to_user_id", "mentioned_user_ids", "participant_ids")


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    text = str(value).strip()
    return text if text.isdigit() else None


def _ids(values: Iterable[Any]) -> list[str]:
    """Distinct digit-string ids in first-seen order."""
    out: dict[str, None] = {}
    for v in values:
        uid = _id(v)
        if uid:
            out.setdefault(uid)
    return list(out)


# user ids of the other platforms (issue 16): a DID, a full acct
_OTHER_USER_ID = {
    "bluesky": re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,200}"),
    "mastodon": re.compile(r"[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?"),
}


def user_id(value: Any, platform: str = "x") -> str | None:
    """A user id as `platform` writes them (X's digits, a DID, an acct), else None."""
    if platform == "x":
        return _id(value)
    text = str(value or "").strip()
    pattern = _OTHER_USER_ID.get(platform)
    if pattern is None or not pattern.fullmatch(text):
        return None
    return text.lower() if platform == "mastodon" else text


def conversation_members(conversation_id: Any) -> list[str]:
    """A 1:1 conversation's id is "<user id>-<user id>"; a group's is one number (no members)."""
    text = str(conversation_id or "")
    return _ids(text.split("-")) if "-" in text else []


def reply_to_user_id(payload: dict[str, Any]) -> str | None:
    """The replied-to user in a post payload (API v2, archive, classic CSV spellings)."""
    return _id(payload.get("in_reply_to_user_id_str")) or _id(payload.get("in_reply_to_user_id"))


def mentioned_ids(payload: dict[str, Any]) -> list[str]:
    """User ids of a post's mention entities (note tweets' own entities included)."""
    found: list[Any] = []
    for holder in (payload, payload.get("note_tweet") or {}):
        entities = holder.get("entities") or {}
        for m in entities.get("mentions") or ():  # API v2
            if isinstance(m, dict):
                found.append(m.get("id"))
        for m in entities.get("user_mentions") or ():  # archive ZIP, v1.1
            if isinstance(m, dict):
                found.append(m.get("id_str") or m.get("id"))
    return _ids(found)


def dm_participants(event: dict[str, Any], conversation_id: Any = None) -> list[str]:
    """Every user id a DM event names: sender, recipient, joiners, snapshot, 1:1 members."""
    found: list[Any] = []
    for key in ("sender_id", "senderId", "recipient_id", "recipientId", "initiatingUserId"):
        found.append(event.get(key))
    found.extend(event.get("participant_ids") or ())
    found.extend(event.get("participantsSnapshot") or ())
    for inner in event.values():  # archive events nest one level: {"messageCreate": {...}}
        if isinstance(inner, dict):
            for key in ("senderId", "recipientId", "initiatingUserId"):
                found.append(inner.get(key))
            found.extend(inner.get("userIds") or ())
            found.extend(inner.get("participantsSnapshot") or ())
    conv = conversation_id or event.get("dm_conversation_id") or event.get("conversationId")
    found.extend(conversation_members(conv))
    return _ids(found)


def derive_parties(rec: dict[str, Any]) -> dict[str, Any]:
    """The three fields of a record, derived from its `raw` payload and its other fields
    (X's payloads only: the other platforms' importers always write the fields)."""
    if platform_of(rec) != "x":
        return {"in_reply_to_user_id": None, "mentioned_user_ids": [], "participant_ids": []}
    raw = rec.get("raw") if isinstance(rec.get("raw"), dict) else {}
    assert isinstance(raw, dict)
    payload = raw.get("tweet", raw) if isinstance(raw.get("tweet"), dict) else raw
    if rec.get("kind") == "dm":
        members = dm_participants(raw, rec.get("conversation_id"))
        author = _id((rec.get("author") or {}).get("id"))
        # archive DM records of older runs list the recipient's id as their mention
        legacy = [m for m in rec.get("mentions") or () if isinstance(m, str)]
        return {
            "in_reply_to_user_id": None,
            "mentioned_user_ids": mentioned_ids(payload),
            "participant_ids": _ids([author, *members, *legacy]),
        }
    return {
        "in_reply_to_user_id": reply_to_user_id(payload) if rec.get("in_reply_to_id") else None,
        "mentioned_user_ids": mentioned_ids(payload),
        "participant_ids": [],
    }


def with_parties(rec: dict[str, Any]) -> dict[str, Any]:
    """The record with the three fields present: kept where the record has them, derived
    from `raw` where a run written before they existed lacks them. Changes `rec` in place."""
    if all(name in rec for name in PARTY_FIELDS):
        return rec
    derived = derive_parties(rec)
    for name in PARTY_FIELDS:
        rec.setdefault(name, derived[name])
    return rec


def user_ids_of(rec: dict[str, Any]) -> set[str]:
    """Every user a record involves by id: author, reply-to, mentioned, DM participants (ids
    of the record's platform: compare them with ids of that platform only)."""
    with_parties(rec)
    platform = platform_of(rec)
    ids = {str(rec[k]) for k in ("in_reply_to_user_id",) if rec.get(k)}
    ids.update(rec.get("mentioned_user_ids") or ())
    ids.update(rec.get("participant_ids") or ())
    author = user_id((rec.get("author") or {}).get("id"), platform)
    if author:
        ids.add(author)
    for ref in rec.get("referenced") or ():
        ref_user = ((ref.get("author") if isinstance(ref, dict) else None) or {}).get("id")
        ref_author = user_id(ref_user, platform)
        if ref_author:
            ids.add(ref_author)
    return ids
