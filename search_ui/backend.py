"""What the UI works on, built once per app: the archive, its index, users, audit log.

Views reach it through `backend()`; tests and `archiver demo` hand in their own archive.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, request

from archiver.archive import Archive
from archiver.audit import AuditLog
from archiver.config import Config
from archiver.index import Index, open_index
from search_ui.catalogue import Catalogue
from search_ui.users import UserFile

EXTENSION = "social_archive"


class RequestAuditLog(AuditLog):
    """The UI's audit log: every event made while answering a request also records the
    client's address (the real one behind `ui.trusted_proxies`)."""

    def record(self, user: str, action: str, **detail: Any) -> Any:
        if has_request_context() and "address" not in detail:
            detail["address"] = request.remote_addr
        return super().record(user, action, **detail)


class LoginThrottle:
    """Locks a name, and separately an address, out for a while after repeated failed
    logins. Failures on many names from one address lock that address only, so a user with
    the right password from anywhere else still gets in (the address must be the client's:
    behind a proxy, set `ui.trusted_proxies`).

    Kept in memory: a restart forgets it, which only ever lets someone in sooner."""

    MAX_KEYS = 100_000  # random names must not grow memory without end

    def __init__(self, max_failures: int, lockout_seconds: float, clock=time.monotonic) -> None:
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}

    def _keys(self, name: str, address: str | None) -> list[tuple[str, int]]:
        # an address gets more tries than a name: several staff may share one proxy
        keys = [(f"name:{name}", self.max_failures)]
        if address:
            keys.append((f"addr:{address}", self.max_failures * 4))
        return keys

    def locked_for(self, name: str, address: str | None) -> float:
        """Seconds until a login may be tried again (0 when it may now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(name, address):
                recent = [t for t in self._failures.get(key, ()) if now - t < self.lockout_seconds]
                self._failures[key] = recent
                if len(recent) >= limit:
                    wait = max(wait, self.lockout_seconds - (now - recent[-limit]))
        return wait

    def failed(self, name: str, address: str | None) -> None:
        with self._lock:
            if len(self._failures) >= self.MAX_KEYS:
                self._forget_old()
            for key, _limit in self._keys(name, address):
                self._failures.setdefault(key, []).append(self._clock())

    def _forget_old(self) -> None:
        now = self._clock()
        stale = now - self.lockout_seconds
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= stale]:
            del self._failures[key]
        if len(self._failures) >= self.MAX_KEYS:  # all recent: a flood; keep the newest half
            oldest_first = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in oldest_first[: len(oldest_first) // 2]:
                del self._failures[key]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"name:{name}", None)


@dataclass
class Backend:
    archive: Archive
    users: UserFile
    audit: AuditLog
    catalogue: Catalogue
    throttle: LoginThrottle
    _index: Index | None = field(default=None, repr=False)
    _index_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def config(self) -> Config:
        return self.archive.config

    @property
    def idle_seconds(self) -> float:
        return self.config.ui.session_minutes * 60.0

    @property
    def max_seconds(self) -> float:
        return self.config.ui.session_max_hours * 3600.0

    @property
    def index(self) -> Index:
        """The search index, opened on first use (SearchIndexError if it cannot be)."""
        with self._index_lock:
            if self._index is None:
                self._index = open_index(self.archive)
            return self._index


def backend() -> Backend:
    return current_app.extensions[EXTENSION]
