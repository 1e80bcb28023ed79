"""Platforms beyond X (Bluesky, Mastodon): the one place capture and import dispatch to them.

X keeps its own modules (`archiver.capture`, `archiver.imports`); each other platform is a
package `archiver.platforms.<platform>` that provides

- `backup(config, store, account, *, full, progress, wait) -> BackupResult`: one account's
  backup run, every failure caught and reported as the result's one-line `error` (so the next
  account runs);
- `sniff(path) -> bool` and `parse_import(path, *, allow_partial) -> (Parsed, source, files)`:
  recognise and parse an import source the user exported (checked completely before anything
  is written, like X's archive).

Records they produce are built with `storage.records.new_record` (with a `bluesky-*` or
`mastodon-*` source) and their accounts are named by `storage.accountids.qualified_account_id`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any

from storage.records import PLATFORMS

if TYPE_CHECKING:
    from archiver.capture.backup import BackupResult
    from archiver.config import AccountConfig, Config
    from archiver.imports.files import SourceFiles
    from archiver.imports.xarchive import Parsed
    from storage.store import ObjectStore

OTHER_PLATFORMS = tuple(p for p in PLATFORMS if p != "x")


def _module(platform: str) -> ModuleType | None:
    if platform not in OTHER_PLATFORMS:
        return None
    try:
        return importlib.import_module(f"archiver.platforms.{platform}")
    except ModuleNotFoundError as exc:
        if exc.name == f"archiver.platforms.{platform}":
            return None  # not built into this version
        raise


def backup_runner(
    config: Config,
    store: ObjectStore,
    account: AccountConfig,
    **options: Any,
) -> Callable[[], BackupResult]:
    """A callable running one non-X account's backup, for `capture.backup.run_backups`."""
    module = _module(account.platform)
    if module is None or not hasattr(module, "backup"):
        from archiver.capture.backup import BackupResult

        error = f"{account.platform} capture is not available in this version"
        return lambda: BackupResult(account.username, error=error)
    return partial(module.backup, config, store, account, **options)


def check_account(config: Config, account: AccountConfig) -> str:
    """`archiver accounts check` for a non-X account: the platform's own check (a package's
    optional `check_account(account, config) -> str`), else one line saying there is none."""
    from archiver.errors import ArchiverError

    module = _module(account.platform)
    if module is None or not hasattr(module, "check_account"):
        raise ArchiverError(
            f"account @{account.username}: {account.platform} account checks are not "
            "available in this version (`archiver backup --account` tries the account)"
        )
    line: str = module.check_account(account, config)
    return line


def parse_import(
    path: str, *, allow_partial: bool
) -> tuple[Parsed, str, SourceFiles | None] | None:
    """Parse `path` when a non-X platform recognises it; None when none does."""
    for platform in OTHER_PLATFORMS:
        module = _module(platform)
        if module is not None and hasattr(module, "sniff") and module.sniff(path):
            result: tuple[Parsed, str, SourceFiles | None] = module.parse_import(
                path, allow_partial=allow_partial
            )
            return result
    return None
