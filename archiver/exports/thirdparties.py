"""Who the third parties in a set of records are, and the pseudonym each one gets.

A census reads every record (its author, mentions, references and raw payload, in the X
API v2, archive ZIP and v1.1 spellings) and registers each person who is not visible under
the profile, by user id, handle and display name, plus the posts they wrote. Whole user
objects are read first, so a bare id or handle seen elsewhere joins its person instead of
becoming someone new. Redaction (redaction.py) then replaces what the census found.

People are keyed per platform (`qualify`): an X user id or handle, a Bluesky DID or handle
and a Mastodon acct live in separate namespaces, chosen by the record being read
(`storage.records.platform_of`), so an X user and a Mastodon account that happen to share a
name or a number are never one person, and each gets its own pseudonym.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from archiver.parties import user_ids_of, with_parties
from storage.records import platform_of

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
# other platforms' handles in text: a Bluesky handle is a domain name; a Mastodon mention is
# @user or @user@host
BSKY_HANDLE = re.compile(
    r"(?i)(?<![\w@.])@([a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})+)(?![\w-])"
)
ACCT_HANDLE = re.compile(
    r"(?i)(?<![\w@])@(\w{1,64}(?:@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})+)?)(?![\w@])"
)
DID = re.compile(r"did:(?:plc:[a-z2-7]{24}|web:[A-Za-z0-9.-]+)")
BSKY_URL_HANDLE = re.compile(r"(?i)\b(bsky\.app/profile/)([^/\s?#]+)")
ACCT_URL_HANDLE = re.compile(r"(?i)\b(https?://)([a-z0-9.-]+\.[a-z]{2,})/@(\w{1,64})(?=[/?#\s]|$)")
HANDLE_PATTERNS = {"x": AT_HANDLE, "bluesky": BSKY_HANDLE, "mastodon": ACCT_HANDLE}


def qualify(platform: str, value: str) -> str:
    """The key a user id, handle or post id has in a platform's namespace (X's: as ever)."""
    return value if platform == "x" else f"{platform}\x1f{value}"


def norm(handle: str) -> str:
    return handle.lstrip("@").lower()


AMBIGUOUS_NAME = "[REDACTED name]"


@dataclass
class Pseudonyms:
    """One pseudonym per third-party person and per post.

    A person is keyed on their user id, or their handle where no id is known; a display name
    never makes or joins a person (two people may share one). A user object that shows an id
    and a handle together joins what was seen of each, so one person is one pseudonym
    wherever they appear. Pseudonyms are numbered in the order people were first seen."""

    posts: dict[str, str] = field(default_factory=dict)
    _parent: list[int] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)
    _handles: dict[str, int] = field(default_factory=dict)
    _names: dict[str, set[int]] = field(default_factory=dict)  # lower-cased name -> people
    _written: dict[str, None] = field(default_factory=dict)  # names as written, for text
    _group_ids: dict[int, set[str]] = field(default_factory=dict)  # a person's user ids
    _tokens: dict[int, str] | None = None
    platform: str = "x"  # the namespace ids and handles are read in (the record's platform)

    def _q(self, value: str) -> str:
        return qualify(self.platform, value)

    def _root(self, n: int) -> int:
        while self._parent[n] != n:
            self._parent[n] = self._parent[self._parent[n]]
            n = self._parent[n]
        return n

    def _join(self, a: int, b: int) -> int:
        a, b = self._root(a), self._root(b)
        if a != b:
            a, b = min(a, b), max(a, b)
            self._parent[b] = a  # the earlier-seen person keeps its place in the numbering
            self._group_ids.setdefault(a, set()).update(self._group_ids.pop(b, set()))
        return a

    def _new(self) -> int:
        n = len(self._parent)
        self._parent.append(n)
        return n

    def person(self, user_id: Any, handle: Any, name: Any) -> None:
        uid = self._q(str(user_id)) if user_id not in (None, "") else None
        h = self._q(norm(handle)) if isinstance(handle, str) and handle else None
        if not (uid or h):
            return  # a bare name identifies no one
        self._tokens = None
        by_id = self._ids.get(uid) if uid else None
        by_handle = self._handles.get(h) if h else None
        if uid is None:
            n = by_handle if by_handle is not None else self._new()
        else:
            n = by_id if by_id is not None else self._new()
            if by_handle is not None and self._root(by_handle) != self._root(n):
                others = self._group_ids.get(self._root(by_handle), set())
                if not others - {uid}:  # a handle another id holds is someone else's
                    n = self._join(n, by_handle)
            self._group_ids.setdefault(self._root(n), set()).add(uid)
        n = self._root(n)
        if uid:
            self._ids.setdefault(uid, n)
        if h:
            self._handles.setdefault(h, n)
            local = norm(handle).split("@", 1)[0] if self.platform == "mastodon" else ""
            if local and local != norm(handle):  # text mentions a local @user too
                self._handles.setdefault(self._q(local), n)
        if isinstance(name, str) and len(name.strip()) >= 4:
            self._names.setdefault(name.strip().lower(), set()).add(n)
            self._written.setdefault(name.strip())

    def alias(self, user_id: Any, other_id: Any) -> None:
        """`other_id` names the person `user_id` names (a Mastodon account's number on its
        server beside its acct)."""
        known = self._ids.get(self._q(str(user_id)))
        if known is not None and other_id not in (None, "") and not isinstance(other_id, bool):
            self._tokens = None
            self._ids.setdefault(self._q(str(other_id)), known)

    def post(self, post_id: Any) -> None:
        pid = self._q(str(post_id)) if post_id not in (None, "") else ""
        if pid and pid not in self.posts and pid not in self._ids:
            self.posts[pid] = f"[REDACTED post-{len(self.posts) + 1}]"

    # -- lookups (after the census) --------------------------------------------------------
    @property
    def people(self) -> int:
        return len(self._token_map())

    def _token_map(self) -> dict[int, str]:
        if self._tokens is None:
            roots = sorted({self._root(n) for n in range(len(self._parent))})
            self._tokens = {r: f"[REDACTED user-{i}]" for i, r in enumerate(roots, 1)}
        return self._tokens

    def _token(self, n: int | None) -> str | None:
        return None if n is None else self._token_map()[self._root(n)]

    def who(self, user_id: Any = None, handle: Any = None) -> int | None:
        """The person an id (first) or a handle names, as a stable number, or None."""
        if user_id not in (None, "") and self._q(str(user_id)) in self._ids:
            return self._root(self._ids[self._q(str(user_id))])
        if isinstance(handle, str) and self._q(norm(handle)) in self._handles:
            return self._root(self._handles[self._q(norm(handle))])
        return None

    def token_of(self, person: int | None) -> str | None:
        return self._token(person)

    def user_token(self, user_id: str) -> str | None:
        return self._token(self._ids.get(self._q(user_id)))

    def handle_token(self, handle: str) -> str | None:
        return self._token(self._handles.get(self._q(norm(handle))))

    def id_token(self, value: str) -> str | None:
        return self.user_token(value) or self.posts.get(self._q(value))

    def name_token(self, name: str, context: frozenset[int] = frozenset()) -> str | None:
        """A display name's pseudonym: its one bearer's, or (shared) the bearer the context
        names, or a mask that attributes it to no one."""
        people = {self._root(n) for n in self._names.get(name.strip().lower(), ())}
        if not people:
            return None
        if len(people) == 1:
            return self._token(next(iter(people)))
        here = people & context
        return self._token(next(iter(here))) if len(here) == 1 else AMBIGUOUS_NAME

    def shared_names(self) -> int:
        return sum(len({self._root(n) for n in v}) > 1 for v in self._names.values())

    def names_pattern(self) -> re.Pattern[str] | None:
        """Display names in free text: several words match in any case; a single word only
        as written (so a third party called "Police" does not mask the word everywhere)."""
        names = sorted(self._written, key=len, reverse=True)
        if not names:
            return None
        alternatives = [f"(?i:{re.escape(n)})" if " " in n else re.escape(n) for n in names]
        return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def user_object(d: dict[str, Any], platform: str = "x") -> tuple[Any, Any, Any] | None:
    """(id, handle, name) when a dict is a whole user: an include, a mention, an account.
    Bluesky: a profile view ({did, handle, displayName}); Mastodon: an account ({acct,
    display_name}, keyed by its acct, as records are)."""
    if platform == "bluesky":
        if isinstance(d.get("did"), str) and isinstance(d.get("handle"), str):
            return d["did"], d["handle"], d.get("displayName")
        return None
    if platform == "mastodon":
        acct = d.get("acct")
        if isinstance(acct, str) and acct:
            return acct.lower(), acct, d.get("display_name")
        return None
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

    def __init__(self, visible: Callable[[Any, Any, str], bool]) -> None:
        self._visible = visible
        self.names = Pseudonyms()

    def visible(self, user_id: Any = None, handle: Any = None) -> bool:
        """Is this id or handle, on the platform being read, one whose data stays visible?"""
        return self._visible(user_id, handle, self.names.platform)

    def read(self, rec: dict[str, Any]) -> None:
        """What follows reads `rec`: ids and handles are in its platform's namespace."""
        self.names.platform = platform_of(rec)

    def third_party(self, rec: dict[str, Any]) -> bool:
        """Is the record someone else's? Without an author, a mention or like is."""
        author = rec.get("author") or {}
        if author.get("id") or author.get("username"):
            return not self.visible(author.get("id"), author.get("username"))
        return rec.get("kind") not in OWN_KINDS

    def involved(self, rec: dict[str, Any]) -> frozenset[int]:
        """The people a record names in its metadata: whose shared display name it means."""
        self.read(rec)
        who = self.names.who
        people = {who(user_id=uid) for uid in user_ids_of(rec)}
        author = rec.get("author") or {}
        people.add(who(author.get("id"), author.get("username")))
        for m in rec.get("mentions") or ():
            if isinstance(m, dict):
                people.add(who(m.get("id"), m.get("username")))
            elif isinstance(m, str):
                people.add(who(m, m))
        people.discard(None)
        return frozenset(p for p in people if p is not None)

    def take(self, records: Iterable[dict[str, Any]]) -> None:
        records = list(records)
        for rec in records:
            self.read(rec)
            self._whole_people(rec)
        for rec in records:
            self.read(rec)
            self._references(rec)
        self.names.platform = "x"

    def _person(self, user_id: Any = None, handle: Any = None, name: Any = None) -> None:
        if not self.visible(user_id, handle):
            self.names.person(user_id, handle, name)

    def _whole_people(self, value: Any) -> None:
        if isinstance(value, dict):
            user = user_object(value, self.names.platform)
            if user:
                self._person(*user)
                if self.names.platform == "mastodon" and isinstance(value.get("id"), (str, int)):
                    self.names.alias(user[0], value["id"])
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
        with_parties(rec)
        replied_to = rec.get("in_reply_to_user_id")
        if rec.get("in_reply_to_id") and replied_to and not self.visible(replied_to, None):
            self.names.post(rec["in_reply_to_id"])
        for uid in [replied_to, *rec["mentioned_user_ids"], *rec["participant_ids"]]:
            if uid:
                self._person(user_id=uid)
        for mention in rec.get("mentions") or ():
            if isinstance(mention, dict):
                self._person(mention.get("id"), mention.get("username"), mention.get("name"))
            elif isinstance(mention, str) and mention.isdigit() and self.names.platform == "x":
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
        # the payload is disclosed too: whatever it names must be found to be masked
        self._payload(rec.get("raw"))
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
            platform = self.names.platform
            for m in HANDLE_PATTERNS.get(platform, AT_HANDLE).finditer(value):
                self._person(handle=m.group(1))
            if platform == "x":
                for m in URL_HANDLE.finditer(value):
                    if m.group(2).lower() not in _RESERVED_PATHS:
                        self._person(handle=m.group(2))
            elif platform == "bluesky":
                for m in DID.finditer(value):
                    self._person(user_id=m.group(0))
                for m in BSKY_URL_HANDLE.finditer(value):
                    target = m.group(2)
                    if DID.fullmatch(target):
                        self._person(user_id=target)
                    else:
                        self._person(handle=target)
            elif platform == "mastodon":
                for m in ACCT_URL_HANDLE.finditer(value):
                    self._person(handle=f"{m.group(3)}@{m.group(2)}")

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
