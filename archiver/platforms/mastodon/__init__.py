"""Mastodon: the account archive ZIP imported (archive.py), the REST API captured through
Mastodon.py (capture.py). See archiver/platforms/__init__.py for the contract."""

from __future__ import annotations

from archiver.platforms.mastodon.archive import parse_import, sniff

__all__ = ["parse_import", "sniff"]
