"""twarc2 output: raw API pages (one response per line, with `__twarc` provenance) or
flattened tweets (one tweet per line with its expansions inlined), or a single saved page."""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterable, Iterator
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


def _objects(path: str) -> Iterator[dict[str, Any]]:
    """Each JSON object of the file, line by line (or the one pretty-printed page)."""
    label = os.path.basename(path)
    with open(path, "rb") as fh:
        first = fh.readline()
        if first.strip() == b"{":  # one page saved with indentation: small, read whole
            yield _load(first + fh.read(), label, "the file")
            return
        for n, line in enumerate(itertools.chain([first], fh), 1):
            if line.strip():
                yield _load(line, label, f"line {n}")


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


def _infer_owner(pages: Iterable[tuple[dict[str, Any], str]]) -> dict[str, str]:
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
    """Whose file it is comes from a first pass; records stream in the second."""
    if owner is None:
        owner = _infer_owner(_as_page(obj) for obj in _objects(path))
    parsed = Parsed(owner=owner, era="twarc2", details={"era": "twarc2"})
    parsed.records = _records(path, parsed)
    parsed.files.append((os.path.basename(path), path))
    return parsed


def _records(path: str, parsed: Parsed) -> Iterator[tuple[str | None, dict[str, Any]]]:
    owner = parsed.owner
    for obj in _objects(path):
        page, endpoint = _as_page(obj)
        captured = iso((page.get("__twarc") or {}).get("retrieved_at"))
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
