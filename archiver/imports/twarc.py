"""twarc2 output: raw API pages (one response per line, with `__twarc` provenance) or
flattened tweets (one tweet per line with its expansions inlined), or a single saved page."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson

from archiver.errors import ArchiveFormatError
from archiver.imports.xarchive import Parsed
from archiver.timestamps import iso
from archiver.xapi_records import parse_endpoint, records_from_page


def is_twarc_jsonl(path: str) -> bool:
    """JSON text whose first object looks like an API page or a tweet (not a ZIP)."""
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip()
    if not head.startswith(b"{"):
        return False
    return any(k in head for k in (b'"data"', b'"id"', b'"__twarc"'))


def _objects(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    label = os.path.basename(path)
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveFormatError(f"{label}: not UTF-8 text (byte at offset {exc.start})") from None
    try:  # one pretty-printed page saved whole
        yield 1, orjson.loads(text)
        return
    except orjson.JSONDecodeError:
        pass
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ArchiveFormatError(f"{label}: line {n} is not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ArchiveFormatError(f"{label}: line {n} is not a JSON object")
        yield n, obj


def _as_page(obj: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(page, endpoint) for a raw page or a flattened tweet."""
    meta = obj.get("__twarc") or {}
    if "data" in obj:
        return obj, meta.get("url") or "/2/tweets"
    # flattened: the tweet's expansions are inlined; give them back as includes
    users = [u for u in (obj.get("author"), obj.get("in_reply_to_user")) if isinstance(u, dict)]
    media = (obj.get("attachments") or {}).get("media") or []
    return {"data": [obj], "includes": {"users": users, "media": media}}, meta.get(
        "url"
    ) or "/2/tweets"


def _infer_owner(pages: list[tuple[dict[str, Any], str]]) -> dict[str, str]:
    """The account a twarc file is about: the user in a /2/users/<id>/ URL, else the most
    frequent author."""
    ids: Counter[str] = Counter()
    users: dict[str, dict[str, Any]] = {}
    for page, endpoint in pages:
        for user in (page.get("includes") or {}).get("users") or []:
            users.setdefault(str(user.get("id")), user)
        route, route_ids = parse_endpoint(endpoint)
        if route.startswith("/2/users/:id/") and route_ids:
            ids[route_ids[0]] += 1000
        data = page.get("data")
        for item in data if isinstance(data, list) else [data] if data else []:
            if isinstance(item, dict) and item.get("author_id"):
                ids[str(item["author_id"])] += 1
    if not ids:
        raise ArchiveFormatError(
            "twarc file: cannot tell whose archive this is; give --account handle:id"
        )
    uid = ids.most_common(1)[0][0]
    user = users.get(uid, {})
    return {"id": uid, "username": user.get("username", uid), "name": user.get("name", "")}


def parse_twarc(path: str, *, owner: dict[str, str] | None) -> Parsed:
    pages = [_as_page(obj) for _, obj in _objects(path)]
    if not pages:
        raise ArchiveFormatError(f"{os.path.basename(path)}: empty twarc file")
    owner = owner or _infer_owner(pages)
    parsed = Parsed(owner=owner, era="twarc2", details={"era": "twarc2"})
    for page, endpoint in pages:
        captured = iso((page.get("__twarc") or {}).get("retrieved_at"))
        for error in page.get("errors") or []:
            parsed.warnings.append(
                f"partial error in source page: {error.get('detail') or error.get('title')}"
            )
        for rec in records_from_page(
            page,
            endpoint=endpoint,
            account=owner["username"],
            account_id=owner["id"],
            source="twarc",
            captured_at=captured,
        ):
            parsed.records.append((None, rec))
    parsed.files.append((os.path.basename(path), path))
    return parsed
