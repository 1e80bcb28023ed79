"""JSON for tools: `/api/search`, `/api/items/<id>` for X's numeric ids and
`/api/item?id=<id>` for any id (same login and roles as the pages, read-only; routing: see
search_ui/items.py). `/healthz` lives in health.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from archiver.index import SearchIndexError
from search_ui.auth import login_required
from search_ui.backend import backend
from search_ui.items import find_item, item_document
from search_ui.params import is_item_id
from search_ui.search import BadSearch, SearchRequest

bp = Blueprint("api", __name__)


def _error(message: str, status: int) -> Any:
    return jsonify(error=message), status


@bp.route("/api/search")
@login_required
def search() -> Any:
    try:
        req = SearchRequest.from_args(request.args)
        result = req.run()
    except BadSearch as exc:
        return _error(str(exc), 400)
    except SearchIndexError as exc:
        return _error(f"the search index cannot be used: {exc}", 503)
    backend().audit.record(
        g.user.name, "search", total=result.total, via="api", **req.audit_detail()
    )
    shape = result.to_dict()  # the /api/search shape of DESIGN.md, plus deleted_at
    for hit in shape["results"]:
        del hit["score"]  # an engine detail, not part of the API
    return jsonify(shape)


@bp.route("/api/items/<item_id>")
@login_required
def item(item_id: str) -> Any:
    if not is_item_id(item_id):
        return _error(f"no item {item_id!r}: item ids are X's numbers, or /api/item?id=", 404)
    return _item(item_id)


@bp.route("/api/item")
@login_required
def item_by_id() -> Any:
    item_id = (request.args.get("id") or "").strip()
    if not is_item_id(item_id):
        return _error("no such item: not an item id of X, Bluesky or Mastodon", 404)
    return _item(item_id)


def _item(item_id: str) -> Any:
    found = find_item(item_id)
    if not found:
        return _error(f"no item {item_id} in the archive", 404)
    first = found[0]
    backend().audit.record(
        g.user.name, "view", item=first.item.key, account=first.account.username, via="api"
    )
    doc = item_document(first)
    doc["also"] = [
        {"account": f.account.username, "collection": f.item.collection} for f in found[1:]
    ]
    return jsonify(doc)
