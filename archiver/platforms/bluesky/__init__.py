"""Bluesky: repositories verified against the account's key (repo.py), normalised
(records.py), imported from a user's export (imports.py) and captured from the account's
PDS (capture.py). See archiver/platforms/__init__.py for the contract."""

from __future__ import annotations

from archiver.platforms.bluesky.capture import backup
from archiver.platforms.bluesky.imports import parse_import, sniff

__all__ = ["backup", "parse_import", "sniff"]
