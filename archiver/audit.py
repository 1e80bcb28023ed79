"""The audit log: who logged in, searched, viewed, exported and changed users, and when.

Each event is one create-only object `audit/events/<seq>.json` in the archive's store,
numbered from 1 with no gaps, and carries `prev`, the SHA-256 of the previous event's bytes.
So the log is append-only (the store never overwrites; Object Lock protects it on S3) and
`verify()` finds an event that was removed (a gap) or altered (the next event's `prev` no
longer matches). Removing the newest events leaves a shorter, consistent chain: keep the
head hash that `archiver audit verify` prints somewhere else to detect that too.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from archiver.errors import ArchiverError
from archiver.timestamps import isoformat, utcnow
from storage.errors import NotFound, ObjectExists
from storage.store import ObjectStore, read_bytes

log = logging.getLogger(__name__)

PREFIX = "audit/events/"
GENESIS = "0" * 64  # the `prev` of the first event


def cli_actor() -> str:
    """Who ran a command, as the audit log names them: `cli:<os user>`, never mistaken for a
    UI user (UI names cannot hold a colon)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


ACTIONS = (
    "login",
    "logout",
    "login_failed",
    "login_locked",
    "search",
    "view",
    "export",
    "download",
    "user_added",
    "user_removed",
    "role_changed",
    "password_changed",
    "token_issued",
    "token_revoked",
    "session_ended",
    "audit_viewed",
    "follower_review",  # a follower review marked done (archiver.followers)
)
_KEY = re.compile(r"^audit/events/(\d{12})\.json$")
# detail never carries these: a password typed into the wrong box must not be kept forever
_SECRET_WORDS = ("password", "secret", "token")
_CACHE_SIZE = 20_000  # parsed events kept in memory; events never change, so caching is safe


class AuditError(ArchiverError):
    """The audit log cannot be written or read."""


def event_key(seq: int) -> str:
    return f"{PREFIX}{seq:012d}.json"


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str  # ISO 8601 UTC
    user: str  # who did it ("-" when nobody was logged in)
    action: str
    detail: dict[str, Any]
    prev: str  # SHA-256 of the previous event's stored bytes

    def to_json(self) -> bytes:
        doc = {
            "seq": self.seq,
            "at": self.at,
            "user": self.user,
            "action": self.action,
            "detail": self.detail,
            "prev": self.prev,
        }
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, data: bytes) -> AuditEvent:
        doc = orjson.loads(data)
        return cls(
            seq=int(doc["seq"]),
            at=str(doc["at"]),
            user=str(doc["user"]),
            action=str(doc["action"]),
            detail=dict(doc.get("detail") or {}),
            prev=str(doc["prev"]),
        )


@dataclass
class _Ticket:
    """One event waiting to be written, and what came of it."""

    user: str
    action: str
    detail: dict[str, Any]
    event: AuditEvent | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass(frozen=True)
class AuditHead:
    events: int
    digest: str  # SHA-256 of the newest event (GENESIS when the log is empty)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_detail(detail: dict[str, Any]) -> dict[str, Any]:
    for name in detail:
        if any(word in name.lower() for word in _SECRET_WORDS):
            raise ValueError(f"audit detail must not carry secrets: {name!r}")
    return {k: v for k, v in detail.items() if v not in (None, "", [], {})}


class AuditLog:
    """Append and read the audit log of one archive store. Safe across threads; across
    processes too (a create-only write that loses the race moves on to the next number)."""

    def __init__(self, store: ObjectStore, *, clock: Callable[[], str] | None = None) -> None:
        self.store = store
        self._clock = clock or (lambda: isoformat(utcnow()))
        self._lock = threading.Lock()  # the tail: writing a batch, reading the head
        self._turn = threading.Condition(threading.Lock())  # guards the two below
        self._queue: list[_Ticket] = []  # recorded, waiting for the next batch
        self._writing = False
        self._tail: tuple[int, str] | None = None  # (seq, digest) of the newest event seen
        self._cache: OrderedDict[int, AuditEvent] = OrderedDict()

    # -- writing ---------------------------------------------------------------------------
    def record(self, user: str, action: str, **detail: Any) -> AuditEvent:
        """Append one event; returns it once it is durable. Raises AuditError (or the
        store's StorageError) if the store refuses.

        Group commit: events recorded at the same moment by several threads are written
        by one of them, in order, and made durable with one sync for all (an fsync per
        event, serialised, capped a busy UI at one request per fsync)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        ticket = _Ticket(user or "-", action, _check_detail(detail))
        with self._turn:
            self._queue.append(ticket)
            while not ticket.done and self._writing:
                self._turn.wait()  # the batch being written, then maybe this one
            batch: list[_Ticket] = []
            if not ticket.done:  # nobody is writing: this thread writes all that waits
                self._writing = True
                batch, self._queue = self._queue, []
        if batch:
            try:
                with self._lock:
                    self._write(batch)
            finally:
                with self._turn:
                    self._writing = False
                    self._turn.notify_all()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.event is not None
        return ticket.event

    def _write(self, batch: list[_Ticket]) -> None:
        if len(batch) == 1:  # alone: one durable write, no staging
            self._write_one(batch[0], lambda key, data: self.store.put_bytes(key, data))
        else:
            with tempfile.TemporaryDirectory(prefix="audit-") as tmp:

                def stage(key: str, data: bytes) -> None:
                    staged = Path(tmp) / key.rsplit("/", 1)[-1]
                    staged.write_bytes(data)
                    self.store.put_file(key, str(staged))  # made durable by sync() below

                for ticket in batch:
                    self._write_one(ticket, stage)
                try:
                    self.store.sync()  # every event written above, in one go
                except Exception as exc:  # noqa: BLE001 - handed to the threads that asked
                    for ticket in batch:
                        ticket.event, ticket.error = None, ticket.error or exc
        for ticket in batch:
            ticket.done = True
            if ticket.event is not None:
                self._remember(ticket.event)

    def _write_one(self, ticket: _Ticket, put: Callable[[str, bytes], None]) -> None:
        try:
            ticket.event = self._append(ticket, put)
        except Exception as exc:  # noqa: BLE001 - handed to the thread that asked
            ticket.error = exc

    def _append(self, ticket: _Ticket, put: Callable[[str, bytes], None]) -> AuditEvent:
        for _attempt in range(100):
            seq, prev = self._find_tail()
            event = AuditEvent(
                seq + 1, self._clock(), ticket.user, ticket.action, ticket.detail, prev
            )
            data = event.to_json()
            try:
                put(event_key(event.seq), data)
            except ObjectExists:
                continue  # another process wrote this number first: _find_tail moves on
            self._tail = (event.seq, _digest(data))
            return event
        raise AuditError(f"could not append to the audit log in {self.store.description}")

    def _find_tail(self) -> tuple[int, str]:
        if self._tail is None:
            keys = [k for k in self.store.list(PREFIX) if _KEY.match(k)]
            if not keys:
                self._tail = (0, GENESIS)
            else:
                last = keys[-1]
                self._tail = (_seq_of(last), _digest(read_bytes(self.store, last)))
        seq, digest = self._tail
        # events written by other processes since we last looked
        while True:
            try:
                data = read_bytes(self.store, event_key(seq + 1))
            except NotFound:
                break
            seq, digest = seq + 1, _digest(data)
        self._tail = (seq, digest)
        return self._tail

    def _remember(self, event: AuditEvent) -> None:
        self._cache[event.seq] = event
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    # -- reading ---------------------------------------------------------------------------
    def head(self) -> AuditHead:
        with self._lock:
            seq, digest = self._find_tail()
        return AuditHead(seq, digest)

    def _event(self, seq: int) -> AuditEvent | None:
        cached = self._cache.get(seq)
        if cached is not None:
            return cached
        try:
            event = AuditEvent.from_json(read_bytes(self.store, event_key(seq)))
        except NotFound:
            return None
        except (ValueError, KeyError, TypeError):
            log.warning("audit event %d is unreadable; run `archiver audit verify`", seq)
            return None
        self._remember(event)
        return event

    def events(
        self,
        *,
        user: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Newest first. `since`/`until` compare with `at` (ISO strings, until exclusive);
        `before` continues a listing below that sequence number."""
        return list(
            _take(
                self._newest_first(before),
                lambda e: (
                    (user is None or e.user == user)
                    and (action is None or e.action == action)
                    and (since is None or e.at >= since)
                    and (until is None or e.at < until)
                ),
                limit,
                stop=lambda e: since is not None and e.at < since,
            )
        )

    def _newest_first(self, before: int | None) -> Iterator[AuditEvent]:
        seq = self.head().events
        if before is not None:
            seq = min(seq, before - 1)
        for n in range(seq, 0, -1):
            event = self._event(n)
            if event is not None:
                yield event

    # -- checking --------------------------------------------------------------------------
    def verify(self) -> list[str]:
        """Every problem with the chain, read afresh from the store (no cache)."""
        problems: list[str] = []
        expected = 1
        prev_digest: str | None = GENESIS
        for key in self.store.list(PREFIX):
            match = _KEY.match(key)
            if not match:
                problems.append(f"unexpected object in the audit log: {key}")
                continue
            seq = int(match.group(1))
            if seq > expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
                problems.append(f"event {missing}: missing (removed from the log)")
                prev_digest = None  # cannot check the link across a gap
            data = read_bytes(self.store, key)
            try:
                event = AuditEvent.from_json(data)
            except (ValueError, KeyError, TypeError):
                problems.append(f"event {seq}: unreadable")
                expected, prev_digest = seq + 1, _digest(data)
                continue
            if event.seq != seq:
                problems.append(f"event {seq}: altered (it says it is event {event.seq})")
            elif prev_digest is not None and event.prev != prev_digest:
                problems.append(
                    f"event {seq - 1}: altered (event {seq} recorded a different hash of it)"
                )
            expected, prev_digest = seq + 1, _digest(data)
        return problems


def _seq_of(key: str) -> int:
    match = _KEY.match(key)
    assert match is not None
    return int(match.group(1))


def _take(
    events: Iterator[AuditEvent],
    keep: Callable[[AuditEvent], bool],
    limit: int,
    stop: Callable[[AuditEvent], bool],
) -> Iterator[AuditEvent]:
    taken = 0
    for event in events:
        if taken >= limit or stop(event):
            return
        if keep(event):
            taken += 1
            yield event
