"""Logging in and out, and the checks every other page makes: `login_required`, `role_required`.

The session cookie holds only the user's name; their role is read from the users file on
every request, so removing a user or lowering a role takes effect at once. Pages under
/api/ also take a bearer token (`archiver users token NAME`) and answer 401/403 as JSON
instead of redirecting to the login form.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from search_ui.backend import backend
from search_ui.forms import ConfirmForm, LoginForm
from search_ui.users import User, UserError, normalise_name

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def current_user() -> User | None:
    name = session.get("user")
    if not name:
        return None
    user = backend().users.get(name)
    if user is None:
        session.clear()  # removed since they logged in
    return user


def token_user() -> User | None:
    """The user of an `Authorization: Bearer <token>` header, for /api/ only: tools
    call the read-only API with a token; pages need a login."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _wants_json():
        return None
    return backend().users.user_for_token(token.strip())


@bp.before_app_request
def load_user() -> None:
    g.user = token_user() or current_user()


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if g.user is None:
            if _wants_json():
                return jsonify(error="login required"), 401
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped  # type: ignore[return-value]


def role_required(role: str) -> Callable[[F], F]:
    """Only users with `role` or a higher one; others get 403 (the server decides)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            if not g.user.can(role):
                if _wants_json():
                    return jsonify(error=f"the {role} role is needed"), 403
                abort(403, description=f"This page needs the {role} role.")
            return view(**kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorate


def _safe_next(target: str | None) -> str:
    # only a path on this site: never //host or a scheme (an open redirect)
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("search.search")


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    form = LoginForm()
    if g.user is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if form.validate_on_submit():
        user = _check_login(form.name.data or "", form.password.data or "")
        if user is not None:
            session.clear()
            session.permanent = True
            session["user"] = user.name
            backend().audit.record(user.name, "login", address=request.remote_addr)
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


def _check_login(typed_name: str, password: str) -> User | None:
    be = backend()
    try:
        name = normalise_name(typed_name)
    except UserError:
        name = typed_name.strip()[:64]
    address = request.remote_addr
    wait = be.throttle.locked_for(name, address)
    if wait > 0:
        be.audit.record("-", "login_locked", name=name, address=address)
        minutes = max(1, math.ceil(wait / 60))
        flash(f"Too many failed logins. Try again in {minutes} minutes.", "error")
        return None
    user = be.users.authenticate(name, password)
    if user is None:
        be.throttle.failed(name, address)
        be.audit.record("-", "login_failed", name=name, address=address)
        flash("Wrong user name or password.", "error")
        return None
    be.throttle.succeeded(name)
    return user


@bp.route("/logout", methods=("POST",))
def logout() -> Any:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, description="The logout form expired; reload the page and try again.")
    if g.user is not None:
        backend().audit.record(g.user.name, "logout")
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
