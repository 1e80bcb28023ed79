"""The Flask search UI for records staff: login and roles, search, items, audit log.

    app = create_app(archive=archive)          # secret key from $ARCHIVER_SECRET_KEY
    serve(app, "127.0.0.1", 8000)

It reads the archive (storage, the index) and never calls the X API.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from typing import Any

import orjson
from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from archiver.archive import Archive
from archiver.config import Config, load_config
from archiver.errors import ArchiverError, ConfigError
from archiver.exports.listing import KIND_LABELS
from archiver.platforms.names import PLATFORM_NAMES
from archiver.timestamps import evidence_time, local_time
from archiver.wording import plural
from search_ui.backend import EXTENSION, Backend, LoginThrottle, RequestAuditLog
from search_ui.catalogue import Catalogue
from search_ui.markup import highlight_markup, visible_controls
from search_ui.serving import WorkGate, create_server
from search_ui.serving import check as check_serving
from search_ui.users import UserFile, users_path
from storage.errors import StorageError

log = logging.getLogger(__name__)

MIN_SECRET = 16
# no scripts at all, styles only from this site; forms post only here; never framed
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _secret_key(config: Config, test_config: dict[str, Any] | None) -> str:
    if test_config and test_config.get("SECRET_KEY"):
        return str(test_config["SECRET_KEY"])
    name = config.ui.secret_key_env
    value = os.environ.get(name, "")
    if len(value) < MIN_SECRET:
        what = "is not set" if not value else f"is shorter than {MIN_SECRET} characters"
        raise ConfigError(
            f"ui.secret_key_env: the environment variable {name} {what}; set it to a long "
            "random value, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return value


def create_app(
    test_config: dict[str, Any] | None = None,
    *,
    archive: Archive | None = None,
    config: Config | None = None,
) -> Flask:
    """Build the app. `archive`/`config` default to the configured archive ($ARCHIVER_CONFIG);
    `test_config` overrides Flask settings (SECRET_KEY may be passed in here)."""
    if config is None:
        config = archive.config if archive is not None else load_config()
    if archive is None:
        archive = Archive(config)
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=_secret_key(config, test_config),
        SESSION_COOKIE_NAME="archive_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.ui.cookie_secure,
        # the server ends sessions (search_ui.sessions); the cookie need not outlive them
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=config.ui.session_max_hours),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=1 << 20,
        USERS_PATH=str(users_path(config)),
        CATALOGUE_RECHECK_SECONDS=5.0,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions[EXTENSION] = Backend(
        archive=archive,
        users=UserFile(app.config["USERS_PATH"]),
        audit=RequestAuditLog(archive.store),
        catalogue=Catalogue(
            archive,
            recheck_seconds=app.config["CATALOGUE_RECHECK_SECONDS"],
            max_items=config.ui.item_cache_items,
            run_cache_mb=config.ui.run_cache_mb,
        ),
        throttle=LoginThrottle(config.ui.max_failed_logins, config.ui.lockout_minutes * 60.0),
    )
    CSRFProtect(app)
    _register(app)
    check_serving(config.ui)
    app.wsgi_app = WorkGate(  # type: ignore[method-assign]
        app.wsgi_app, config.ui.workers, config.ui.queue_timeout
    )
    if config.ui.trusted_proxies:
        # believe exactly that many hops of X-Forwarded-For/-Proto: the client's address is
        # then the real one for the login throttle and the audit log, and no more hops
        # than there are proxies can be forged by a client
        hops = config.ui.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def _register(app: Flask) -> None:
    from search_ui import accounts, admin, api, auth, exports, health, items, media, search

    for module in (auth, search, items, media, accounts, exports, admin, api, health):
        app.register_blueprint(module.bp)
    app.context_processor(health.banner)

    app.jinja_env.filters["highlight"] = lambda hit: highlight_markup(hit.highlights, hit.text)
    app.jinja_env.filters["visible"] = visible_controls
    # times people read: ui.timezone (archiver.timestamps owns the formats); evidence: + UTC
    app.jinja_env.filters["localtime"] = lambda value: local_time(
        value, app.extensions[EXTENSION].config.ui.timezone
    )
    app.jinja_env.filters["evidencetime"] = lambda value: evidence_time(
        value, app.extensions[EXTENSION].config.ui.timezone
    )
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.globals["kind_labels"] = KIND_LABELS
    app.jinja_env.globals["item_url"] = items.item_url
    app.jinja_env.globals["platform_names"] = PLATFORM_NAMES
    app.jinja_env.filters["account_platform"] = items.account_platform_label
    app.jinja_env.filters["pretty_json"] = lambda value: orjson.dumps(
        value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
    ).decode()

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not response.headers.get("Cache-Control"):
            # pages show records and who saw them: never keep them in shared caches
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return _error_page(
            400, "The form expired or did not come from this site; reload the page and try again."
        )

    @app.errorhandler(StorageError)
    def storage_error(exc: StorageError) -> Any:
        log.error("storage error: %s", exc)
        return _error_page(503, f"The archive's storage cannot be read right now: {exc}")

    @app.errorhandler(ArchiverError)
    def archiver_error(exc: ArchiverError) -> Any:
        # e.g. a users file damaged by hand: say so, the page is not the reader's fault
        log.error("%s", exc)
        return _error_page(503, f"The archive cannot answer right now: {exc}")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return _error_page(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(InternalServerError)
    def unexpected_error(exc: InternalServerError) -> Any:
        # a bug: logged with its traceback by Flask; the reader gets the site's page only
        return _error_page(500, "Something went wrong on the server; it has been logged.")


def _error_page(status: int, message: str) -> Any:
    from flask import jsonify, request

    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    return render_template("error.html", status=status, message=message), status


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app until interrupted with waitress (a production WSGI server). The index
    first catches up with any committed runs it does not hold yet."""
    make_server(app, host, port).run()


def _warm_index(be: Backend) -> None:
    try:
        be.index.warm()
    except Exception as exc:  # best effort: a search then pays what warming would have
        log.warning("search index not warmed: %s", exc)


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 8000) -> Any:
    """A waitress server for the app, bound but not yet serving (`.run()`, `.close()`),
    with the pool and limits of `[ui]` (search_ui/serving.py)."""
    from archiver.index import SearchIndexError

    be: Backend = app.extensions[EXTENSION]
    try:
        runs = be.index.update(be.archive)
        if runs:
            log.info("index caught up with %d runs", runs)
    except SearchIndexError as exc:
        log.warning("search index not updated: %s", exc)
    # the first searches of a fresh process, paid before users ask (serving does not wait)
    threading.Thread(target=_warm_index, args=(be,), name="warm-index", daemon=True).start()
    server = create_server(app, be.config.ui, host, port)
    log.info("serving on http://%s:%s/", host, server.effective_port)
    return server
