"""One job per account at a time, across hosts: a lease lock kept in the object store.

A lease is a chain of create-only objects `locks/<account_id>/<generation>.json`; the
highest generation is the lock's state. Taking the lock, renewing it, taking it over after
it expired and releasing it all *create the next generation*, so every change is the one
atomic write both stores have (a local `link()`, S3's `If-None-Match: *`): of two hosts
racing for generation n+1 exactly one wins, and a holder whose lease was taken over
learns it when its own renewal meets the winner's object. No store needs a compare-and-swap
or an overwrite; older generations are deleted once a newer one exists.

Each generation holds host, pid, started, expires and a token (the holder's identity).
A holder killed with -9 blocks others for no longer than its lease.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from types import TracebackType

import orjson

from archiver.timestamps import isoformat, parse_iso, utcnow
from storage.errors import NotFound, ObjectExists, StorageError
from storage.store import ObjectStore, read_bytes

log = logging.getLogger(__name__)

LOCK_FORMAT = "social-archive/lock/1"
LOCKS = "locks/"
DEFAULT_LEASE = 300.0  # seconds; renewed every third of it while the job runs
_ARTICLE = {"import": "an import"}


class LockError(StorageError):
    """The account's lock cannot be read or kept; the message is one line for the operator."""


class LockHeld(LockError):
    """Another job holds the account's lock (and waiting did not free it)."""

    def __init__(self, message: str, holder: Lease) -> None:
        super().__init__(message)
        self.holder = holder


class LockLost(LockError):
    """This job's lease expired and another job took the lock over."""


def locks_prefix(account_id: str) -> str:
    return f"{LOCKS}{account_id}/"


@dataclass(frozen=True)
class Lease:
    """One generation of an account's lock, as stored."""

    account_id: str
    account: str  # @handle, for messages
    job: str  # "backup", "import", ...
    host: str
    pid: int
    started: str
    expires: str
    token: str
    generation: int
    released: bool = False

    @property
    def key(self) -> str:
        return f"{locks_prefix(self.account_id)}{self.generation:012d}.json"

    def expired(self, now: dt.datetime | None = None) -> bool:
        return parse_iso(self.expires) <= (now or utcnow())

    @property
    def free(self) -> bool:
        return self.released or self.expired()

    def describe(self) -> str:
        """The one line a second job gets: who holds the account, where, since when."""
        what = _ARTICLE.get(self.job, f"a {self.job}")
        return (
            f"account @{self.account}: {what} is already running on {self.host} "
            f"(pid {self.pid}, since {self.started})"
        )

    def to_json(self) -> bytes:
        return orjson.dumps({"format": LOCK_FORMAT, **asdict(self)})

    @classmethod
    def from_json(cls, key: str, data: bytes, account: str) -> Lease:
        where = f"account @{account}: lock object {key}"
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise LockError(f"{where} is not valid JSON; remove it if no job is running") from None
        fmt = doc.get("format") if isinstance(doc, dict) else None
        if isinstance(fmt, str) and fmt.startswith("social-archive/lock/") and fmt != LOCK_FORMAT:
            raise LockError(
                f"{where} was written by a newer version of social-archive ({fmt}); "
                "upgrade this host before running jobs on the account"
            )
        try:
            if fmt != LOCK_FORMAT:
                raise ValueError("not a lock")
            lease = cls(
                account_id=str(doc["account_id"]),
                account=str(doc["account"]),
                job=str(doc["job"]),
                host=str(doc["host"]),
                pid=int(doc["pid"]),
                started=str(doc["started"]),
                expires=str(doc["expires"]),
                token=str(doc["token"]),
                generation=int(doc["generation"]),
                released=bool(doc.get("released", False)),
            )
            parse_iso(lease.started)
            parse_iso(lease.expires)
        except (KeyError, TypeError, ValueError):
            raise LockError(
                f"{where} is malformed (not a {LOCK_FORMAT} lease); remove it if no job is running"
            ) from None
        return lease


def _generation(key: str) -> int | None:
    name = key.rsplit("/", 1)[-1]
    stem = name.removesuffix(".json")
    return int(stem) if name.endswith(".json") and stem.isdigit() else None


def current_lease(store: ObjectStore, account_id: str, account: str = "") -> Lease | None:
    """The newest generation of the account's lock (None: never locked)."""
    for _ in range(5):  # a racing holder may delete what we listed: list again
        keys = [
            (g, k)
            for k in store.list(locks_prefix(account_id))
            if (g := _generation(k)) is not None
        ]
        if not keys:
            return None
        gen, key = max(keys)
        try:
            return Lease.from_json(key, read_bytes(store, key), account or account_id)
        except NotFound:
            continue
    raise LockError(f"account @{account or account_id}: its lock keeps changing; try again")


class AccountLock:
    """Hold an account's lease for one job: `with AccountLock(store, id, account=h): ...`.

    Entering takes the lock (waiting up to `wait` seconds for a holder to finish, else
    LockHeld with the holder's line); a daemon thread renews it every third of the lease;
    leaving releases it. `check()` raises LockLost if a renewal found the lock taken over.
    """

    def __init__(
        self,
        store: ObjectStore,
        account_id: str,
        *,
        account: str,
        job: str = "backup",
        lease: float = DEFAULT_LEASE,
        wait: float = 0.0,
        poll: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if lease <= 0:
            raise LockError(f"account @{account}: the lock's lease must be positive")
        self.store = store
        self.account_id = account_id
        self.account = account.lstrip("@")
        self.job = job
        self.lease_seconds = lease
        self.wait = wait
        self.poll = poll
        self._sleep = sleep
        self.held: Lease | None = None
        self._lost: str | None = None
        self._stop = threading.Event()
        self._mutex = threading.Lock()
        self._renewer: threading.Thread | None = None

    # -- taking and giving back ------------------------------------------------------------
    def acquire(self) -> Lease:
        deadline = time.monotonic() + max(self.wait, 0.0)
        token = secrets.token_hex(8)
        while True:
            tip = current_lease(self.store, self.account_id, self.account)
            if tip is None or tip.free:
                started = isoformat(utcnow())
                lease = Lease(
                    account_id=self.account_id,
                    account=self.account,
                    job=self.job,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started=started,
                    expires=self._expiry(),
                    token=token,
                    generation=(tip.generation if tip else 0) + 1,
                )
                if self._create(lease):
                    if tip is not None and not tip.released:
                        log.warning(
                            "account @%s: took over the lock of %s on %s (pid %d), expired %s",
                            self.account,
                            tip.job,
                            tip.host,
                            tip.pid,
                            tip.expires,
                        )
                    self.held = lease
                    self._prune(lease.generation)
                    return lease
                continue  # another job created this generation first: look again
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockHeld(tip.describe(), tip)
            self._sleep(min(self.poll, remaining))

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        with self._mutex:
            held, self.held = self.held, None
            if held is None or self._lost:
                return
            done = replace(
                held, generation=held.generation + 1, expires=isoformat(utcnow()), released=True
            )
            try:
                if self._create(done):
                    self._prune(done.generation)
                else:
                    log.warning("account @%s: the lock was taken over before release", self.account)
            except StorageError as exc:  # the lease then simply expires
                log.warning("account @%s: could not release the lock: %s", self.account, exc)

    def renew(self) -> None:
        """Extend the lease by creating its next generation; LockLost if it was taken over."""
        with self._mutex:
            if self.held is None:
                return
            nxt = replace(self.held, generation=self.held.generation + 1, expires=self._expiry())
            if not self._create(nxt):
                self._lost = (
                    f"account @{self.account}: the lock was taken over by another job "
                    f"(this one's lease expired at {self.held.expires})"
                )
                self.held = None
                raise LockLost(self._lost)
            self.held = nxt
        self._prune(nxt.generation)

    def check(self) -> None:
        """Raise LockLost if the lease was taken over (call before committing work)."""
        if self._lost:
            raise LockLost(self._lost)

    # -- the context manager and its renewing thread ---------------------------------------
    def __enter__(self) -> AccountLock:
        self.acquire()
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_loop, name=f"lock-{self.account_id}", daemon=True
        )
        self._renewer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                self.renew()
            except LockLost as exc:
                log.error("%s", exc)
                return
            except StorageError as exc:  # try again at the next tick, inside the lease
                log.warning("account @%s: renewing the lock failed: %s", self.account, exc)

    # -- store operations ------------------------------------------------------------------
    def _expiry(self) -> str:
        return isoformat(utcnow() + dt.timedelta(seconds=self.lease_seconds))

    def _create(self, lease: Lease) -> bool:
        try:
            self.store.put_bytes(lease.key, lease.to_json())
        except ObjectExists:
            return False
        return True

    def _prune(self, generation: int) -> None:
        """Delete generations older than `generation` (best effort: they are history)."""
        try:
            for key in list(self.store.list(locks_prefix(self.account_id))):
                gen = _generation(key)
                if gen is not None and gen < generation:
                    self.store.delete(key)
        except StorageError as exc:
            log.info("account @%s: old lock objects stay for now: %s", self.account, exc)
