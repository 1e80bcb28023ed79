"""Subject access (SAR) exports: everything in the archive that involves one member of the
public (their posts to or about the account, mentions of them, DMs with them, the account's
replies to them), with every other third party redacted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from archiver.archive import Archive
from archiver.exports.disclosure import Disclosure, disclose, own_accounts, slug
from archiver.exports.errors import ExportError
from archiver.exports.items import ExportItem, collector_paused_during, load_scope, sort_items
from archiver.exports.redaction import RedactionProfile, Redactor
from archiver.exports.register import default_operator
from archiver.parties import user_ids_of
from archiver.platforms.names import handle_platform, platform_name
from storage.records import platform_of


def _subject_id(items: Iterable[ExportItem], handle: str, platform: str = "x") -> str | None:
    wanted = handle.lower()
    for item in items:
        for rec in item.versions:
            if platform_of(rec) != platform:
                continue
            author = rec.get("author") or {}
            if str(author.get("username") or "").lower() == wanted and author.get("id"):
                return str(author["id"])
    return None


def involves(
    rec: dict[str, Any], handle: str | None, user_id: str | None, platform: str = "x"
) -> bool:
    """Does a record involve this person: by them, to them, about them, with them? Only
    records of the person's platform can: an X user and a Mastodon account are two people."""
    if platform_of(rec) != platform:
        return False
    handle = (handle or "").lower()
    author = rec.get("author") or {}
    if user_id and str(author.get("id")) == user_id:
        return True
    if handle and str(author.get("username") or "").lower() == handle:
        return True
    for m in rec.get("mentions") or ():
        value = m if isinstance(m, str) else (m or {}).get("username") or (m or {}).get("id")
        if value and (str(value).lower() == handle or str(value) == user_id):
            return True
    for ref in rec.get("referenced") or ():
        ref_author = (ref.get("author") if isinstance(ref, dict) else None) or {}
        if user_id and str(ref_author.get("id")) == user_id:
            return True
        if handle and str(ref_author.get("username") or "").lower() == handle:
            return True
    if user_id and user_id in user_ids_of(rec):
        return True
    return (
        bool(handle)
        and re.search(rf"(?<![\w@])@{re.escape(handle)}(?!\w)", str(rec.get("text") or "").lower())
        is not None
    )


@collector_paused_during
def export_sar(
    archive: Archive,
    user: str,
    *,
    request_ref: str,
    out: str | os.PathLike[str],
    accounts: Sequence[str] = (),
    operator: str | None = None,
    replace: bool = False,
    workdir: str | os.PathLike[str] | None = None,
) -> Disclosure:
    """Everything involving one member of the public, everyone else redacted."""
    scope = load_scope(archive, accounts)
    handle = user.strip().lstrip("@")
    # the platform is in the syntax: 12345 or handle (X), did:... or a.bsky.social
    # (Bluesky), user@host (Mastodon, whose acct is its id too)
    platform = handle_platform(handle)
    if platform == "mastodon":
        handle = handle.lower()
        user_id: str | None = handle
    elif (platform == "x" and handle.isdigit()) or handle.startswith("did:"):
        user_id, handle = handle, ""
    else:
        user_id = _subject_id(scope.items, handle, platform)
    if handle.lower() in {r.username.lower() for r in scope.refs}:
        raise ExportError(
            f"@{handle} is one of the archive's own accounts, not a member of the public"
        )
    items = sort_items(
        i for i in scope.items if any(involves(r, handle, user_id, platform) for r in i.versions)
    )
    if not items:
        raise ExportError(f"nothing in the archive involves {user}")
    redactor = Redactor(
        RedactionProfile.sar(own_accounts(archive), user_id, handle or user, platform)
    )
    who = f"@{handle}" if handle else f"user id {user_id}"
    if platform != "x":
        who += f" on {platform_name(platform)}"
    record = {
        "kind": "sar",
        "request_reference": request_ref,
        "operator": operator or default_operator(),
        "subject": {
            "handle": handle or None,
            "id": user_id,
            **({"platform": platform} if platform != "x" else {}),
        },
    }
    return disclose(
        archive,
        scope,
        items,
        kind="sar",
        name=f"sar-{slug(request_ref)}",
        title=f"Subject access request {request_ref}: {who}",
        description=(
            f"Subject access disclosure for request {request_ref}: everything involving {who}"
        ),
        record=record,
        redactor=redactor,
        dm_filter=None,
        out=out,
        replace=replace,
        workdir=workdir,
    )
