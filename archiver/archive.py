"""The core object the CLI, the scheduler and the UI all drive: config + store + runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from archiver.config import Config, StorageConfig
from archiver.errors import ArchiverError
from archiver.paths import index_path, staging_dir
from archiver.timestamps import utcnow
from storage.chain import ChainProblem, account_manifests, check_chain
from storage.errors import StorageError
from storage.identity import StoreIdentity, store_identity
from storage.local import LocalStore
from storage.retry import RetryPolicy
from storage.runs import (
    Manifest,
    VerifyProblem,
    list_accounts,
    list_runs,
    uncommitted_objects,
    verify_run,
)
from storage.s3 import S3Store, make_s3_client
from storage.store import ObjectStore, read_bytes

log = logging.getLogger(__name__)


def open_store(cfg: StorageConfig) -> ObjectStore:
    if cfg.backend == "s3":
        client = make_s3_client(
            endpoint_url=cfg.endpoint_url, region=cfg.region, timeout=cfg.timeout
        )
        policy = retry_policy(cfg)
        return S3Store(client, cfg.bucket or "", cfg.prefix, lock_days=cfg.lock_days, policy=policy)
    return LocalStore(cfg.path)


def retry_policy(cfg: StorageConfig) -> RetryPolicy:
    """How S3 requests (the store's and export destinations') retry transient failures."""
    return RetryPolicy(
        max_retries=cfg.max_retries, backoff_base=cfg.backoff_base, backoff_cap=cfg.backoff_cap
    )


@dataclass(frozen=True)
class AccountRef:
    account_id: str
    username: str


class Archive:
    def __init__(self, config: Config, store: ObjectStore | None = None) -> None:
        self.config = config
        self.store = store if store is not None else open_store(config.storage)
        self._store_from_config = store is None
        self.staging = staging_dir(config.storage)

    def store_opener(self) -> Callable[[], ObjectStore] | None:
        """How another process (a rebuild worker) opens this store: a local store by its
        folder, one opened from the config by the config; None for a store handed in."""
        if isinstance(self.store, LocalStore):
            return functools.partial(LocalStore, self.store.root)
        if self._store_from_config:
            return functools.partial(open_store, self.config.storage)
        return None

    @functools.cached_property
    def identity(self) -> StoreIdentity:
        """The store's identity (created on first use): what its index is bound to."""
        return store_identity(self.store)

    @property
    def index_path(self) -> Path:
        """Where this store's search index lives (archiver/paths.py decides)."""
        needs_identity = not self.config.index.path and not isinstance(self.store, LocalStore)
        return index_path(self.config, self.store, self.identity if needs_identity else None)

    def runs(self, account: str | None = None) -> list[Manifest]:
        account_id = self.resolve_account(account).account_id if account else None
        return list_runs(self.store, account_id)

    def accounts(self) -> list[AccountRef]:
        """Accounts that have committed runs, with the username of their latest run."""
        latest: dict[str, str] = {}
        for m in list_runs(self.store):
            latest[m.account_id] = m.account
        return [AccountRef(i, u) for i, u in sorted(latest.items(), key=lambda kv: kv[1].lower())]

    def find_account(self, handle_or_id: str) -> AccountRef | None:
        wanted = handle_or_id.lstrip("@").lower()
        for ref in self.accounts():
            if ref.account_id == wanted or ref.username.lower() == wanted:
                return ref
        return None

    def resolve_account(self, handle_or_id: str) -> AccountRef:
        ref = self.find_account(handle_or_id)
        if ref is None:
            raise ArchiverError(f"no runs for account {handle_or_id!r} in {self.store.description}")
        return ref

    def verify(
        self, account: str | None = None, *, chain: bool = True
    ) -> list[VerifyProblem | ChainProblem]:
        """Re-hash every object against its manifest and check each account's manifest
        chain (storage/chain.py)."""
        ids = [self.resolve_account(account).account_id] if account else list_accounts(self.store)
        problems: list[VerifyProblem | ChainProblem] = []
        for account_id in ids:
            manifests = account_manifests(self.store, account_id)
            for stored in manifests:
                problems.extend(verify_run(self.store, stored.manifest))
            if chain:
                problems.extend(check_chain(manifests))
        return problems

    def garbage(self, account: str | None = None) -> list[str]:
        account_id = self.resolve_account(account).account_id if account else None
        return uncommitted_objects(self.store, account_id)

    def collect_garbage(self, older_than: dt.timedelta = dt.timedelta(hours=6)) -> list[str]:
        """Delete objects of runs that never committed and started before `older_than` ago
        (a younger one may still be uploading). Committed runs are never touched."""
        cutoff = (utcnow() - older_than).strftime("%Y%m%dT%H%M%S%fZ")
        removed = []
        for key in uncommitted_objects(self.store):
            run_id = key.split("/")[3]
            if run_id < cutoff:
                self.store.delete(key)
                removed.append(key)
        log.info("removed %d objects of uncommitted runs", len(removed))
        return removed

    def collect_leftovers(self, older_than: dt.timedelta = dt.timedelta(hours=6)) -> Leftovers:
        """Remove what killed runs left outside the archive: stale checkpoints, staging
        folders and index rebuilds last touched before `older_than` ago."""
        cutoff = utcnow() - older_than
        run_cutoff = cutoff.strftime("%Y%m%dT%H%M%S%fZ")
        checkpoints = []
        for account_id, run_id in stale_checkpoints(self.store, list_runs(self.store)):
            if run_id >= run_cutoff:
                continue  # young: a backup may be writing it
            prefix = f"accounts/{account_id}/checkpoints/{run_id}/"
            for key in list(self.store.list(prefix)):
                self.store.delete(key)
            checkpoints.append(prefix)
        staging = [str(p) for p in _old_folders(self.staging, _STAGED.match, cutoff)]
        index = self.index_path
        rebuilds = [
            str(p)
            for p in _old_folders(
                index.parent, lambda n: n.startswith(f".{index.name}.rebuild-"), cutoff
            )
        ]
        for path in [*staging, *rebuilds]:
            shutil.rmtree(path, ignore_errors=True)
        return Leftovers(checkpoints, staging, rebuilds)


def _old_folders(parent: Path, wanted: Callable[[str], object], cutoff: dt.datetime) -> list[Path]:
    try:
        entries = list(parent.iterdir())
    except OSError:
        return []  # no such folder: nothing was left there
    old = []
    for path in entries:
        try:
            touched = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        except OSError:
            continue
        if path.is_dir() and wanted(path.name) and touched < cutoff:
            old.append(path)
    return sorted(old)


# staging folders a killed run left: run-<run id>-<random>[-pages-<random>]
_STAGED = re.compile(r"^run-\d{8}T\d{12}Z-[0-9a-f]{6}-")


@dataclass
class Leftovers:
    """What `archiver gc` removed besides uncommitted run objects."""

    checkpoints: list[str]  # accounts/<id>/checkpoints/<run id>/
    staging: list[str]  # folders
    rebuilds: list[str]  # .<index>.rebuild-* folders

    def lines(self) -> list[str]:
        return [
            *(f"removed stale checkpoint {c}" for c in self.checkpoints),
            *(f"removed staging left by a killed run: {p}" for p in self.staging),
            *(f"removed a killed index rebuild: {p}" for p in self.rebuilds),
        ]


def stale_checkpoints(store: ObjectStore, manifests: list[Manifest]) -> list[tuple[str, str]]:
    """(account id, run id) of checkpoints no backup can resume: their run committed, their
    state is unreadable or gone, or a later API run of the account committed since."""
    from archiver.capture.checkpoint import STATE
    from archiver.capture.history import SOURCE

    committed = {(m.account_id, m.run_id) for m in manifests}
    latest: dict[str, str] = {}
    for m in manifests:
        if m.source == SOURCE:
            latest[m.account_id] = max(latest.get(m.account_id, ""), m.run_id)
    found: dict[tuple[str, str], bool] = {}  # -> has a readable state
    for key in store.list("accounts/"):
        parts = key.split("/")
        if len(parts) >= 5 and parts[2] == "checkpoints":
            ref = (parts[1], parts[3])
            found.setdefault(ref, False)
            if parts[4] == STATE:
                with contextlib.suppress(orjson.JSONDecodeError, StorageError):
                    found[ref] = isinstance(orjson.loads(read_bytes(store, key)), dict)
    return [
        ref
        for ref, readable in sorted(found.items())
        if ref in committed or not readable or ref[1] < latest.get(ref[0], "")
    ]
