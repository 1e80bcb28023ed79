"""Admin pages: users (add, change role, remove), active sessions (see, end) and the audit
log with filters.

Every change is recorded in the audit log. A name in a URL is read as its one spelling
(`search_ui.users.normalise_name`), so an admin cannot remove or demote themselves here by
changing its case, and nobody can remove or demote the last admin (the users file refuses).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from archiver.audit import ACTIONS
from search_ui.auth import role_required
from search_ui.backend import backend
from search_ui.forms import AddUserForm, ConfirmForm, RoleForm
from search_ui.params import day, whole_number
from search_ui.users import ROLE_HELP, UserError, fold_name, normalise_name

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


def _other_user(typed: str) -> str:
    """The one spelling of a user name from a URL; never the admin's own."""
    try:
        name = normalise_name(typed)
    except UserError as exc:
        abort(404, description=str(exc))
    if name == g.user.name:
        abort(400, description="You cannot change your own account here; ask another admin.")
    if backend().users.get(name) is None:
        abort(404, description=f"no user {name!r}")
    return name


@bp.route("/users/<name>/role", methods=("POST",))
@role_required("admin")
def set_role(name: str) -> Any:
    name = _other_user(name)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, description="Choose a role.")
    try:
        user = backend().users.set_role(name, form.role.data)
    except UserError as exc:
        abort(409, description=str(exc))
    backend().audit.record(g.user.name, "role_changed", name=user.name, role=user.role)
    flash(f"{user.name} is now {user.role}.", "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<name>/remove", methods=("POST",))
@role_required("admin")
def remove(name: str) -> Any:
    name = _other_user(name)
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    try:
        backend().users.remove(name)
    except UserError as exc:
        abort(409, description=str(exc))
    backend().audit.record(g.user.name, "user_removed", name=name)
    flash(f"Removed {name}.", "info")
    return redirect(url_for("admin.users"))


@bp.route("/sessions")
@role_required("admin")
def sessions() -> Any:
    be = backend()
    active = be.users.sessions.active(be.idle_seconds, be.max_seconds)
    return render_template(
        "admin_sessions.html",
        sessions=active,
        confirm=ConfirmForm(),
        when=lambda t: dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


@bp.route("/sessions/<handle>/end", methods=("POST",))
@role_required("admin")
def end_session(handle: str) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    be = backend()
    ended = be.users.sessions.end_handle(handle)
    if ended is None:
        abort(404, description="That session has already ended.")
    be.audit.record(g.user.name, "session_ended", name=ended.user_name, session=handle[:12])
    flash(f"Ended a session of {ended.user_name}.", "info")
    return redirect(url_for("admin.sessions"))


@bp.route("/audit")
@role_required("admin")
def audit() -> Any:
    args = request.args
    user = fold_name(args.get("user") or "") or None
    action = (args.get("action") or "").strip() or None
    if action and action not in ACTIONS:
        abort(400, description=f"action: expected one of {', '.join(ACTIONS)}")
    first, last = day(args, "from"), day(args, "to")
    since = first.isoformat() if first else None
    # the last day counts whole: compare with the start of the next day
    until = (last + dt.timedelta(days=1)).isoformat() if last else None
    before_seq = whole_number(args, "before", None, 10**12)
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
