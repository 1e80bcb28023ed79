"""Health that tells the truth: `/healthz`, the admins' jobs page and their banner.

`/healthz` answers 200 only when storage and the index are reachable and every configured
account's last backup succeeded within its schedule plus grace (archiver/health.py); else
503. Without a login it says only the status and how many accounts are in each state (no
handles, run ids or times); a logged-in user also gets each account's state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, g, jsonify, render_template

from archiver.health import AccountState, account_states, counts
from archiver.index import SearchIndexError
from archiver.jobs import JobHistory
from search_ui.auth import role_required
from search_ui.backend import backend
from storage.errors import StorageError

bp = Blueprint("health", __name__)

JOBS_PAGE = 100


def states() -> list[AccountState] | None:
    """Each configured account's state; None when storage cannot be read."""
    try:
        return account_states(backend().archive)
    except StorageError:
        return None


@bp.route("/healthz")
def healthz() -> Any:
    be = backend()
    found = states()
    doc: dict[str, Any] = {"storage": "ok" if found is not None else "unreachable"}
    try:
        be.index.doc_count()
        doc["index"] = "ok"
    except (SearchIndexError, StorageError):  # the index checks it belongs to the store
        doc["index"] = "unreachable"
    doc["accounts"] = counts(found or [])
    healthy = found is not None and doc["index"] == "ok" and all(s.state == "ok" for s in found)
    doc["status"] = "ok" if healthy else "failing"
    if g.user is not None and found is not None:
        doc["details"] = [s.to_dict() for s in found]
    return jsonify(doc), 200 if healthy else 503


@bp.route("/admin/jobs")
@role_required("admin")
def jobs() -> Any:
    from archiver.schedule import next_runs

    be = backend()
    records = JobHistory(be.archive.store).recent(JOBS_PAGE)
    try:
        upcoming = next_runs(be.archive)
    except Exception:  # noqa: BLE001 - a bad [schedule] must not hide the history
        upcoming = {}
    return render_template(
        "admin_jobs.html",
        records=records,
        upcoming=upcoming,
        states=states(),
        now=dt.datetime.now(dt.UTC),
    )


def banner() -> dict[str, Any]:
    """For admins on every page: the accounts that need attention."""
    if g.get("user") is None or not g.user.can("admin"):
        return {}
    found = states()
    if found is None:
        return {"health_banner": "The archive's storage cannot be read."}
    bad = [s for s in found if s.state != "ok"]
    if not bad:
        return {}
    return {"health_banner": "; ".join(s.describe() for s in bad)}
