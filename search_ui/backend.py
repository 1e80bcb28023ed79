"""What the UI works on, built once per app: the archive, its index, users, audit log.

Views reach it through `backend()`; tests and `archiver demo` hand in their own archive.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from archiver.archive import Archive
from archiver.audit import AuditLog
from archiver.config import Config
from archiver.index import Index
from search_ui.catalogue import Catalogue
from search_ui.users import UserFile

EXTENSION = "social_archive"


class LoginThrottle:
    """Locks a name (and an address) out for a while after repeated failed logins.

    Kept in memory: a restart forgets it, which only ever lets someone in sooner."""

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
            for key, _limit in self._keys(name, address):
                self._failures.setdefault(key, []).append(self._clock())

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
    def index(self) -> Index:
        """The search index, opened on first use (SearchIndexError if it cannot be)."""
        with self._index_lock:
            if self._index is None:
                self._index = Index(self.config.index.path, self.config.index.cache_mb)
            return self._index


def backend() -> Backend:
    return current_app.extensions[EXTENSION]
