"""The item page: the latest version, every earlier one with what changed, the deletion
banner, the capture history (runs), media, and the raw JSON as the source served it.

`item_document` is also the body of `GET /api/items/<id>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, render_template

from archiver.archive import AccountRef
from archiver.exports.listing import KIND_LABELS
from archiver.index import SearchIndexError
from archiver.index.searching import Hit
from archiver.parties import with_parties
from search_ui.auth import login_required
from search_ui.backend import backend
from search_ui.catalogue import FoundItem
from search_ui.markup import text_diff
from search_ui.media import item_media
from search_ui.params import is_item_id

bp = Blueprint("items", __name__)


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


@dataclass(frozen=True)
class Parent:
    """What an item replies to: the archived item, or its id and where it was on X."""

    id: str
    found: FoundItem | None
    url: str


def parent_of(latest: dict[str, Any]) -> Parent | None:
    parent_id = latest.get("in_reply_to_id")
    if not parent_id or not str(parent_id).isdigit():
        return None
    found = find_item(str(parent_id))
    # x.com resolves a post by id alone, whoever wrote it
    return Parent(str(parent_id), found[0] if found else None, status_url(str(parent_id)))


def status_url(post_id: str) -> str:
    return f"https://x.com/i/web/status/{post_id}"


def conversation(latest: dict[str, Any]) -> tuple[list[Hit], int]:
    """The conversation around an item, oldest first (its latest CONVERSATION_LIMIT posts),
    and how many there are in all; nothing when the index cannot say."""
    conv = latest.get("conversation_id")
    if not conv or not str(conv).replace("-", "").isdigit():
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
        if user_id == account.account_id:
            return f"@{account.username}"
        if user_id == str(author.get("id")) and author.get("username"):
            return f"@{author['username']}"
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
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


@bp.route("/items/<item_id>")
@login_required
def item(item_id: str) -> Any:
    if not is_item_id(item_id):
        abort(404, description="Item ids are numbers.")
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
    )
