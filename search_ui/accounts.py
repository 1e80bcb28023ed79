"""The accounts page: each archived account, its runs, its last good run, items by kind."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from archiver.capture.reconcile import reconcile
from archiver.index import SearchIndexError
from search_ui.auth import login_required
from search_ui.backend import backend

bp = Blueprint("accounts", __name__)


def kind_counts(account_id: str) -> dict[str, int] | None:
    """Items by kind as the index holds them (None when the index cannot be read)."""
    try:
        result = backend().index.search(
            "", account=account_id, per_page=1, highlight=False, facets=True
        )
    except SearchIndexError:
        return None
    return result.facets.get("kind", {})


@bp.route("/accounts")
@login_required
def accounts() -> Any:
    be = backend()
    summaries = be.catalogue.accounts()
    rows = [(s, kind_counts(s.account.account_id)) for s in summaries]
    try:
        pending = len(be.index.pending_runs(be.archive))
    except SearchIndexError:
        pending = None
    from search_ui.health import states

    found = states() or []
    by_name = {s.account.lower(): s for s in found}
    archived = {s.account.username.lower() for s in summaries}
    unarchived = [s for s in found if s.account.lower() not in archived]
    return render_template(
        "accounts.html", rows=rows, pending=pending, states=by_name, unarchived=unarchived
    )


@bp.route("/accounts/<handle>")
@login_required
def account(handle: str) -> Any:
    """One account: its completeness report (archiver reconcile) in plain words."""
    be = backend()
    ref = be.archive.find_account(handle)
    if ref is None:
        abort(404, description=f"No account @{handle.lstrip('@')} in the archive.")
    report = reconcile(be.archive.store, ref.account_id)
    return render_template("account.html", ref=ref, report=report)
