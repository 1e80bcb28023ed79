"""Where the archiver keeps files outside the store: the one owner of derived local paths.

Nothing goes to the working directory unless configured. A local store's folder holds its
search index (`index/`), the UI's users and the demo's sources; an S3 store's index is a
cache under $XDG_CACHE_HOME keyed by the store's identity, and its users file is state under
$XDG_STATE_HOME keyed by the store's address. Settings (index.path, ui.users_path) win.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from archiver.config import Config, StorageConfig
from storage.identity import StoreIdentity
from storage.local import LocalStore
from storage.store import ObjectStore

APP = "social-archive"


def _home(variable: str, default: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / default


def cache_home() -> Path:
    return _home("XDG_CACHE_HOME", ".cache") / APP


def state_home() -> Path:
    return _home("XDG_STATE_HOME", ".local/state") / APP


def _address(cfg: StorageConfig) -> str:
    """An S3 store's folder name: its bucket and a digest of endpoint, bucket and prefix."""
    address = f"{cfg.endpoint_url}|{cfg.bucket}|{cfg.prefix}"
    return f"{cfg.bucket}-{hashlib.sha256(address.encode('utf-8')).hexdigest()[:16]}"


def local_dir(config: Config) -> Path:
    """The folder for this archive's own local files (users, demo sources): the local
    store's folder, or for S3 a state folder named after the store's address."""
    cfg = config.storage
    return Path(cfg.path) if cfg.backend == "local" else state_home() / _address(cfg)


def staging_dir(cfg: StorageConfig) -> Path:
    """Where runs are staged before commit: `storage.staging_path`, else a hidden folder
    inside the local store (same disk, never listed as keys), else the user's cache
    directory, one folder per store address. `archiver gc` empties what killed runs left."""
    if cfg.staging_path:
        return Path(cfg.staging_path).expanduser()
    if cfg.backend == "local":
        return Path(cfg.path) / ".staging"
    return cache_home() / "staging" / _address(cfg)


def index_path(config: Config, store: ObjectStore, identity: StoreIdentity | None) -> Path:
    """index.path if set; else inside a local store's folder; else a cache folder keyed by
    the store's identity (needed only then)."""
    if config.index.path:
        return Path(config.index.path)
    if isinstance(store, LocalStore):
        return store.root / "index"
    if identity is None:
        raise ValueError("an S3 store's index path needs its identity")
    return cache_home() / "index" / identity.store_id
