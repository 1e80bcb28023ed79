"""The accounts page: each archived account, its runs, its last good run, items by kind."""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from archiver.archive import AccountRef
from archiver.capture.reconcile import reconcile
from archiver.followers import Review, ReviewError, mark_done, review, snapshots
from archiver.index import SearchIndexError
from search_ui.auth import login_required
from search_ui.backend import backend
from search_ui.forms import ConfirmForm

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


def _safe(name: str) -> str:
    """A handle as a file name in a header (Mastodon's have `@`, Bluesky's dots)."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", name)[:120]


def _account(handle: str) -> AccountRef:
    ref = backend().archive.find_account(handle)
    if ref is None:
        abort(404, description=f"No account @{handle.lstrip('@')} in the archive.")
    return ref


@bp.route("/accounts/<handle>")
@login_required
def account(handle: str) -> Any:
    """One account: its completeness report (archiver reconcile) and its follower review."""
    be = backend()
    ref = _account(handle)
    report = reconcile(be.archive.store, ref.account_id)
    chosen, problem = _chosen_runs(), None
    try:
        shown = review(be.archive, ref, **chosen)
    except ReviewError as exc:  # a stale or hand-made link: say so, show the default review
        chosen, problem = {}, str(exc).replace("--from-run", "From").replace("--to-run", "To")
        shown = review(be.archive, ref)
    return render_template(
        "account.html",
        ref=ref,
        report=report,
        review=shown,
        lists=list(reversed(snapshots(be.archive, ref))),
        chosen=chosen,
        problem=problem,
        done_form=ConfirmForm(),
    )


def _chosen_runs() -> dict[str, Any]:
    """The two follower lists the page compares (?from_run=&to_run=), where chosen."""
    return {k: v for k in ("from_run", "to_run") if (v := request.args.get(k, "").strip())}


def _chosen_review(ref: AccountRef) -> Review:
    """The review of the lists the page chose; a bad choice is a 400 naming it."""
    try:
        return review(backend().archive, ref, **_chosen_runs())
    except ReviewError as exc:
        abort(400, description=str(exc))


@bp.route("/accounts/<handle>/review.csv")
@login_required
def review_csv(handle: str) -> Any:
    """The follower review as CSV for the communications team (the lists the page chose)."""
    ref = _account(handle)
    body = _chosen_review(ref).csv()
    return Response(
        body.encode("utf-8-sig"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={_safe(ref.username)}-follower-review.csv"
        },
    )


@bp.route("/accounts/<handle>/review.json")
@login_required
def review_json(handle: str) -> Any:
    """The follower review as `archiver followers review --json` gives it (times in UTC)."""
    return jsonify(_chosen_review(_account(handle)).to_dict())


@bp.route("/accounts/<handle>/review/done", methods=("POST",))
@login_required
def review_done(handle: str) -> Any:
    """Mark the follower review completed: the audit log says who and when."""
    ref = _account(handle)
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; open the account page and try again.")
    mark_done(backend().archive, ref, g.user.name)
    flash(f"Follower review of @{ref.username} marked done by {g.user.name}.", "info")
    return redirect(url_for("accounts.account", handle=ref.username) + "#review-h")
