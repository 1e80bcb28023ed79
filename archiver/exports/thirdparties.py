"""Who the third parties in a set of records are, and the pseudonym each one gets.

A census reads every record (its author, mentions, references and raw payload, in the X
API v2, archive ZIP and v1.1 spellings) and registers each person who is not visible under
the profile, by user id, handle and display name, plus the posts they wrote. Whole user
objects are read first, so a bare id or handle seen elsewhere joins its person instead of
becoming someone new. Redaction (redaction.py) then replaces what the census found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# keys whose value names a user (a whole-value match there is certainly a handle or name)
HANDLE_KEYS = frozenset(
    {"username", "screen_name", "screenName", "userName", "in_reply_to_screen_name"}
)
NAME_KEYS = frozenset({"name", "displayName", "accountDisplayName"})
# keys holding one user id
USER_ID_KEYS = frozenset(
    {
        "author_id",
        "in_reply_to_user_id",
        "in_reply_to_user_id_str",
        "sender_id",
        "senderId",
        "recipientId",
        "recipient_id",
        "accountId",
        "user_id",
        "userId",
        "source_user_id",
        "source_user_id_str",
        "initiatingUserId",
        "owner_id",
    }
)
USER_ID_LIST_KEYS = frozenset({"participant_ids", "userIds", "participantsSnapshot"})
# (key naming a post's author, keys naming that post): replied-to and retweeted statuses
_POSTS_BY_USER = (
    ("author_id", ("id",)),
    ("in_reply_to_user_id_str", ("in_reply_to_status_id_str", "in_reply_to_status_id")),
    ("in_reply_to_user_id", ("in_reply_to_status_id_str", "in_reply_to_status_id")),
    ("source_user_id_str", ("source_status_id_str", "source_status_id")),
    ("source_user_id", ("source_status_id_str", "source_status_id")),
)
# first path segments of x.com/twitter.com URLs that are not user names
_RESERVED_PATHS = frozenset(
    {
        "i",
        "intent",
        "home",
        "search",
        "hashtag",
        "share",
        "settings",
        "messages",
        "explore",
        "notifications",
        "compose",
        "login",
        "signup",
        "tos",
        "privacy",
        "status",
        "statuses",
    }
)

URL = re.compile(r"https?://\S+")
AT_HANDLE = re.compile(r"(?<![\w@])@(\w{1,15})(?!\w)")
URL_HANDLE = re.compile(r"(?i)\b((?:twitter|x)\.com/)(\w{1,15})(?=[/?#\s]|$)")
DIGITS = re.compile(r"(?<!\d)\d{5,}(?!\d)")  # shorter numbers in text are not taken for ids
OWN_KINDS = ("post", "reply", "repost", "quote", "profile", "list")


def norm(handle: str) -> str:
    return handle.lstrip("@").lower()


@dataclass
class Pseudonyms:
    """One pseudonym per third-party person (known by id, handle or name) and per post."""

    by_id: dict[str, str] = field(default_factory=dict)
    by_handle: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)  # as written
    by_name_lower: dict[str, str] = field(default_factory=dict)
    posts: dict[str, str] = field(default_factory=dict)
    people: int = 0

    def person(self, user_id: Any, handle: Any, name: Any) -> None:
        uid = str(user_id) if user_id not in (None, "") else None
        h = norm(handle) if isinstance(handle, str) and handle else None
        token = (uid and self.by_id.get(uid)) or (h and self.by_handle.get(h))
        if not token:
            if not (uid or h):
                return  # a bare name identifies no one we can mask consistently
            self.people += 1
            token = f"[REDACTED user-{self.people}]"
        if uid:
            self.by_id.setdefault(uid, token)
        if h:
            self.by_handle.setdefault(h, token)
        if isinstance(name, str) and len(name.strip()) >= 4:
            self.by_name.setdefault(name.strip(), token)
            self.by_name_lower.setdefault(name.strip().lower(), token)

    def post(self, post_id: Any) -> None:
        pid = str(post_id) if post_id not in (None, "") else ""
        if pid and pid not in self.posts and pid not in self.by_id:
            self.posts[pid] = f"[REDACTED post-{len(self.posts) + 1}]"

    def id_token(self, value: str) -> str | None:
        return self.by_id.get(value) or self.posts.get(value)

    def names_pattern(self) -> re.Pattern[str] | None:
        """Display names in free text: several words match in any case; a single word only
        as written (so a third party called "Police" does not mask the word everywhere)."""
        names = sorted(self.by_name, key=len, reverse=True)
        if not names:
            return None
        alternatives = [f"(?i:{re.escape(n)})" if " " in n else re.escape(n) for n in names]
        return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def _user_object(d: dict[str, Any]) -> tuple[Any, Any, Any] | None:
    """(id, handle, name) when a dict is a whole user: an include, a mention, an account."""
    handle = next(
        (
            d[k]
            for k in ("username", "screen_name", "screenName", "userName")
            if isinstance(d.get(k), str)
        ),
        None,
    )
    uid = d.get("id_str") or d.get("id") or d.get("accountId") or d.get("userId")
    if handle is None or uid is None:
        return None
    return uid, handle, d.get("name") or d.get("displayName") or d.get("accountDisplayName")


class Census:
    """Register the third parties of some records. `visible(user_id, handle)` says who is not
    one (the archive's own accounts, a SAR's subject)."""

    def __init__(self, visible: Callable[[Any, Any], bool]) -> None:
        self.visible = visible
        self.names = Pseudonyms()

    def third_party(self, rec: dict[str, Any]) -> bool:
        """Is the record someone else's? Without an author, a mention or like is."""
        author = rec.get("author") or {}
        if author.get("id") or author.get("username"):
            return not self.visible(author.get("id"), author.get("username"))
        return rec.get("kind") not in OWN_KINDS

    def take(self, records: Iterable[dict[str, Any]]) -> None:
        records = list(records)
        for rec in records:
            self._whole_people(rec)
        for rec in records:
            self._references(rec)

    def _person(self, user_id: Any = None, handle: Any = None, name: Any = None) -> None:
        if not self.visible(user_id, handle):
            self.names.person(user_id, handle, name)

    def _whole_people(self, value: Any) -> None:
        if isinstance(value, dict):
            user = _user_object(value)
            if user:
                self._person(*user)
            for v in value.values():
                if isinstance(v, (dict, list)):
                    self._whole_people(v)
        elif isinstance(value, list):
            for v in value:
                self._whole_people(v)

    def _references(self, rec: dict[str, Any]) -> None:
        author = rec.get("author") or {}
        self._person(author.get("id"), author.get("username"), author.get("name"))
        if self.third_party(rec):
            for pid in [rec.get("id"), *(rec.get("edit_history_ids") or ())]:
                self.names.post(pid)
        raw: dict[str, Any] = rec["raw"] if isinstance(rec.get("raw"), dict) else {}
        replied_to = raw.get("in_reply_to_user_id_str") or raw.get("in_reply_to_user_id")
        if rec.get("in_reply_to_id") and replied_to and not self.visible(replied_to, None):
            self.names.post(rec["in_reply_to_id"])
        for mention in rec.get("mentions") or ():
            if isinstance(mention, dict):
                self._person(mention.get("id"), mention.get("username"), mention.get("name"))
            elif isinstance(mention, str) and mention.isdigit():
                self._person(user_id=mention)  # DM records list the recipient's id
            elif isinstance(mention, str):
                self._person(handle=mention)
        for ref in rec.get("referenced") or ():
            ref_author = (ref.get("author") if isinstance(ref, dict) else None) or {}
            if ref_author and not self.visible(ref_author.get("id"), ref_author.get("username")):
                self._person(
                    ref_author.get("id"), ref_author.get("username"), ref_author.get("name")
                )
                self.names.post(ref.get("id"))
        self._payload(raw)
        self._payload([rec.get("text"), rec.get("urls")])

    def _payload(self, value: Any) -> None:
        if isinstance(value, dict):
            self._bare_references(value)
            for v in value.values():
                self._payload(v)
        elif isinstance(value, list):
            for v in value:
                self._payload(v)
        elif isinstance(value, str):
            for m in AT_HANDLE.finditer(value):
                self._person(handle=m.group(1))
            for m in URL_HANDLE.finditer(value):
                if m.group(2).lower() not in _RESERVED_PATHS:
                    self._person(handle=m.group(2))

    def _bare_references(self, d: dict[str, Any]) -> None:
        """Bare user ids and handles in a payload dict, and the posts third parties wrote."""
        for key, value in d.items():
            if (
                key in USER_ID_KEYS
                and isinstance(value, (str, int))
                and not isinstance(value, bool)
            ):
                self._person(user_id=value)
            elif key in USER_ID_LIST_KEYS and isinstance(value, list):
                for v in value:
                    if isinstance(v, (str, int)):
                        self._person(user_id=v)
            elif key == "in_reply_to_screen_name" and isinstance(value, str):
                self._person(handle=value)
        for user_key, post_keys in _POSTS_BY_USER:
            user = d.get(user_key)
            if user is None or self.visible(user, None):
                continue
            for post_key in post_keys:
                if d.get(post_key):
                    self.names.post(d[post_key])
            if user_key == "in_reply_to_user_id":
                for ref in d.get("referenced_tweets") or ():
                    if isinstance(ref, dict) and ref.get("type") == "replied_to":
                        self.names.post(ref.get("id"))
