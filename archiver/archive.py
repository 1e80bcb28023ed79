"""The core object the CLI, the scheduler and the UI all drive: config + store + runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from archiver.config import Config, StorageConfig
from archiver.errors import ArchiverError
from archiver.timestamps import utcnow
from storage.local import LocalStore
from storage.retry import RetryPolicy
from storage.runs import (
    Manifest,
    VerifyProblem,
    list_runs,
    uncommitted_objects,
    verify_run,
)
from storage.s3 import S3Store, make_s3_client
from storage.store import ObjectStore

log = logging.getLogger(__name__)


def open_store(cfg: StorageConfig) -> ObjectStore:
    if cfg.backend == "s3":
        client = make_s3_client(
            endpoint_url=cfg.endpoint_url, region=cfg.region, timeout=cfg.timeout
        )
        policy = RetryPolicy(
            max_retries=cfg.max_retries, backoff_base=cfg.backoff_base, backoff_cap=cfg.backoff_cap
        )
        return S3Store(client, cfg.bucket or "", cfg.prefix, lock_days=cfg.lock_days, policy=policy)
    return LocalStore(cfg.path)


def staging_dir(cfg: StorageConfig) -> Path:
    """Where runs are staged before commit: `storage.staging_path`, else a hidden folder
    inside the local store (same disk, never listed as keys), else the user's cache
    directory, one folder per bucket and prefix. `archiver gc` empties what killed runs left."""
    if cfg.staging_path:
        return Path(cfg.staging_path).expanduser()
    if cfg.backend == "local":
        return Path(cfg.path) / ".staging"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    where = hashlib.sha256(f"{cfg.endpoint_url}|{cfg.bucket}|{cfg.prefix}".encode()).hexdigest()
    return Path(cache) / "social-archive" / "staging" / where[:16]


@dataclass(frozen=True)
class AccountRef:
    account_id: str
    username: str


class Archive:
    def __init__(self, config: Config, store: ObjectStore | None = None) -> None:
        self.config = config
        self.store = store if store is not None else open_store(config.storage)
        self.staging = staging_dir(config.storage)

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

    def verify(self, account: str | None = None) -> list[VerifyProblem]:
        problems: list[VerifyProblem] = []
        for manifest in self.runs(account):
            problems.extend(verify_run(self.store, manifest))
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
