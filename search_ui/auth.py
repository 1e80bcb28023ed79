"""Logging in and out, and the checks every other page makes: `login_required`, `role_required`.

The signed session cookie holds only a session token; the session itself is kept on the
server (`search_ui.sessions`), so logout, a password or role change, removing the user or an
admin ends it for good, and it lasts at most `ui.session_max_hours` however busy. The role
is read from the users file on every request. Pages under /api/ also take a bearer token
(`archiver users token NAME`) and answer 401/403 as JSON instead of redirecting to the login
form. `safe_next` is the one judge of where a login may send the browser.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

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
from search_ui.sessions import Session
from search_ui.users import User, UserError, fold_name, normalise_name

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def current_user() -> User | None:
    """The user of the session cookie, if its server-side session is live and still
    belongs to that user as they are now (same id, same password and role)."""
    token = session.get("sid")
    if not token:
        session.pop("user", None)  # a cookie from before server-side sessions: void
        return None
    be = backend()
    found = be.users.sessions.get(token, be.idle_seconds, be.max_seconds)
    user = be.users.get(found.user_name) if found else None
    if found is None or user is None or not _same_account(user, found):
        if found is not None:
            be.users.sessions.end(token)
        session.clear()
        return None
    return user


def _same_account(user: User, found: Session) -> bool:
    # a re-created name is another id; a new password or role is another stamp
    return user.id == found.user_id and user.session_stamp == found.stamp


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


# what a browser's URL parser drops or rewrites before it resolves a Location: tabs and
# newlines anywhere, C0 controls and spaces at either end, and "\\" read as "/"
_DROPPED = re.compile(r"[\t\n\r]")
_EDGES = "".join(chr(c) for c in range(0x21))
# what stays as typed in the Location header; everything else is percent-encoded
_LOCATION_SAFE = "/?&=#%:@!$'()*+,;~-._"


def safe_next(target: object) -> str:
    """Where to send the browser after login: `target` if it is a path on this site as the
    browser will read it, else the search page. The one owner of this decision."""
    fallback = url_for("search.search")
    if not isinstance(target, str) or not target:
        return fallback
    seen = _DROPPED.sub("", target).strip(_EDGES).replace("\\", "/")
    parts = urlsplit(seen)
    if not seen.startswith("/") or seen.startswith("//") or parts.scheme or parts.netloc:
        return fallback
    # encoded, so no byte of it can end the header or be read another way
    return quote(seen, safe=_LOCATION_SAFE)


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    form = LoginForm()
    if g.user is not None and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    if form.validate_on_submit():
        user = _check_login(form.name.data or "", form.password.data or "")
        if user is not None:
            _start_session(user)
            backend().audit.record(user.name, "login")
            return redirect(safe_next(request.args.get("next")))
    status = 401 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


def _start_session(user: User) -> None:
    be = backend()
    old = session.get("sid")
    if old:
        be.users.sessions.end(old)  # a new login never keeps an old session going
    session.clear()
    session.permanent = True
    session["sid"] = be.users.sessions.create(
        user.id,
        user.name,
        user.session_stamp,
        request.remote_addr or "",
        request.user_agent.string,
    )


def _check_login(typed_name: str, password: str) -> User | None:
    be = backend()
    try:
        name = normalise_name(typed_name)
    except UserError:
        name = fold_name(typed_name)[:64]
    address = request.remote_addr  # the client's, through ui.trusted_proxies
    wait = be.throttle.locked_for(name, address)
    if wait > 0:
        be.audit.record("-", "login_locked", name=name)
        minutes = max(1, math.ceil(wait / 60))
        flash(f"Too many failed logins. Try again in {minutes} minutes.", "error")
        return None
    user = be.users.authenticate(name, password)
    if user is None:
        be.throttle.failed(name, address)
        be.audit.record("-", "login_failed", name=name)
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
    backend().users.sessions.end(session.get("sid", ""))
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
