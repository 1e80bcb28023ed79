"""Backups through the X API: one run per account, full or incremental, resumable.

An incremental asks for what is new: posts and mentions after `since_id`; likes, bookmarks
and DMs newest first until a page holds something the archive already has (DMs only live
30 days, so every daily run reads them); followers, following, lists and the profile in
full, writing only changes. A full run walks everything the API allows, then looks up each
held post its window no longer shows and marks it deleted only when the API says it is gone.
Pages are checkpointed as they arrive (see checkpoint.py), so a killed run resumes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archiver import TOOL
from archiver.capture.checkpoint import Checkpoint
from archiver.capture.client import Page, XClient
from archiver.capture.errors import EndpointNotAllowed
from archiver.capture.history import CHECKED_COLLECTIONS, SOURCE, History
from archiver.capture.media import MediaFetcher, MediaFile, held_media, user_auth
from archiver.capture.runlog import RunLog
from archiver.config import CaptureConfig, Config
from archiver.errors import USER_ERRORS, ArchiverError, ConfigError
from archiver.jobs import record_backup
from archiver.paths import staging_dir
from archiver.stopping import StopRequested, stop_requested
from archiver.timestamps import isoformat, utcnow
from storage.errors import NoSpace, StorageError
from storage.lock import DEFAULT_LEASE, AccountLock, LockError, LockHeld
from storage.runs import (
    MANIFEST,
    Manifest,
    RunWriter,
    missing_warning,
    new_run_id,
    run_prefix,
)
from storage.store import ObjectStore

log = logging.getLogger(__name__)

NOT_FOUND = "/2/problems/resource-not-found"  # under api.twitter.com or api.x.com
LOOKUP_BATCH = 100


@dataclass(frozen=True)
class Walk:
    """One paginated read: its checkpoint name, the collection it fills, how far it goes."""

    name: str
    collection: str
    fetch: Callable[[str | None], Iterator[Page]]
    stop_at_known: bool = False  # incremental: stop after a page holding an item already kept


@dataclass
class BackupResult:
    account: str
    account_id: str | None = None
    kind: str | None = None
    manifest: Manifest | None = None
    error: str | None = None
    locked: bool = False  # skipped: another job held the account's lock
    resumed: bool = False
    stopped: bool = False  # SIGTERM: stopped after a checkpointed page; the next run resumes
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the account's tokens cannot do
    seen: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    media: dict[str, int] = field(default_factory=dict)  # files, stored, bytes, gaps
    requests: int = 0
    waited: float = 0.0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        if self.error:
            return f"@{self.account}: failed: {self.error}"
        if self.stopped:
            return (
                f"@{self.account}: {self.kind} run stopped on request after "
                f"{sum(self.seen.values())} records; its checkpoint is kept and the next "
                "backup resumes it"
            )
        written = ", ".join(f"{k} {v}" for k, v in sorted(self.written.items())) or "nothing new"
        events = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(self.events.items()))
        run_id = self.manifest.run_id if self.manifest else "-"
        text = (
            f"@{self.account}: {self.kind} run {run_id}"
            f"{' (resumed)' if self.resumed else ''}: {written}"
        )
        if events:
            text += f"; {events}"
        if self.media.get("stored"):
            text += f"; media {self.media['stored']} files ({_megabytes(self.media['bytes'])})"
        return text + f" ({self.requests} requests, {self.elapsed:.1f} s)"

    def summary(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_id": self.account_id,
            "kind": self.kind,
            "run_id": self.manifest.run_id if self.manifest else None,
            "error": self.error,
            "locked": self.locked,
            "resumed": self.resumed,
            "stopped": self.stopped,
            "warnings": self.warnings,
            "notes": self.notes,
            "seen": dict(self.seen),
            "written": dict(self.written),
            "events": dict(self.events),
            "media": dict(self.media),
            "requests": self.requests,
            "waited_seconds": round(self.waited, 3),
            "elapsed_seconds": round(self.elapsed, 3),
        }


class Backup:
    """One account's backup run: `Backup(store, client, username=...).run()`."""

    def __init__(
        self,
        store: ObjectStore,
        client: XClient,
        *,
        username: str,
        full: bool = False,
        progress: Callable[[str], None] | None = None,
        lease: float = DEFAULT_LEASE,
        wait: float = 0.0,
        staging: str | os.PathLike[str] | None = None,
        capture: CaptureConfig | None = None,
    ) -> None:
        self.store = store
        self.staging = staging
        self.capture = capture or CaptureConfig()
        self.client = client
        self.username = username.lstrip("@")
        self.full = full
        self.progress = progress or (lambda _msg: None)
        self.lease = lease
        self.wait = wait

    def run(self) -> BackupResult:
        result = BackupResult(self.username)
        limiter = self.client.limiter
        with account_run(result, lambda: (limiter.requests, limiter.waited), self._one_line):
            self._run(result)
        return result

    def _one_line(self, exc: Exception) -> str:
        text = str(exc)
        if isinstance(exc, NoSpace):
            text += (
                ": the backup committed nothing (its checkpoint is kept, the next run resumes); "
                "free space and run it again"
            )
        elif isinstance(exc, StorageError):
            text += "; the next run resumes from its checkpoint"
        prefix = f"account @{self.username}: "
        return text if text.startswith(prefix) else prefix + text

    def _run(self, result: BackupResult) -> None:
        profile = self.client.user_by_username(self.username)
        if not profile.items:
            raise EndpointNotAllowed(f"account @{self.username}: the API returned no profile")
        account_id = str(profile.items[0]["id"])
        result.account_id = account_id
        with AccountLock(
            self.store,
            account_id,
            account=self.username,
            job="backup",
            lease=self.lease,
            wait=self.wait,
        ) as lock:
            self._locked_run(result, profile, account_id, lock)

    def _locked_run(
        self, result: BackupResult, profile: Page, account_id: str, lock: AccountLock
    ) -> None:
        history = History.load(self.store, account_id)
        if history.missing:
            result.warnings.append(f"account @{self.username}: {missing_warning(history.missing)}")
        cp, resumed = self._checkpoint(account_id, history)
        result.kind, result.resumed = cp.kind, resumed
        log.info(
            "account %s: %s run %s%s",
            self.username,
            cp.kind,
            cp.run_id,
            " resumed from its checkpoint" if resumed else "",
        )
        with (
            RunWriter(
                self.store,
                account_id=account_id,
                account=self.username,
                kind=cp.kind,
                source=SOURCE,
                tool_version=TOOL,
                parent_run=history.last_run,
                run_id=cp.run_id,
                staging_dir=self.staging,
            ) as writer,
            RunLog(writer, history, cp, result) as run,
        ):
            if self.capture.media:
                run.media = self._media(account_id, cp, history)
            run.take("profile", "profile", profile, checkpoint=False)
            replay = cp.pages() if resumed else {}
            for walk in self._walks(account_id, cp):
                self._walk(run, walk, replay)
            for list_id in sorted(run.list_ids):
                self._walk(run, self._members_walk(list_id), replay)
            if cp.kind == "full":
                self._confirm_deletions(run, history)
            run.membership_events()
            if run.media is not None:
                self.progress(f"@{self.username} media: {len(run.media.files)} files")
                run.media.fetch_all()
                run.keep_media()
            lock.check()  # never commit after another job took the account over
            limiter = self.client.limiter
            result.manifest = run.commit(
                profile,
                {
                    "started_at": cp.state.get("started_at"),
                    "resumed": resumed,
                    "requests": limiter.requests,
                    "retries": limiter.retries,
                    "waited_seconds": round(limiter.waited, 3),
                    "credentials": self.client.credentials.kind,
                    "api": _without_userinfo(self.client.base_url),
                },
            )
        cp.clear()

    # -- checkpoints -----------------------------------------------------------------------
    def _checkpoint(self, account_id: str, history: History) -> tuple[Checkpoint, bool]:
        """Resume the account's unfinished run if there is one, else start a new one."""
        committed = {m.run_id for m in history.manifests}
        wanted = "full" if self.full or not history.has_capture else "incremental"
        resumable = None
        # a checkpoint older than the last committed API run would replay an outdated view
        latest = max((m.run_id for m in history.manifests if m.source == SOURCE), default="")
        for cp in Checkpoint.find(self.store, account_id):
            if (
                cp.run_id in committed
                or cp.run_id < latest
                or (wanted == "full" and cp.kind != "full")
            ):
                cp.clear()  # committed already, outdated, or an incremental a full supersedes
            else:
                if resumable:
                    resumable.clear()
                resumable = cp
        if resumable:
            # objects of a run killed while committing are garbage (it has no manifest, or it
            # would be among the committed): remove them, keep the id (but not its media: each
            # was complete when written, and is not fetched again)
            prefix = run_prefix(account_id, resumable.run_id)
            if not self.store.exists(prefix + MANIFEST):
                for key in list(self.store.list(prefix)):
                    if "/files/media/" in key:
                        continue
                    self.store.delete(key)
            return resumable, True
        since = (
            {}
            if wanted == "full"
            else {c: history.since_id(c) for c in ("tweets", "mentions") if history.since_id(c)}
        )
        state = {"kind": wanted, "since": since, "started_at": isoformat(utcnow())}
        return Checkpoint.start(self.store, account_id, new_run_id(), state), False

    def _media(self, account_id: str, cp: Checkpoint, history: History) -> MediaFetcher:
        done = {str(line["url"]): MediaFile.from_line(line) for line in cp.media()}
        return MediaFetcher(
            self.store,
            account_id=account_id,
            run_id=cp.run_id,
            limiter=self.client.limiter.sibling(),
            hosts=self.capture.media_hosts,
            max_bytes=int(self.capture.media_max_mb * 1_000_000),
            timeout=self.client.timeout,
            user_auth=user_auth(self.client.credentials),
            held=held_media(self.store, history.manifests),
            done=done,
            on_done=lambda entry: cp.save_media(entry.line()),
        )

    # -- walks -----------------------------------------------------------------------------
    def _walks(self, account_id: str, cp: Checkpoint) -> list[Walk]:
        c = self.client
        since = cp.state.get("since") or {}
        return [
            Walk(
                "tweets",
                "tweets",
                lambda t: c.posts(account_id, since_id=since.get("tweets"), token=t),
            ),
            Walk(
                "mentions",
                "mentions",
                lambda t: c.mentions(account_id, since_id=since.get("mentions"), token=t),
            ),
            Walk("likes", "likes", lambda t: c.liked(account_id, token=t), stop_at_known=True),
            Walk(
                "bookmarks",
                "bookmarks",
                lambda t: c.bookmarks(account_id, token=t),
                stop_at_known=True,
            ),
            Walk("dms", "dms", lambda t: c.dm_events(token=t), stop_at_known=True),
            Walk("followers", "followers", lambda t: c.followers(account_id, token=t)),
            Walk("following", "following", lambda t: c.following(account_id, token=t)),
            Walk("lists", "lists", lambda t: c.owned_lists(account_id, token=t)),
        ]

    def _members_walk(self, list_id: str) -> Walk:
        def fetch(token: str | None) -> Iterator[Page]:
            return self.client.list_members(list_id, token=token)

        return Walk(f"members-{list_id}", "lists", fetch)

    def _walk(self, run: RunLog, walk: Walk, replay: dict[str, list[Page]]) -> None:
        """Replay the walk's checkpointed pages, then fetch on from the last next_token."""
        token: str | None = None
        done = False
        for page in replay.get(walk.name, []):
            done = run.take(
                walk.name, walk.collection, page, checkpoint=False, stop_at_known=walk.stop_at_known
            )
            token = page.next_token
            if done or not token:
                done = True
                break
        if not done:
            try:
                for page in walk.fetch(token):
                    if run.take(walk.name, walk.collection, page, stop_at_known=walk.stop_at_known):
                        break
                    self.progress(f"@{self.username} {walk.name}: {run.seen_in(walk.name)}")
                    if stop_requested():  # the page is checkpointed: a safe place to stop
                        raise StopRequested
            except EndpointNotAllowed as exc:
                if exc.warn:
                    run.warn(str(exc))
                else:
                    run.note(str(exc))
                return
        run.complete.add(walk.name)

    # -- deletions -------------------------------------------------------------------------
    def _confirm_deletions(self, run: RunLog, history: History) -> None:
        """Look up held posts the window no longer shows; 'not found' is a deletion."""
        for collection in CHECKED_COLLECTIONS:
            span = run.id_span.get(collection)
            if collection not in run.complete or not span:
                continue
            missing = history.unseen_in_window(collection, run.keys_seen[collection], *span)
            for start in range(0, len(missing), LOOKUP_BATCH):
                batch = missing[start : start + LOOKUP_BATCH]
                page = self.client.lookup(batch)
                run.keep_page("lookups", page)
                gone = {
                    str(e.get("resource_id")): e
                    for e in page.errors
                    if str(e.get("type", "")).endswith(NOT_FOUND) and e.get("parameter") == "ids"
                }
                for rid in batch:
                    if rid in gone:
                        run.event(
                            {
                                "type": "deleted",
                                "collection": collection,
                                "id": rid,
                                "at": page.retrieved_at,
                                "evidence": {
                                    "endpoint": page.endpoint,
                                    "retrieved_at": page.retrieved_at,
                                    "error": gone[rid],
                                },
                            }
                        )
                    else:
                        log.info(
                            "account %s: %s %s is not in the timeline but still exists",
                            self.username,
                            collection,
                            rid,
                        )


@contextlib.contextmanager
def account_run(
    result: BackupResult,
    counters: Callable[[], tuple[int, float]],
    one_line: Callable[[Exception], str] | None = None,
    expected: tuple[type[Exception], ...] = (),
) -> Iterator[None]:
    """The body of one account's backup (any platform): every failure becomes the result's
    one line and this account fails alone, the next one still runs; a held lock is a skip
    (nothing was written). `counters` gives the requests made and the seconds waited."""
    name = result.account
    failures: tuple[type[Exception], ...] = (*USER_ERRORS, LockError, *expected)
    started = time.monotonic()
    try:
        yield
    except LockHeld as exc:  # another job has the account: nothing was written
        log.info("%s", exc)  # the caller prints the one line
        result.error, result.locked = str(exc), True
    except StopRequested:
        log.warning("account %s: stopped on request; checkpoint kept", name)
        result.stopped = True
    except failures as exc:
        # nothing of this run is committed (an X run's checkpoint stays for the next one to
        # resume). The caller prints the one line; the log has it at -v
        log.info("account %s: backup failed: %s", name, exc)
        result.error = one_line(exc) if one_line else account_failure(name, str(exc))
    except Exception as exc:
        result.error = unexpected_failure(name, exc)
    finally:
        result.requests, result.waited = counters()
        result.elapsed = time.monotonic() - started


def account_failure(username: str, text: str) -> str:
    """A failure's one line, naming the account once (any platform)."""
    prefix = f"account @{username.lstrip('@')}: "
    return text if text.startswith("account @") else prefix + text


def unexpected_failure(username: str, exc: Exception) -> str:
    """The one line of an unforeseen failure (any platform): this account fails, the next
    one still runs; the traceback is in the log at --debug."""
    log.debug("account %s: backup failed", username, exc_info=True)
    return account_failure(
        username,
        f"backup failed unexpectedly ({type(exc).__name__}: {exc}); run with --debug for details",
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def _without_userinfo(url: str) -> str:
    """A proxy URL may carry a user and password; the manifest keeps only where it points."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def backup_accounts(
    store: ObjectStore,
    clients: Mapping[str, Callable[[], XClient]],
    *,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
    lease: float = DEFAULT_LEASE,
    wait: float = 0.0,
    staging: str | os.PathLike[str] | None = None,
    capture: CaptureConfig | None = None,
) -> list[BackupResult]:
    """Back up each X account in turn; one account's failure does not stop the others."""
    runners = {
        username: partial(
            _x_backup,
            store,
            username,
            make_client,
            full=full,
            progress=progress,
            lease=lease,
            wait=wait,
            staging=staging,
            capture=capture,
        )
        for username, make_client in clients.items()
    }
    return run_backups(store, runners)


def run_backups(
    store: ObjectStore, runners: Mapping[str, Callable[[], BackupResult]]
) -> list[BackupResult]:
    """Run each account's backup in turn (any platform), recording each in the job log;
    a SIGTERM stops after the account it arrived in, the others wait for the next start."""
    results = []
    for _username, runner in runners.items():
        started_at = isoformat(utcnow())
        result = runner()
        record_backup(store, result, started_at)  # failures that commit no run, too
        results.append(result)
        if result.stopped:
            break
    return results


def _x_backup(
    store: ObjectStore,
    username: str,
    make_client: Callable[[], XClient],
    **options: Any,
) -> BackupResult:
    try:
        client = make_client()
    except ArchiverError as exc:  # e.g. a token's environment variable is not set
        log.info("account %s: backup failed: %s", username, exc)
        return BackupResult(username.lstrip("@"), error=str(exc))
    return Backup(store, client, username=username, **options).run()


def backup_configured(
    config: Config,
    store: ObjectStore,
    accounts: tuple[str, ...] | list[str] = (),
    *,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
    wait: float = 0.0,
) -> list[BackupResult]:
    """Back up the configured accounts (or the named ones): what the CLI and scheduler run.
    Each account's lock is waited for up to `wait` seconds."""
    if accounts:
        chosen = [config.account(handle) for handle in accounts]
    elif config.accounts:
        chosen = list(config.accounts)
    else:
        raise ConfigError(
            f"accounts: none configured in {config.source}; add an [[accounts]] table with a "
            "username and the environment variables that hold its tokens"
        )
    from archiver import platforms

    runners: dict[str, Callable[[], BackupResult]] = {}
    for acc in chosen:
        if acc.platform == "x":
            runners[acc.username] = partial(
                _x_backup,
                store,
                acc.username,
                partial(XClient.for_account, acc, config.x_api),
                full=full,
                progress=progress,
                lease=config.capture.lease_seconds,
                wait=wait,
                staging=staging_dir(config.storage),
                capture=config.capture,
            )
        else:
            runners[acc.username] = platforms.backup_runner(
                config, store, acc, full=full, progress=progress, wait=wait
            )
    return run_backups(store, runners)
