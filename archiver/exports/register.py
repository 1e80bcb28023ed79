"""The export register: one append-only record per export, kept in the archive's store.

Until the audit log exists, every export (monthly, FOI, SAR, evidence) leaves a JSON object
at `exports/<YYYY>/<timestamp>-<kind>-<random>.json`: who, when, what was asked for, what the
bundle holds and where it went. Objects are written create-only and never changed, so the UI
(and later the audit log) can list them.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import secrets
from typing import Any

import orjson

from archiver.exports.errors import ExportError
from archiver.timestamps import isoformat, utcnow
from storage.errors import StorageError
from storage.store import ObjectStore, read_bytes

log = logging.getLogger(__name__)

PREFIX = "exports/"
FORMAT = "social-archive/export-record/1"


def default_operator() -> str:
    """Who runs the command (the UI passes the logged-in user instead)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record_export(
    store: ObjectStore, entry: dict[str, Any], *, at: dt.datetime | None = None
) -> str:
    """Append one export record; returns its key. The entry must hold no secrets."""
    at = at or utcnow()
    kind = entry.get("kind", "export")
    key = f"{PREFIX}{at:%Y}/{at:%Y%m%dT%H%M%S%fZ}-{kind}-{secrets.token_hex(3)}.json"
    doc = {"format": FORMAT, "recorded_at": isoformat(at), **entry}
    try:
        store.put_bytes(key, orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    except StorageError as exc:
        raise ExportError(
            f"the {kind} export finished but its export record could not be saved: {exc}"
        ) from None
    log.info("export record %s saved (%s by %s)", key, kind, entry.get("operator"))
    return key


def list_exports(store: ObjectStore, kind: str | None = None) -> list[dict[str, Any]]:
    """Every export record, oldest first, optionally of one kind."""
    out = []
    for key in store.list(PREFIX):
        if not key.endswith(".json"):
            continue
        doc = orjson.loads(read_bytes(store, key))
        if kind is None or doc.get("kind") == kind:
            out.append({"key": key, **doc})
    return out
