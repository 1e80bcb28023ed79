"""A graceful stop: SIGTERM asks long work to stop at its next safe point.

A backup checks `stop_requested()` after each API page (the page is checkpointed by then),
so on SIGTERM it stops, leaves its checkpoint and exits 0; the next start resumes it.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)

_STOP = threading.Event()


class StopRequested(Exception):  # noqa: N818 - a request, not an error
    """Raised at a safe point once a stop was asked for."""


def stop_requested() -> bool:
    return _STOP.is_set()


def request_stop() -> None:
    _STOP.set()


def reset() -> None:
    _STOP.clear()


def install_sigterm_handler() -> None:
    """SIGTERM (systemd stop, Kubernetes eviction) asks for a graceful stop. Only the main
    thread may install it; elsewhere (tests in threads) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if not _STOP.is_set():
            log.warning("SIGTERM: stopping after the current page")
        _STOP.set()

    signal.signal(signal.SIGTERM, on_sigterm)


def interruptible_sleep(seconds: float) -> None:
    """time.sleep that a stop request cuts short (a rate-limit wait can be 15 minutes)."""
    if _STOP.wait(seconds):
        raise StopRequested


def wait_for_stop(timeout: float | None = None) -> bool:
    """Block until a stop is requested (True) or `timeout` passes (False)."""
    return _STOP.wait(timeout)
