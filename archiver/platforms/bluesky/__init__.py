"""Bluesky: repositories verified against the account's key (repo.py), normalised
(records.py), imported from a user's export (imports.py) and captured from the account's
PDS (capture.py). See archiver/platforms/__init__.py for the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.platforms.bluesky.sniff import sniff

if TYPE_CHECKING:
    from archiver.capture.backup import BackupResult
    from archiver.config import AccountConfig, Config
    from archiver.imports.files import SourceFiles
    from archiver.imports.xarchive import Parsed
    from storage.store import ObjectStore


def parse_import(path: str, *, allow_partial: bool) -> tuple[Parsed, str, SourceFiles]:
    """A repository CAR parsed and verified (imports.py, loaded once `sniff` said yes)."""
    from archiver.platforms.bluesky.imports import parse_import as parse

    return parse(path, allow_partial=allow_partial)


def backup(
    config: Config, store: ObjectStore, account: AccountConfig, **options: Any
) -> BackupResult:
    """One account's backup run (capture.py, loaded only when one runs: every import asks
    `sniff` first, and capture's modules were a tenth of a 20,000-post import's CPU)."""
    from archiver.platforms.bluesky.capture import backup as run

    return run(config, store, account, **options)


__all__ = ["backup", "parse_import", "sniff"]
