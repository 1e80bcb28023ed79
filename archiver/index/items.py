"""An indexed item: the versions of one post (or like, follower, dm...) merged from runs.

This mirrors storage.view.merge_runs (the reference the tests compare against), but works
one record at a time from what the index stores, so an update never re-reads an account:
- versions are the distinct contents (storage.records.content_hash), ordered like the view;
  of several copies of one content the freshest (latest run) is kept, as the view does,
  whatever order the runs are applied in;
- the item knows every run that captured it (the `run:` operator);
- an item is deleted from the earliest `deleted_at` a record or a deletion event gives.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zlib
from typing import Any
from urllib.parse import urlsplit

import orjson

from archiver.index import schema as f
from archiver.timestamps import parse_iso
from storage.accountids import account_platform
from storage.records import content_hash, item_key, platform_of
from storage.view import is_edited, version_order

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _names(values: Any, *keys: str) -> list[str]:
    """Entity lists arrive as strings or as objects (API entities); keep the names."""
    out: list[str] = []
    for value in values or ():
        if isinstance(value, dict):
            value = next((value[k] for k in keys if value.get(k)), None)
        if value:
            out.append(str(value))
    return out


def project(rec: dict[str, Any], run_id: str) -> dict[str, Any]:
    """What the index keeps of a record (not raw, metrics or provenance)."""
    author = rec.get("author") or {}
    projected = {
        "id": str(rec["id"]),
        "kind": rec.get("kind"),
        "account": rec.get("account"),
        "author": {k: author.get(k) for k in ("id", "username", "name") if author.get(k)},
        "created_at": rec.get("created_at"),
        "text": rec.get("text") or "",
        "lang": rec.get("lang"),
        "conversation_id": rec.get("conversation_id"),
        "in_reply_to_id": rec.get("in_reply_to_id"),
        "hashtags": [h.lstrip("#") for h in _names(rec.get("hashtags"), "tag", "text")],
        "mentions": [m.lstrip("@") for m in _names(rec.get("mentions"), "username", "screen_name")],
        "urls": _names(rec.get("urls"), "expanded_url", "expanded", "url"),
        # a media reference counts even when the source did not say its type
        "media": [
            (m.get("type") or "unknown") if isinstance(m, dict) else str(m)
            for m in rec.get("media") or ()
        ],
        "edit_history_ids": [str(i) for i in rec.get("edit_history_ids") or ()],
        "deleted_at": rec.get("deleted_at"),
        "captured_at": rec.get("captured_at"),
        "run_id": rec.get("run_id") or run_id,
        "hash": content_hash(rec)[:20],
    }
    platform = platform_of(rec)
    if platform != "x":  # X's stored state stays as it was (and as small)
        projected["platform"] = platform
    return projected


def version_key(account_id: str, collection: str, version_id: str) -> str:
    """The index key an item has when `version_id` is its first id: "<id>/<collection>/
    <account id>". The id comes first so that `id:` is a prefix of the key."""
    return f"{version_id}/{collection}/{account_id}"


def item_key_of(account_id: str, collection: str, rec: dict[str, Any]) -> str:
    return version_key(account_id, collection, item_key(rec))


def split_key(key: str) -> tuple[str, str, str]:
    """(item id, collection, account id) of an index key; the id may hold slashes."""
    item_id, collection, account_id = key.rsplit("/", 2)
    return item_id, collection, account_id


def item_id_of(key: str) -> str:
    return split_key(key)[0]


def id_term(item_id: str) -> str:
    """The term an id is under in the IDS field (a lowercased keyword field)."""
    return item_id.lower()


def account_number(account_id: str) -> int:
    """The account facet column's value: X's numeric id, else a negative 56-bit hash of
    the qualified id (never an X id, never 0: 0 is "no account")."""
    if account_id.isdigit():
        return int(account_id)
    digest = hashlib.blake2b(account_id.encode(), digest_size=7).digest()
    return -1 - int.from_bytes(digest, "big")


def epoch_seconds(iso: str | None) -> int | None:
    if not iso:
        return None
    try:
        ts = parse_iso(iso)
    except ValueError:
        return None
    return int((ts - _EPOCH).total_seconds())


_SNOWFLAKE_EPOCH_MS = 1288834974657


def date_order(created: int, item_id: str) -> int:
    """Seconds, then (for X ids) the millisecond the id was made and its sequence bits."""
    if item_id.isdigit() and int(item_id) >> 22:
        snowflake = int(item_id)
        millis = ((snowflake >> 22) + _SNOWFLAKE_EPOCH_MS) % 1000
        tie = (millis << 10) | (snowflake & 0x3FF)
    else:
        tie = zlib.crc32(item_id.encode()) & ((1 << f.TIE_BITS) - 1)
    return (max(created, 0) << f.TIE_BITS) | tie


# -- the stored state, compact ------------------------------------------------------------
# The state is most of the index's bytes (43% at 100k posts as JSON objects). Stored compact:
# each version a row of its values in the projection's key order (no key names), and the
# values the key and the state already say (the item id, the handle, the account id, the run
# among the item's runs, captured_at equal to created_at, an edit chain of the item alone) as
# small numbers. Whoosh compresses each document's stored fields (zlib), so the row is not
# compressed here. A state that would not read back equal is stored as plain JSON; both
# forms read (an index written before this reads on, its documents as they are).
_ROW_LAYOUTS: dict[int, tuple[str, ...]] = {}


def _layout_of(keys: tuple[str, ...]) -> int:
    tag = zlib.crc32(",".join(keys).encode()) & 0xFFFF
    _ROW_LAYOUTS.setdefault(tag, keys)
    return tag


# the projection's keys when this form was made (kept readable if project() gains a field)
_layout_of(
    (
        "id", "kind", "account", "author", "created_at", "text", "lang", "conversation_id",
        "in_reply_to_id", "hashtags", "mentions", "urls", "media", "edit_history_ids",
        "deleted_at", "captured_at", "run_id", "hash",
    )
)  # fmt: skip
_ROW_KEYS = tuple(project({"id": "0"}, "0"))
_ROW_TAG = _layout_of(_ROW_KEYS)
_AUTHOR_KEYS = ("id", "username", "name")
_AUTHOR_KEYS_SET = frozenset(_AUTHOR_KEYS)
_NOTHING = object()
_IMPLIED: dict[str, Any] = {
    "captured_at": lambda v: v["created_at"] if v["created_at"] is not None else _NOTHING,
    "edit_history_ids": lambda v: [v["id"]],
}


# names whose small numbers _unrow reads as their own (a run, "as created", "the item alone")
_OWN_NUMBERS = frozenset(("run_id", *_IMPLIED))


# where project()'s values are in a row: texts (or None) read as they are, lists of texts
_AT = {name: i for i, name in enumerate(_ROW_KEYS)}
_LISTS_AT = tuple(_AT[n] for n in ("hashtags", "mentions", "urls", "media"))
_TEXTS_AT = tuple(
    i
    for name, i in _AT.items()
    if name not in _OWN_NUMBERS and name != "author" and i not in _LISTS_AT
)
_AUTHOR_AT, _RUN_AT = _AT["author"], _AT["run_id"]
_CAPTURED_AT, _EDITS_AT = _AT["captured_at"], _AT["edit_history_ids"]


def _row(version: dict[str, Any], context: dict[str, int], runs: list[str]) -> tuple[Any, bool]:
    """A version's row, and whether it surely reads back equal: every value text, None, a
    boolean, a list of texts or an author of texts (the shape project() gives), and no
    number standing for a text where _unrow reads a number otherwise. A version of
    project()'s shape and types (nearly all) takes the straight path; any other, the loop
    of `_row_of_any` (the same row)."""
    if tuple(version) != _ROW_KEYS:
        return version, False  # a version of another shape is kept whole
    row = list(version.values())
    author = row[_AUTHOR_AT]
    if not (
        type(author) is dict
        and _AUTHOR_KEYS_SET.issuperset(author)
        and all(type(v) is str for v in author.values())
    ):
        return _row_of_any(version, context, runs)
    for i in _LISTS_AT:
        if type(row[i]) is not list or not all(type(v) is str for v in row[i]):
            return _row_of_any(version, context, runs)
    get = context.get
    for i in _TEXTS_AT:
        value = row[i]
        if type(value) is str:
            row[i] = get(value, value)
        elif value is not None:
            return _row_of_any(version, context, runs)
    row[_AUTHOR_AT] = [get(v, v) if v is not None else v for v in map(author.get, _AUTHOR_KEYS)]
    exact = True
    run = row[_RUN_AT]
    if run in runs:
        row[_RUN_AT] = runs.index(run)
    elif type(run) is str:
        row[_RUN_AT] = get(run, run)
        exact = type(row[_RUN_AT]) is str  # a key's text numbered where a run is read
    elif run is not None:
        return _row_of_any(version, context, runs)
    captured = row[_CAPTURED_AT]
    if captured == _IMPLIED["captured_at"](version):
        row[_CAPTURED_AT] = 0
    elif type(captured) is str:
        row[_CAPTURED_AT] = get(captured, captured)
        exact = exact and type(row[_CAPTURED_AT]) is str
    elif captured is not None:
        return _row_of_any(version, context, runs)
    edits = row[_EDITS_AT]
    if edits == _IMPLIED["edit_history_ids"](version):
        row[_EDITS_AT] = 0
    elif type(edits) is not list or not all(type(v) is str for v in edits):
        return _row_of_any(version, context, runs)
    return row, exact


def _row_of_any(
    version: dict[str, Any], context: dict[str, int], runs: list[str]
) -> tuple[Any, bool]:
    """_row of a version of project()'s keys with values of any type."""
    row: list[Any] = []
    exact = True
    for name, value in version.items():
        kind = type(value)
        if name == "author" and isinstance(value, dict):
            exact = (
                exact
                and kind is dict
                and _AUTHOR_KEYS_SET.issuperset(value)
                and all(type(v) is str for v in value.values())
            )
            value = [
                context.get(v, v) if isinstance(v, str) else v
                for v in (value.get(k) for k in _AUTHOR_KEYS)
            ]
        elif name == "run_id" and value in runs:
            value = runs.index(value)
        elif name in _IMPLIED and value == _IMPLIED[name](version):
            value = 0  # captured when created; an edit chain of the item alone
        elif isinstance(value, str):
            value = context.get(value, value)
            exact = exact and kind is str and (type(value) is str or name not in _OWN_NUMBERS)
        elif value is not None and kind is not bool:
            exact = (
                exact and kind is list and name != "author" and all(type(v) is str for v in value)
            )
        row.append(value)
    return row, exact


def _unrow(row: Any, names: tuple[str, ...], values: list[str], runs: list[str]) -> Any:
    if isinstance(row, dict):
        return row
    version = dict(zip(names, row, strict=True))
    for name, value in version.items():
        if name == "author" and isinstance(value, list):
            version[name] = {
                k: values[v] if type(v) is int else v
                for k, v in zip(_AUTHOR_KEYS, value, strict=True)
                if v is not None
            }
        elif type(value) is not int:
            continue
        elif name == "run_id":
            version[name] = runs[value]
        elif name == "captured_at":
            version[name] = version["created_at"]
        elif name == "edit_history_ids":
            version[name] = [version["id"]]
        else:
            version[name] = values[value]
    return version


def encode_state(key: str, state: dict[str, Any]) -> bytes:
    """The stored form of an item's state (see above); `decode_state` reads it back."""
    item_id, _, account_id = split_key(key)
    values = [item_id, state["a"] or "", account_id]
    context = {v: i for i, v in reversed(list(enumerate(values))) if v}
    runs = state["r"]
    rows = []
    exact = _plain_top(state)
    for version in state["v"]:
        row, same_row = _row(version, context, runs)
        rows.append(row)
        exact = exact and same_row
    compact = [_ROW_TAG, state["a"], rows, state["d"], runs]
    if "m" in state:
        compact.append(state["m"])
    data = orjson.dumps(compact)
    if exact:
        return data  # reads back equal by construction: no need to read it back
    try:
        same = decode_state(key, data) == state
    except (IndexError, KeyError, TypeError, ValueError):
        same = False
    # a value that would read back otherwise (a number where text belongs): kept as it is
    return data if same else orjson.dumps(state)


def _plain_top(state: dict[str, Any]) -> bool:
    """Whether the state's own parts read back as they are (texts or None, runs texts)."""
    member = state.get("m")
    return (
        len(state) == 4 + ("m" in state)
        and type(state["v"]) is list
        and all(v is None or type(v) is str for v in (state["a"], state["d"]))
        and type(state["r"]) is list
        and all(type(r) is str for r in state["r"])
        and (
            member is None
            or (type(member) is list and all(v is None or type(v) is str for v in member))
        )
    )


def decode_state(key: str, data: bytes) -> dict[str, Any]:
    loaded = orjson.loads(data)
    if isinstance(loaded, dict):
        return loaded  # the plain form
    tag, account, rows, deleted, runs, *member = loaded
    item_id, _, account_id = split_key(key)
    values = [item_id, account or "", account_id]
    names = _ROW_LAYOUTS[tag]
    state: dict[str, Any] = {
        "a": account,
        "v": [_unrow(row, names, values, runs) for row in rows],
        "d": deleted,
        "r": runs,
    }
    if member:
        state["m"] = member[0]
    return state


class IndexedItem:
    """One document of the index, built up from records and deletion events."""

    __slots__ = (
        "key",
        "account_id",
        "collection",
        "account",
        "versions",
        "deleted_at",
        "runs",
        "docnum",
        "member",
    )

    def __init__(
        self,
        key: str,
        account: str,
        versions: list[dict[str, Any]] | None = None,
        deleted_at: str | None = None,
        runs: list[str] | None = None,
        docnum: int | None = None,
        member: list[str | None] | None = None,
    ) -> None:
        self.key = key
        _, self.collection, self.account_id = split_key(key)
        self.account = account
        self.versions = versions or []
        self.deleted_at = deleted_at
        self.runs = runs or []
        self.docnum = docnum  # where it is in the committed index, if it is there
        # a follower/following: [date of its latest-dated gained/lost event, ended at or None]
        self.member = member

    @property
    def id(self) -> str:
        return item_id_of(self.key)

    @property
    def latest(self) -> dict[str, Any]:
        return self.versions[-1]

    @property
    def platform(self) -> str:
        """x, bluesky or mastodon: what the records say, else what the account id says."""
        return str(self.latest.get("platform") or account_platform(self.account_id))

    @property
    def edited(self) -> bool:
        return is_edited(self.versions)

    def version_ids(self) -> set[str]:
        ids = {v["id"] for v in self.versions}
        for v in self.versions:
            ids.update(v["edit_history_ids"])
        return ids

    # -- merging ---------------------------------------------------------------------------
    def add(self, version: dict[str, Any]) -> bool:
        """Merge one record's projection; True when the document changes."""
        changed = self.delete(version.get("deleted_at"))
        run = version["run_id"]
        if run not in self.runs:
            self.runs.append(run)
            self.runs.sort()
            changed = True
        for i, known in enumerate(self.versions):
            if known["hash"] == version["hash"]:
                if run >= known["run_id"] and _indexed(version) != _indexed(known):
                    self.versions[i] = version
                    self.versions.sort(key=version_order)
                    changed = True
                break
        else:
            self.versions.append(version)
            self.versions.sort(key=version_order)
            changed = True
        self.account = self.latest.get("account") or self.account
        return changed

    def delete(self, at: str | None) -> bool:
        if not at or (self.deleted_at and self.deleted_at <= at):
            return False
        self.deleted_at = at
        return True

    def change_membership(self, at: str | None, gained: bool) -> bool:
        """Apply a gained/lost event; the latest-dated one says whether the membership holds
        (see archiver/memberships.py), whatever order the runs arrived in."""
        if not at or (self.member and self.member[0] and at < self.member[0]):
            return False
        before = self.member
        self.member = [at, None if gained else at]
        return before is None or before[1] != self.member[1]

    @property
    def ended_at(self) -> str | None:
        return self.member[1] if self.member else None

    # -- storing ---------------------------------------------------------------------------
    def stored(self) -> bytes:
        state: dict[str, Any] = {
            "a": self.account,
            "v": self.versions,
            "d": self.deleted_at,
            "r": self.runs,
        }
        if self.member:
            state["m"] = self.member
        return encode_state(self.key, state)

    @classmethod
    def from_stored(cls, key: str, data: bytes, docnum: int | None = None) -> IndexedItem:
        state = decode_state(key, data)
        return cls(key, state["a"], state["v"], state["d"], state["r"], docnum, state.get("m"))

    def document(self) -> dict[str, Any]:
        """The fields whoosh indexes for this item (see schema.py for what each means)."""
        latest = self.versions[-1]
        item_id = self.id
        kind = latest.get("kind") or ""
        author = latest.get("author") or {}
        texts = list(dict.fromkeys(v["text"] for v in reversed(self.versions) if v["text"]))
        if kind in f.PEOPLE_KINDS:
            texts += [author.get("name") or "", author.get("username") or ""]
        created = epoch_seconds(latest.get("created_at"))
        conversation = latest.get("conversation_id") or ""
        doc: dict[str, Any] = {
            f.KEY: self.key,
            # the item's own id is in its key: only other ids of the edit chain here, and
            # the own id when it is not X's (a key prefix cannot find it exactly)
            f.IDS: " ".join(sorted(self.version_ids() - {item_id} | self._own_id_term(item_id))),
            f.TEXT: f.LINK.sub(" ", "\n".join(t for t in texts if t)),
            f.ACCOUNT: f"{self.account or ''} {self.account_id}".strip(),
            f.KIND: kind,
            f.PLATFORM: self.platform,
            f.AUTHOR: " ".join(filter(None, (author.get("username"), author.get("id")))),
            f.TO: " ".join(_addressees(latest)),
            f.HASHTAGS: " ".join(latest["hashtags"]),
            f.MENTIONS: " ".join(latest["mentions"]),
            f.URLS: " ".join(_url_terms(latest["urls"])),
            f.HAS: " ".join(_has(latest)),
            f.IS: " ".join(self._flags()),
            f.LANG: latest.get("lang") or "",
            # a thread's first post needs no term: conversation: also looks up the key
            f.CONVERSATION: "" if conversation == item_id else conversation,
            f.RUN: " ".join(self.runs),
            f.ACCOUNT_NUM: account_number(self.account_id),
            f.KIND_NUM: f.KIND_NUMBER.get(kind, 0),
            f.STATE: self.stored(),
        }
        if created is not None:
            doc[f.CREATED] = date_order(created, item_id)
        return {k: v for k, v in doc.items() if v != ""}

    @staticmethod
    def _own_id_term(item_id: str) -> set[str]:
        return set() if item_id.isdigit() else {item_id}

    def _flags(self) -> list[str]:
        flags = []
        if self.deleted_at:
            flags.append("deleted")
        if self.ended_at:
            flags.append("ended")
        if self.edited:
            flags.append("edited")
        kind = self.latest.get("kind")
        if kind in ("reply", "quote", "repost"):
            flags.append(kind)
        elif self.latest.get("in_reply_to_id"):
            flags.append("reply")
        return flags


def _indexed(version: dict[str, Any]) -> dict[str, Any]:
    """What of a copy shows in the index (not when or in which run it was captured)."""
    return {k: v for k, v in version.items() if k not in ("captured_at", "run_id", "deleted_at")}


def _addressees(version: dict[str, Any]) -> list[str]:
    """A reply is addressed to the @handles it starts with (how X writes replies)."""
    if not version.get("in_reply_to_id") and version.get("kind") != "reply":
        return []
    out = []
    for word in version["text"].split():
        if not word.startswith("@") or len(word) < 2:
            break
        out.append(word[1:].rstrip(":,."))
    return out


# an http(s) url whose host is plain letters, digits, dots and hyphens (nearly every one):
# its host is that, lowercased, as urlsplit would say
_PLAIN_HOST = re.compile(r"https?://([A-Za-z0-9.-]+)(?=[/?#]|\Z)")


def url_host(url: str) -> str:
    """`urlsplit(url).hostname`, "" for none, and for a url urlsplit refuses ("http://[x":
    a post's urls are the sender's, and one must not stop the index)."""
    plain = _PLAIN_HOST.match(url)
    if plain is not None:
        return plain.group(1).lower()
    if "//" not in url:
        return ""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _url_terms(urls: list[str]) -> list[str]:
    terms: list[str] = []
    for url in urls:
        terms.append(url)
        host = url_host(url)
        if host:
            terms.append(host)
            if host.startswith("www."):
                terms.append(host[4:])
    return list(dict.fromkeys(terms))


def _has(version: dict[str, Any]) -> list[str]:
    has = []
    media = version["media"]
    if media:
        has.append("media")
        if any(t == "photo" for t in media):
            has.append("images")
        if any(t in ("video", "animated_gif") for t in media):
            has.append("videos")
    if version["urls"]:
        has.append("links")
    if version["hashtags"]:
        has.append("hashtags")
    if version["mentions"]:
        has.append("mentions")
    return has
