"""The item page: the latest version, every earlier one with what changed, the deletion
banner, the capture history (runs), media, and the raw JSON as the source served it.

`item_document` is also the body of `GET /api/items/<id>`.

Routing (ops/docs/ui.md): X's numeric ids keep their path, `/items/<id>`; every other id
(an AT URI, a status URI, a DID, an acct: slashes, colons, `@`) is a query parameter,
`/item?id=<id>`, percent-encoded by `url_for`. A query string carries any text unchanged
through proxies and WSGI servers (an encoded `%2F` in a path does not: servers decode it
or refuse it), the id is checked against the platforms' syntax (params.is_item_id) and only
ever looked up, never used as a path or as a redirect target, and every page escapes it.
`item_url` is the one place that builds either link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, g, render_template, request, url_for

from archiver.archive import AccountRef
from archiver.exports.listing import KIND_LABELS
from archiver.index import SearchIndexError
from archiver.index.searching import Hit
from archiver.parties import with_parties
from archiver.platforms.links import http_url, original_url
from archiver.platforms.names import platform_name
from search_ui.auth import login_required
from search_ui.backend import backend
from search_ui.catalogue import FoundItem
from search_ui.markup import text_diff
from search_ui.media import item_media
from search_ui.params import is_item_id, is_numeric_id
from storage.accountids import account_platform, native_id
from storage.records import platform_of

bp = Blueprint("items", __name__)


def platform_label(record: dict[str, Any]) -> str:
    return platform_name(platform_of(record))


def account_platform_label(account_id: str) -> str:
    return platform_name(account_platform(account_id))


def item_url(item_id: str, *, api: bool = False) -> str:
    """The page (or with `api`, the JSON) of an item, whatever its platform's ids look like."""
    item_id = str(item_id)
    if is_numeric_id(item_id):
        return url_for("api.item" if api else "items.item", item_id=item_id)
    return url_for("api.item_by_id" if api else "items.item_by_id", id=item_id)


def capture_history(found: FoundItem) -> list[dict[str, Any]]:
    """The runs that captured a version of the item, oldest first."""
    return [
        {
            "run_id": m.run_id,
            "kind": m.kind,
            "source": m.source,
            "started_at": m.started_at,
            "committed_at": m.committed_at,
            "tool_version": m.tool_version,
        }
        for m in found.runs
    ]


def item_document(found: FoundItem) -> dict[str, Any]:
    item = found.item
    return {
        "id": item.key,
        "platform": platform_of(item.latest),
        "original_url": original_url(item.latest),
        "account": found.account.username,
        "account_id": found.account.account_id,
        "collection": item.collection,
        "edited": item.edited,
        "deleted": item.deleted_at is not None,
        "deleted_at": item.deleted_at,
        "record": item.latest,
        "versions": item.versions,
        "capture_history": capture_history(found),
        # the archive's own copies; the platform's URLs stay in `record.media` as provenance
        "media": item_media(found),
    }


def find_item(item_id: str) -> list[FoundItem]:
    """The item from storage, read from the runs the index says captured it."""
    be = backend()
    try:
        index = be.index
    except SearchIndexError:
        index = None  # storage alone still answers, more slowly
    return be.catalogue.find(item_id, index)


CONVERSATION_LIMIT = 50
_ONE_WORD = re.compile(r"[!#-'*-~]+")


@dataclass(frozen=True)
class Parent:
    """What an item replies to: the archived item, or its id and where it was on X."""

    id: str
    found: FoundItem | None
    url: str


def parent_of(latest: dict[str, Any]) -> Parent | None:
    parent_id = str(latest.get("in_reply_to_id") or "")
    if not is_item_id(parent_id):
        return None
    found = find_item(parent_id)
    # where the parent is on its platform (x.com resolves a post by id alone)
    where = original_url({"id": parent_id, "kind": "post", "platform": platform_of(latest)})
    return Parent(parent_id, found[0] if found else None, where or "")


def conversation(latest: dict[str, Any]) -> tuple[list[Hit], int]:
    """The conversation around an item, oldest first (its latest CONVERSATION_LIMIT posts),
    and how many there are in all; nothing when the index cannot say."""
    conv = str(latest.get("conversation_id") or "")
    # an id the query language reads as one word: printable ASCII, no spaces, brackets or
    # quotes (X's numbers, AT URIs, Mastodon's `tag:host,date:objectId=N:...` conversations)
    if not conv or len(conv) > 1000 or not _ONE_WORD.fullmatch(conv):
        return [], 0
    try:
        result = backend().index.search(
            f"conversation:{conv}",
            sort="date",
            per_page=CONVERSATION_LIMIT,
            highlight=False,
            facets=False,
        )
    except SearchIndexError:
        return [], 0
    if result.total <= 1:
        return [], result.total
    return list(reversed(result.hits)), result.total


def dm_parties(latest: dict[str, Any], account: AccountRef) -> tuple[str, list[str]]:
    """A DM's sender and recipients, by handle where the archive knows it, else by id."""
    with_parties(latest)
    author = latest.get("author") or {}

    def name(user_id: str) -> str:
        # X's participants are numbers; Mastodon's accts, the account's own without its prefix
        if user_id in (account.account_id, native_id(account.account_id)):
            return f"@{account.username}"
        if user_id == str(author.get("id")) and author.get("username"):
            return f"@{author['username']}"
        if account_platform(account.account_id) == "mastodon":
            return f"@{user_id}"  # a Mastodon participant's id is its acct, a handle
        return f"user id {user_id}"

    sender_id = str(author.get("id") or "")
    sender = name(sender_id) if sender_id else "unknown"
    recipients = [name(p) for p in latest.get("participant_ids") or () if p != sender_id]
    return sender, recipients


def item_title(latest: dict[str, Any]) -> tuple[str, str | None]:
    """('Direct message', None), ('Reply', 'someone'): what the page is, in words, and whose
    (a DM names its sender and recipients below the title instead)."""
    label = KIND_LABELS.get(str(latest.get("kind")), str(latest.get("kind") or "Item"))
    author = (latest.get("author") or {}).get("username")
    return label, (None if latest.get("kind") == "dm" else author or None)


def link_or_none(url: str | None) -> str | None:
    """Only http(s) links become links: a source could carry `javascript:` URLs."""
    return http_url(url)


@bp.route("/items/<item_id>")
@login_required
def item(item_id: str) -> Any:
    if not is_numeric_id(item_id):
        # other platforms' ids are a query parameter; a DID or acct typed here still works
        if is_item_id(item_id):
            return item_page(item_id)
        abort(404, description="No such item: item ids are X's numbers, or /item?id=<id>.")
    return item_page(item_id)


@bp.route("/item")
@login_required
def item_by_id() -> Any:
    item_id = (request.args.get("id") or "").strip()
    if not is_item_id(item_id):
        abort(404, description="No such item: not an item id of X, Bluesky or Mastodon.")
    return item_page(item_id)


def item_page(item_id: str) -> Any:
    found = find_item(item_id)
    if not found:
        abort(404, description=f"No item {item_id} in the archive.")
    first = found[0]
    backend().audit.record(g.user.name, "view", item=first.item.key, account=first.account.username)
    versions = first.item.versions
    changes = [None] + [
        text_diff(versions[i - 1].get("text") or "", versions[i].get("text") or "")
        for i in range(1, len(versions))
    ]
    latest = first.item.latest
    sender, recipients = (
        dm_parties(latest, first.account) if latest.get("kind") == "dm" else ("", [])
    )
    around, around_total = conversation(latest)
    title = item_title(latest)
    return render_template(
        "item.html",
        title_label=title[0],
        title_by=title[1],
        parent=parent_of(latest),
        around=around,
        around_total=around_total,
        sender=sender,
        recipients=recipients,
        found=first,
        also=found[1:],
        item=first.item,
        latest=first.item.latest,
        versions=list(zip(versions, changes, strict=True)),
        history=capture_history(first),
        media=item_media(first),
        link_or_none=link_or_none,
        platform=platform_label(latest),
        original=original_url(latest),
    )
