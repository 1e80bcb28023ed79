"""Admin pages: users (add, change role, remove) and the audit log with filters.

Every change is recorded in the audit log. An admin cannot remove or demote themselves
here, so the UI never locks its last admin out (`archiver users` can, on the server).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from archiver.audit import ACTIONS
from search_ui.auth import role_required
from search_ui.backend import backend
from search_ui.forms import AddUserForm, ConfirmForm, RoleForm
from search_ui.users import ROLE_HELP, UserError

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE = 50


@bp.route("/users", methods=("GET", "POST"))
@role_required("admin")
def users() -> Any:
    be = backend()
    form = AddUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = be.users.add(form.name.data or "", form.password.data or "", form.role.data)
        except UserError as exc:
            flash(str(exc), "error")
            status = 400
        else:
            be.audit.record(g.user.name, "user_added", name=user.name, role=user.role)
            flash(f"Added {user.name} ({user.role}).", "info")
            return redirect(url_for("admin.users"))
    elif request.method == "POST":
        status = 400
    return render_template(
        "admin_users.html",
        form=form,
        users=be.users.list(),
        role_form=RoleForm,
        confirm=ConfirmForm(),
        role_help=ROLE_HELP,
    ), status


def _not_self(name: str) -> None:
    if name == g.user.name:
        abort(400, description="You cannot change your own account here; ask another admin.")


@bp.route("/users/<name>/role", methods=("POST",))
@role_required("admin")
def set_role(name: str) -> Any:
    _not_self(name)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, description="Choose a role.")
    try:
        user = backend().users.set_role(name, form.role.data)
    except UserError as exc:
        abort(404, description=str(exc))
    backend().audit.record(g.user.name, "role_changed", name=user.name, role=user.role)
    flash(f"{user.name} is now {user.role}.", "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<name>/remove", methods=("POST",))
@role_required("admin")
def remove(name: str) -> Any:
    _not_self(name)
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    try:
        backend().users.remove(name)
    except UserError as exc:
        abort(404, description=str(exc))
    backend().audit.record(g.user.name, "user_removed", name=name)
    flash(f"Removed {name}.", "info")
    return redirect(url_for("admin.users"))


def _day_start(value: str | None, name: str) -> str | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"{name}: expected a date as YYYY-MM-DD, got {value!r}")
    return day.isoformat()


@bp.route("/audit")
@role_required("admin")
def audit() -> Any:
    args = request.args
    user = (args.get("user") or "").strip() or None
    action = (args.get("action") or "").strip() or None
    if action and action not in ACTIONS:
        abort(400, description=f"action: expected one of {', '.join(ACTIONS)}")
    since = _day_start(args.get("from"), "from")
    to = _day_start(args.get("to"), "to")
    # the last day counts whole: compare with the start of the next day
    until = (dt.date.fromisoformat(to) + dt.timedelta(days=1)).isoformat() if to else None
    before = args.get("before", "")
    before_seq = int(before) if before.isdigit() else None
    be = backend()
    events = be.audit.events(
        user=user,
        action=action,
        since=since,
        until=until,
        before=before_seq,
        limit=AUDIT_PAGE + 1,
    )
    more = len(events) > AUDIT_PAGE
    events = events[:AUDIT_PAGE]
    be.audit.record(
        g.user.name, "audit_viewed", filters={k: v for k, v in args.items() if v and k != "before"}
    )
    older = None
    if more:
        older = {k: v for k, v in args.items() if v and k != "before"}
        older["before"] = str(events[-1].seq)
    return render_template(
        "admin_audit.html",
        events=events,
        actions=ACTIONS,
        args=args,
        older=older,
        head=be.audit.head(),
    )
