"""Heads: the newest link of every account's manifest chain and of the audit log, signed.

A chain proves that nothing in the middle changed; only a copy of its head kept elsewhere
proves that nothing was cut off the end or rewritten from some point on. `archiver heads`
prints that copy (signed with the archive's Ed25519 key, export.signing_key_*, when there
is one), the scheduler stores one after every job (`heads/<time>.json`), and
`verify --against FILE` / `audit verify --against FILE` check the store against it.

    {"format": "social-archive/heads/1", "store_id", "taken_at", "tool",
     "accounts": [{"account_id", "account", "run_id", "sha256", "runs", "chained"}],
     "audit": {"events", "sha256"}, "signature": {...}}

`store_id` is the store's identity (storage/identity.py, `store.json`, written once), so
heads of one archive are never checked against another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Any

import orjson

from archiver import TOOL
from archiver.archive import Archive
from archiver.audit import AuditLog, event_key
from archiver.errors import ArchiverError
from archiver.exports.signing import check_document, load_signing_key, sign_document
from archiver.timestamps import isoformat, utcnow
from storage.chain import account_manifests, chain_head, load_stored, walk_back
from storage.errors import NotFound
from storage.identity import store_identity
from storage.runs import list_accounts
from storage.store import ObjectStore, read_bytes

HEADS_FORMAT = "social-archive/heads/1"
HEADS_PREFIX = "heads/"


class HeadsError(ArchiverError):
    """A heads file that cannot be used (malformed, unsigned, another key or store)."""


def store_id(store: ObjectStore) -> str:
    """The store's identity (storage/identity.py), written the first time it is asked for."""
    return store_identity(store).store_id


def take_heads(archive: Archive, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The heads of every account's chain and of the audit log, signed when a key is set."""
    store = archive.store
    accounts = []
    for account_id in list_accounts(store):
        head = chain_head(account_manifests(store, account_id, cached=True))
        if head is not None:
            accounts.append(
                {
                    "account_id": head.account_id,
                    "account": head.account,
                    "run_id": head.run_id,
                    "sha256": head.sha256,
                    "runs": head.runs,
                    "chained": head.chained,
                }
            )
    audit = AuditLog(store).head()
    doc: dict[str, Any] = {
        "format": HEADS_FORMAT,
        "store_id": store_id(store),
        "taken_at": isoformat(now or utcnow()),
        "tool": TOOL,
        "accounts": accounts,
        "audit": {"events": audit.events, "sha256": audit.digest},
    }
    key = load_signing_key(archive.config.export)
    return sign_document(doc, key) if key else doc


def heads_bytes(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def save_heads(archive: Archive, doc: dict[str, Any]) -> str:
    """Keep a heads record in the store (create-only): the scheduler does after each job."""
    stamp = str(doc["taken_at"]).replace("-", "").replace(":", "").replace(".", "")
    key = f"{HEADS_PREFIX}{stamp}-{uuid.uuid4().hex[:6]}.json"
    archive.store.put_bytes(key, heads_bytes(doc))
    return key


def load_heads(archive: Archive, path: str | Path) -> dict[str, Any]:
    """Read and check a heads file: its shape, its signature, that it is this store's."""
    name = str(path)
    try:
        doc = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise HeadsError(f"{name}: cannot read the heads file: {exc.strerror}") from None
    except orjson.JSONDecodeError:
        raise HeadsError(f"{name}: not a heads file (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("format") != HEADS_FORMAT:
        raise HeadsError(f"{name}: not a heads file (format is not {HEADS_FORMAT})")
    if not _well_formed(doc):
        raise HeadsError(f"{name}: not a heads file (accounts or audit malformed)")
    key = load_signing_key(archive.config.export)
    check = check_document(doc)
    if check.present and not check.valid:
        raise HeadsError(f"{name}: {check.problem}: the heads were altered after signing")
    if key is not None:
        if not check.present:
            raise HeadsError(
                f"{name}: the heads are not signed, but the archive has a signing key"
                f" ({key.fingerprint})"
            )
        if check.fingerprint != key.fingerprint:
            raise HeadsError(
                f"{name}: signed by another key ({check.fingerprint}), not the archive's"
                f" ({key.fingerprint})"
            )
    ours = store_id(archive.store)
    if doc["store_id"] != ours:
        raise HeadsError(
            f"{name}: the heads are of another store (id {doc['store_id']}; this one is {ours})"
        )
    return doc


def _well_formed(doc: dict[str, Any]) -> bool:
    accounts, audit = doc.get("accounts"), doc.get("audit")
    if not isinstance(doc.get("store_id"), str) or not isinstance(accounts, list):
        return False
    for acc in accounts:
        if not isinstance(acc, dict) or not all(
            isinstance(acc.get(k), str) for k in ("account_id", "run_id", "sha256")
        ):
            return False
        if not isinstance(acc.get("runs"), int):
            return False
    return (
        isinstance(audit, dict)
        and isinstance(audit.get("events"), int)
        and isinstance(audit.get("sha256"), str)
    )


def check_runs_against(
    archive: Archive, heads: dict[str, Any], account_id: str | None = None
) -> list[str]:
    """What changed in the manifest chains since `heads` was taken: a head run removed or
    rewritten, or a chain that no longer leads back to it."""
    problems: list[str] = []
    taken = heads["taken_at"]
    for saved in heads["accounts"]:
        if account_id is not None and saved["account_id"] != account_id:
            continue
        who = f"@{saved.get('account', '?')} ({saved['account_id']})"
        run_id = saved["run_id"]
        stored = load_stored(archive.store, saved["account_id"], run_id)
        if stored is None:
            problems.append(
                f"heads: {who}: run {run_id}, the head on {taken}, was removed"
                " (newest runs cut off)"
            )
            continue
        if stored.sha256 != saved["sha256"]:
            problems.append(
                f"heads: {who}: the manifest of run {run_id} was rewritten since {taken}"
            )
            continue
        manifests = account_manifests(archive.store, saved["account_id"])
        head = chain_head(manifests)
        chain = walk_back(manifests, head.run_id) if head else []
        if run_id not in chain:
            problems.append(
                f"heads: {who}: the chain no longer leads back to run {run_id}, the head on"
                f" {taken} (runs after it were replaced)"
            )
        elif len(walk_back(manifests, run_id)) < int(saved["runs"]):
            problems.append(
                f"heads: {who}: {saved['runs']} runs led to run {run_id} on {taken}, now"
                f" {len(walk_back(manifests, run_id))} (runs removed)"
            )
    return problems


def check_audit_against(store: ObjectStore, heads: dict[str, Any]) -> list[str]:
    """What changed in the audit log since `heads`: events cut off, or the event that was
    the head (and so everything before it) rewritten."""
    saved = heads["audit"]
    events, digest = int(saved["events"]), str(saved["sha256"])
    if events == 0:
        return []
    taken = heads["taken_at"]
    try:
        data = read_bytes(store, event_key(events))
    except NotFound:
        have = AuditLog(store).head().events
        return [
            f"heads: the audit log had {events} events on {taken}; event {events} is gone"
            f" (now {have}: the newest events were removed)"
        ]
    if hashlib.sha256(data).hexdigest() != digest:
        return [
            f"heads: audit event {events}, the head on {taken}, was rewritten"
            " (a forged or re-hashed log)"
        ]
    return []
