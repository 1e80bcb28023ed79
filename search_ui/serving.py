"""Serving under load: waitress's pool and limits, and a gate on the work requests do.

Searches, item pages and exports are CPU-bound Python: run many at once and each takes
longer (they share the GIL and two cores) while the per-thread searchers add up. So at most
`ui.workers` requests do work at once; the others wait (without holding the GIL) up to
`ui.queue_timeout` seconds for a turn and are then answered 503 with Retry-After, instead
of piling up until nothing answers. `/healthz` and static files pass the gate, and waitress
has more threads (`ui.threads`) than workers, so a slow search never starves `/healthz`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archiver.config import UiConfig

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

UNGATED = ("/healthz", "/static/")
BUSY = "The archive is busy; try again in a few seconds."


def check(ui: UiConfig) -> None:
    """One clear line for serving settings that cannot work."""
    from archiver.errors import ConfigError

    if ui.workers < 1:
        raise ConfigError(f"ui.workers: expected 1 or more, got {ui.workers}")
    if ui.threads <= ui.workers:
        raise ConfigError(
            f"ui.threads ({ui.threads}) must be more than ui.workers ({ui.workers}): "
            "the spare threads answer /healthz and wait their turn"
        )
    for name in (
        "queue_timeout",
        "connection_limit",
        "channel_timeout",
        "item_cache_items",
        "run_cache_mb",
    ):
        if getattr(ui, name) <= 0:
            raise ConfigError(f"ui.{name}: expected a positive number, got {getattr(ui, name)}")


class WorkGate:
    """WSGI middleware: at most `workers` requests inside `app` at once (see the module)."""

    def __init__(self, app: WsgiApp, workers: int, queue_timeout: float) -> None:
        self.app = app
        self.workers = workers
        self.queue_timeout = queue_timeout
        self._slots = threading.BoundedSemaphore(workers)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == UNGATED[0] or path.startswith(UNGATED[1]):
            return self.app(environ, start_response)
        if not self._slots.acquire(timeout=self.queue_timeout):
            log.warning("busy: %s waited %.0f s for a worker", path, self.queue_timeout)
            return _busy(path, start_response, self.queue_timeout)
        try:
            # Flask has built the body when it returns; a file download streams after
            # the slot is given back (that is I/O, not work)
            return self.app(environ, start_response)
        finally:
            self._slots.release()


def _busy(path: str, start_response: StartResponse, wait: float) -> list[bytes]:
    if path.startswith("/api/"):
        body, kind = b'{"error": "' + BUSY.encode() + b'"}', "application/json"
    else:
        body, kind = f"<!doctype html><title>Busy</title><p>{BUSY}</p>".encode(), "text/html"
    start_response(
        "503 Service Unavailable",
        [
            ("Content-Type", f"{kind}; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(max(1, round(wait)))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    return [body]


def create_server(app: WsgiApp, ui: UiConfig, host: str, port: int) -> Any:
    """A bound waitress server with the pool and limits of `[ui]`."""
    import waitress

    return waitress.create_server(
        app,
        host=host,
        port=port,
        threads=ui.threads,
        connection_limit=ui.connection_limit,
        # a client that sends nothing for this long is dropped (slowloris, dead peers)
        channel_timeout=ui.channel_timeout,
        cleanup_interval=min(30, ui.channel_timeout),
        backlog=max(64, ui.connection_limit),
        ident="social-archive",
    )
