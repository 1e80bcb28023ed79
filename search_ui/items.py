"""The item page: the latest version, every earlier one with what changed, the deletion
banner, the capture history (runs), media, and the raw JSON as the source served it.

`item_document` is also the body of `GET /api/items/<id>`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, render_template

from archiver.index import SearchIndexError
from search_ui.auth import login_required
from search_ui.backend import backend
from search_ui.catalogue import FoundItem
from search_ui.markup import text_diff
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
    }


def find_item(item_id: str) -> list[FoundItem]:
    """The item from storage, read from the runs the index says captured it."""
    be = backend()
    try:
        index = be.index
    except SearchIndexError:
        index = None  # storage alone still answers, more slowly
    return be.catalogue.find(item_id, index)


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
    return render_template(
        "item.html",
        found=first,
        also=found[1:],
        item=first.item,
        latest=first.item.latest,
        versions=list(zip(versions, changes, strict=True)),
        history=capture_history(first),
        link_or_none=link_or_none,
    )
