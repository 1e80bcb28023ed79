"""Login sessions kept on the server, so they can be ended: logout, a password or role
change, a removed user, an admin ending them, the idle timeout and an absolute lifetime.

The signed cookie holds only a random session token; this SQLite file beside the users file
(`users.sessions.sqlite`) holds each session's record under the token's SHA-256, so the
file (or a backup of it) never holds a usable cookie. A session belongs to a user's unique
id, not their name, and carries the user's `session_stamp`: a user removed and added again,
or whose password or role changed, has none of the old sessions. SQLite serialises writers
across threads and processes (several server workers, `archiver users ...`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    handle TEXT PRIMARY KEY,        -- sha256 of the cookie's token
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    stamp TEXT NOT NULL,            -- the user's session_stamp at login
    created REAL NOT NULL,          -- epoch seconds
    last_seen REAL NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
"""
# last_seen is written at most this often: a page view is not worth a write each time
TOUCH_SECONDS = 15.0
MAX_AGENT = 200


def sessions_path(users_file: str | os.PathLike[str]) -> Path:
    path = Path(users_file)
    return path.with_name(f"{path.stem}.sessions.sqlite")


def _handle(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class Session:
    handle: str  # what admins see and end it by; not the cookie's token
    user_id: str
    user_name: str
    stamp: str
    created: float
    last_seen: float
    address: str
    agent: str

    def expired(self, now: float, idle_seconds: float, max_seconds: float) -> bool:
        return now - self.last_seen >= idle_seconds or now - self.created >= max_seconds


class SessionStore:
    def __init__(self, path: str | os.PathLike[str], clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.clock = clock
        # one connection per thread (and per process: a forked worker opens its own)
        self._local = threading.local()

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (os.getpid(), st.st_dev, st.st_ino)

    def _connection(self) -> sqlite3.Connection:
        # reused while the process and the file are the same (a removed or replaced file,
        # e.g. to log everyone out, is opened afresh)
        held = getattr(self._local, "db", None)
        identity = self._identity()
        if held is not None and identity is not None and held[0] == identity:
            return held[1]
        if held is not None:
            held[1].close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # private like the users file: handles are not cookies, but who is logged in is
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        self._local.db = (self._identity(), db)
        return db

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        try:
            yield db
        except sqlite3.DatabaseError:
            self._local.db = None  # a broken connection is not reused
            db.close()
            raise

    def create(self, user_id: str, user_name: str, stamp: str, address: str, agent: str) -> str:
        """A new session; returns the token for the cookie (kept here only as its hash)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._db() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (_handle(token), user_id, user_name, stamp, now, now, address, agent[:MAX_AGENT]),
            )
        return token

    def get(self, token: str, idle_seconds: float, max_seconds: float) -> Session | None:
        """The live session of a cookie's token (its idle time restarted), or None; an
        expired one is deleted."""
        if not isinstance(token, str) or not token:
            return None
        handle = _handle(token)
        now = self.clock()
        with self._db() as db:
            row = db.execute("SELECT * FROM sessions WHERE handle = ?", (handle,)).fetchone()
            if row is None:
                return None
            found = Session(*row)
            if found.expired(now, idle_seconds, max_seconds):
                db.execute("DELETE FROM sessions WHERE handle = ?", (handle,))
                return None
            if now - found.last_seen >= TOUCH_SECONDS:
                db.execute("UPDATE sessions SET last_seen = ? WHERE handle = ?", (now, handle))
        return found

    def end(self, token: str) -> None:
        if isinstance(token, str) and token:
            self.end_handle(_handle(token))

    def end_handle(self, handle: str) -> Session | None:
        """End the session with this handle (the admin page's way); the ended one or None."""
        with self._db() as db:
            row = db.execute("SELECT * FROM sessions WHERE handle = ?", (handle,)).fetchone()
            db.execute("DELETE FROM sessions WHERE handle = ?", (handle,))
        return Session(*row) if row else None

    def end_user(self, user_id: str) -> int:
        """End every session of a user; how many there were."""
        if not self.path.exists():
            return 0
        with self._db() as db:
            return db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount

    def active(self, idle_seconds: float, max_seconds: float) -> list[Session]:
        """Live sessions, newest first; expired ones are deleted on the way."""
        if not self.path.exists():
            return []
        now = self.clock()
        with self._db() as db:
            db.execute(
                "DELETE FROM sessions WHERE last_seen <= ? OR created <= ?",
                (now - idle_seconds, now - max_seconds),
            )
            rows = db.execute("SELECT * FROM sessions ORDER BY created DESC").fetchall()
        return [Session(*row) for row in rows]
