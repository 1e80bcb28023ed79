"""Mastodon: the account archive ZIP imported (archive.py), the REST API captured through
Mastodon.py (capture.py). See archiver/platforms/__init__.py for the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.platforms.mastodon.archive import parse_import, sniff

if TYPE_CHECKING:
    from archiver.capture.backup import BackupResult
    from archiver.config import AccountConfig, Config
    from storage.store import ObjectStore


def backup(
    config: Config, store: ObjectStore, account: AccountConfig, **options: Any
) -> BackupResult:
    """One account's backup run (capture.py; Mastodon.py is loaded only when one runs)."""
    from archiver.platforms.mastodon.capture import backup as run

    return run(config, store, account, **options)


def check_account(account: AccountConfig, config: Config) -> str:
    """`archiver accounts check`: whose the access token is, one line."""
    from archiver.platforms.mastodon.capture import check_account as check

    return check(account, config)


__all__ = ["backup", "check_account", "parse_import", "sniff"]
