"""twarc2 output: raw API pages (one response per line, with `__twarc` provenance) or
flattened tweets (one tweet per line with its expansions inlined), or a single saved page."""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from archiver.errors import ArchiveFormatError
from archiver.imports.fields import (
    ID,
    NUMBER,
    OBJECT,
    REQUIRED_ID,
    TEXT,
    FieldError,
    Obj,
    _fits,
    check_shape,
)
from archiver.imports.xarchive import Parsed
from archiver.timestamps import iso
from archiver.xapi_records import ENDPOINT_KINDS, parse_endpoint, records_from_page

# The X API v2 shapes, as far as archiver.xapi_records reads them: a page is checked against
# them before its records are built, so a wrong type is one line naming the field
_ENTITIES = {
    "hashtags": [{"tag": TEXT}],
    "mentions": [{"username": TEXT}],
    "urls": [{"url": TEXT, "expanded_url": TEXT}],
}
_REFERENCES = [{"type": TEXT, "id": REQUIRED_ID}]
_USER = {
    "id": ID,
    "username": TEXT,
    "name": TEXT,
    "created_at": TEXT,
    "description": TEXT,
    "entities": {"url": _ENTITIES, "description": _ENTITIES},
    "public_metrics": OBJECT,
}
_MEDIA = {
    "media_key": ID,
    "type": TEXT,
    "url": TEXT,
    "preview_image_url": TEXT,
    "alt_text": TEXT,
    "variants": [{"content_type": TEXT, "url": TEXT, "bit_rate": NUMBER}],
}
_TWEET = {
    "id": REQUIRED_ID,
    "text": TEXT,
    "author_id": ID,
    "created_at": TEXT,
    "lang": TEXT,
    "conversation_id": ID,
    "entities": _ENTITIES,
    "note_tweet": {"text": TEXT, "entities": _ENTITIES},
    "attachments": {"media_keys": [ID], "media": [_MEDIA]},
    "referenced_tweets": _REFERENCES,
    "public_metrics": OBJECT,
    "edit_history_tweet_ids": [ID],
    "edit_history_post_ids": [ID],
    # a flattened tweet's inlined expansions
    "author": _USER,
    "in_reply_to_user": _USER,
}
_ITEMS: dict[str, dict[str, Any]] = {
    "tweet": _TWEET,
    "user": {**_USER, "id": REQUIRED_ID},
    "dm": {
        **_ENTITIES,
        "id": REQUIRED_ID,
        "sender_id": ID,
        "created_at": TEXT,
        "text": TEXT,
        "dm_conversation_id": ID,
        "entities": _ENTITIES,
        "attachments": {"media_keys": [ID]},
        "referenced_tweets": _REFERENCES,
    },
    "list": {
        "id": REQUIRED_ID,
        "owner_id": ID,
        "name": TEXT,
        "description": TEXT,
        "created_at": TEXT,
        "member_count": NUMBER,
        "follower_count": NUMBER,
    },
}
_USER_KINDS = ("follower", "following", "list_member", "profile")


def _whole_page(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": (item, [item]),
        "includes": {"users": [_USER], "tweets": [_TWEET], "posts": [_TWEET], "media": [_MEDIA]},
        "errors": [{"detail": TEXT, "title": TEXT}],
        "__twarc": {"url": TEXT, "retrieved_at": TEXT},
    }


# one shape object per item kind: the shape check compiles each shape once
_PAGES = {name: _whole_page(item) for name, item in _ITEMS.items()}


def _page_shape(endpoint: str) -> dict[str, Any]:
    kind = ENDPOINT_KINDS.get(parse_endpoint(endpoint)[0])
    return _PAGES["user" if kind in _USER_KINDS else kind if kind in _ITEMS else "tweet"]


def is_twarc_jsonl(path: str) -> bool:
    """JSON text whose first object looks like an API page or a tweet (not a ZIP)."""
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip()
    if not head.startswith(b"{"):
        return False
    return any(k in head for k in (b'"data"', b'"id"', b'"__twarc"'))


def _lines(path: str) -> Iterator[tuple[dict[str, Any], int]]:
    """Each JSON object of the file with its entry number (its line, or 1 for the one
    pretty-printed page)."""
    label = os.path.basename(path)
    with open(path, "rb") as fh:
        first = fh.readline()
        if first.strip() == b"{":  # one page saved with indentation: small, read whole
            yield _load(first + fh.read(), label, "the file"), 1
            return
        for n, line in enumerate(itertools.chain([first], fh), 1):
            if line.strip():
                yield _load(line, label, f"line {n}"), n


def _objects(path: str) -> Iterator[tuple[dict[str, Any], str, str | None]]:
    """Each page of the file as (page, endpoint, retrieved at), its shape checked."""
    label = os.path.basename(path)
    for obj, n in _lines(path):
        yield _checked(obj, label, n)


# what the first pass (whose file is it?) reads, a part of the whole page's shape: a page
# that fits it is checked whole by the second pass, before its records are built
_OWNER_USER = {"id": ID, "username": TEXT, "name": TEXT}
_OWNER_PAGE = {
    "data": ([OBJECT], OBJECT),
    "includes": {"users": [_OWNER_USER]},
    "__twarc": {"url": TEXT},
}
_OWNER_FLAT = {
    "author": _OWNER_USER,
    "in_reply_to_user": _OWNER_USER,
    "attachments": OBJECT,  # _as_page reads its media
    "__twarc": {"url": TEXT},
}


def _owner_pages(path: str) -> Generator[tuple[dict[str, Any], str, str | None], None, None]:
    """The pages for `_infer_owner`, checked only for the fields it reads (the whole-page
    check was most of the first pass's CPU); one that fails is checked whole, which names
    the bad field as before."""
    label = os.path.basename(path)
    for obj, n in _lines(path):
        if _fits(obj, _OWNER_PAGE if "data" in obj else _OWNER_FLAT):
            meta = obj.get("__twarc") or {}
            yield _as_page(obj), meta.get("url") or "/2/tweets", None
        else:
            yield _checked(obj, label, n)


def _checked(obj: dict[str, Any], label: str, entry: int) -> tuple[dict[str, Any], str, str | None]:
    try:
        meta = Obj(obj).obj("__twarc")
        endpoint = meta.text("url") or "/2/tweets"
        check_shape(obj, _page_shape(endpoint) if "data" in obj else _ITEMS["tweet"])
        retrieved = meta.time("retrieved_at")
    except FieldError as exc:
        raise exc.at(label, entry) from None
    return _as_page(obj), endpoint, retrieved


def _load(data: bytes, label: str, where: str) -> dict[str, Any]:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "utf-8" in str(exc).lower():
            raise ArchiveFormatError(f"{label}: {where} is not UTF-8 text") from None
        raise ArchiveFormatError(f"{label}: {where} is not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise ArchiveFormatError(f"{label}: {where} is not a JSON object")
    return obj


def _as_page(obj: dict[str, Any]) -> dict[str, Any]:
    """The page of a raw page or a flattened tweet (its shape already checked)."""
    if "data" in obj:
        return obj
    # flattened: the tweet's expansions are inlined; give them back as includes
    users = [u for u in (obj.get("author"), obj.get("in_reply_to_user")) if isinstance(u, dict)]
    media = (obj.get("attachments") or {}).get("media") or []
    return {"data": [obj], "includes": {"users": users, "media": media}}


class _Owners:
    """Whose file it is: the user in a /2/users/<id>/ URL, else the most frequent author."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.users: dict[str, dict[str, Any]] = {}

    def add(self, page: dict[str, Any], endpoint: str) -> None:
        for user in (page.get("includes") or {}).get("users") or []:
            self.users.setdefault(str(user.get("id")), user)
        route, route_ids = parse_endpoint(endpoint)
        if route.startswith("/2/users/:id/") and route_ids:
            self.ids[route_ids[0]] += 1000
        data = page.get("data")
        for item in data if isinstance(data, list) else [data] if data else []:
            if isinstance(item, dict) and item.get("author_id"):
                self.ids[str(item["author_id"])] += 1

    def owner(self) -> dict[str, str]:
        if not self.ids:
            raise ArchiveFormatError(
                "twarc file: cannot tell whose archive this is; give --account handle:id"
            )
        uid = self.ids.most_common(1)[0][0]
        return _named(uid, self.users.get(uid, {}))


def _named(uid: str, user: dict[str, Any]) -> dict[str, str]:
    return {"id": uid, "username": user.get("username") or uid, "name": user.get("name") or ""}


def _infer_owner(pages: Iterable[tuple[dict[str, Any], str, str | None]]) -> dict[str, str]:
    """The account a twarc file is about (`_Owners`), from a pass over all its pages."""
    owners = _Owners()
    for page, endpoint, _retrieved in pages:
        owners.add(page, endpoint)
    return owners.owner()


class OwnerGuessed(Exception):  # noqa: N818 - not an error: a signal to import again
    """The records pass counted another owner than `_guess_owner` guessed: the run is
    abandoned (nothing written) and the file imported again for `owner`."""

    def __init__(self, owner: dict[str, str]) -> None:
        super().__init__(f"twarc file: the owner is {owner['id']}, not the guess")
        self.owner = owner


# the id of a /2/users/<id>/... request in a line's `__twarc` provenance, found in the raw
# line; only a guess (the records pass checks it), so no line is parsed twice to find it
_ROUTE_ID = re.compile(rb'"__twarc":\s*\{[^{}]*?"url":\s*"[^"]*?/2/users/(\d+)/')
_NAMING_LINES = 3  # the owner's user object is looked for in this many first lines


def _guess_owner(path: str) -> dict[str, str] | None:
    """`_infer_owner`'s likely answer without a pass that parses every line: the most frequent
    /2/users/<id>/ of the lines' URLs, named by the first of the first few lines that includes
    that user. None (no guess: the whole first pass) when the raw lines do not tell or the
    first lines do not name it; a wrong guess costs a second import, never a wrong one."""
    ids: Counter[bytes] = Counter()
    with open(path, "rb") as fh:
        first = fh.readline()
        if first.strip() == b"{":
            return None  # one page saved with indentation
        for line in itertools.chain([first], fh):
            if match := _ROUTE_ID.search(line):
                ids[match.group(1)] += 1
    if not ids:
        return None
    uid = ids.most_common(1)[0][0].decode()
    pages = _owner_pages(path)
    try:
        for page, _endpoint, _retrieved in itertools.islice(pages, _NAMING_LINES):
            for user in (page.get("includes") or {}).get("users") or []:
                if str(user.get("id")) == uid:
                    return _named(uid, user)
    except ArchiveFormatError:
        return None  # the first pass names the line
    finally:
        pages.close()
    return None


# a page of `twarc2 followers` / `twarc2 following`: found in the raw line before parsing it,
# so a file of mentions is not parsed twice for the walks it does not hold
_MEMBERSHIP_PAGE = re.compile(rb'"url":\s*"[^"]*/2/users/(\d+)/(followers|following)[?"]')


def complete_walks(path: str, owner_id: str) -> tuple[dict[str, str], list[str]]:
    """The owner's follower and following lists the file holds whole: a walk from a first page
    (no pagination_token) along each page's meta.next_token to a last page (none), as
    `twarc2 followers` writes it. {collection: when the walk started}, and warnings."""
    pages: dict[str, list[tuple[str | None, str | None, str | None]]] = {}
    with open(path, "rb") as fh:
        for line in fh:
            match = _MEMBERSHIP_PAGE.search(line)
            if not match or match.group(1).decode() != str(owner_id):
                continue
            try:
                page = orjson.loads(line)
                meta = page.get("__twarc") or {}
                query = parse_qs(urlsplit(str(meta.get("url") or "")).query)
                tokens = query.get("pagination_token")
                token = tokens[0] if tokens else None
                following = (page.get("meta") or {}).get("next_token")
                when = iso(meta.get("retrieved_at"))
            except (orjson.JSONDecodeError, AttributeError, ValueError, OverflowError):
                continue  # the records pass names the line
            pages.setdefault(match.group(2).decode(), []).append((token, following, when))
    walks: dict[str, str] = {}
    warnings: list[str] = []
    for collection, found in pages.items():
        by_token = {token: (nxt, when) for token, nxt, when in found if token}
        complete: list[str] = []
        for token, nxt, when in found:
            if token is not None or not when:
                continue
            seen, step = 0, nxt
            while step and step in by_token and seen <= len(by_token):
                step, seen = by_token[step][0], seen + 1
            nxt = step
            if not nxt:
                complete.append(when)
        if len(complete) == 1:
            walks[collection] = complete[0]
        elif complete:
            warnings.append(
                f"{len(complete)} complete walks of {collection} in one file: its records are"
                " kept, but not as the list at one moment (import each walk's file on its own)"
            )
        else:
            warnings.append(
                f"the {collection} pages do not run from a first to a last page: kept as"
                " records, not as the whole list (no followers gained or lost are worked out)"
            )
    return walks, warnings


def parse_twarc(path: str, *, owner: dict[str, str] | None) -> Parsed:
    """Whose file it is: given, guessed from the raw lines (checked while the records are
    read, in the one pass that parses every line), or else from a first pass."""
    guessed = False
    if owner is None:
        owner = _guess_owner(path)
        guessed = owner is not None
        if owner is None:
            owner = _infer_owner(_owner_pages(path))
    parsed = Parsed(owner=owner, era="twarc2", details={"era": "twarc2"})
    parsed.snapshots, walk_warnings = complete_walks(path, owner["id"])
    parsed.warnings.extend(walk_warnings)
    parsed.records = _records(path, parsed, guessed)
    parsed.files.append((os.path.basename(path), path))
    return parsed


def _records(
    path: str, parsed: Parsed, guessed: bool = False
) -> Iterator[tuple[str | None, dict[str, Any]]]:
    owner = parsed.owner
    owners = _Owners() if guessed else None
    try:
        for page, endpoint, captured in _objects(path):
            if owners is not None:
                owners.add(page, endpoint)
            for error in page.get("errors") or []:
                detail = error.get("detail") or error.get("title")
                parsed.warnings.append(f"partial error in source page: {detail}")
            for rec in records_from_page(
                page,
                endpoint=endpoint,
                account=owner["username"],
                account_id=owner["id"],
                source="twarc",
                captured_at=captured,
            ):
                yield None, rec
    except ArchiveFormatError as exc:
        if not guessed:
            raise
        failed: ArchiveFormatError | None = exc
    else:
        failed = None
    if failed is not None:
        # without the guess, the first pass would have met its errors first: the same line
        _infer_owner(_owner_pages(path))
        raise failed
    if owners is not None and owners.owner() != owner:
        raise OwnerGuessed(owners.owner())
