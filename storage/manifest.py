"""A run's manifest: the commit point of a run, listing each object's key, size, SHA-256 and
record count, and what the run was (source, kind, window, cursors, parent, gaps, errors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from storage.errors import StorageError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "social-archive/run/1"


def run_prefix(account_id: str, run_id: str) -> str:
    """Where a run's objects live: accounts/<account_id>/runs/<run_id>/."""
    return f"accounts/{account_id}/runs/{run_id}/"


@dataclass(frozen=True)
class ObjectEntry:
    key: str  # relative to the run
    size: int
    sha256: str
    records: int | None = None  # None for files that are not JSONL collections
    collection: str | None = None


@dataclass(frozen=True)
class Manifest:
    run_id: str
    account_id: str
    account: str
    kind: str
    source: str
    started_at: str
    committed_at: str
    tool_version: str
    objects: tuple[ObjectEntry, ...]
    parent_run: str | None = None
    window: dict[str, Any] = field(default_factory=dict)
    cursors: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    gaps: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[dict[str, Any], ...] = ()

    @property
    def prefix(self) -> str:
        return run_prefix(self.account_id, self.run_id)

    @property
    def counts(self) -> dict[str, int]:
        return {o.collection: o.records or 0 for o in self.objects if o.collection}

    def collection(self, name: str) -> ObjectEntry | None:
        return next((o for o in self.objects if o.collection == name), None)

    def to_json(self) -> bytes:
        doc = {
            "format": MANIFEST_FORMAT,
            "run_id": self.run_id,
            "account_id": self.account_id,
            "account": self.account,
            "kind": self.kind,
            "source": self.source,
            "started_at": self.started_at,
            "committed_at": self.committed_at,
            "tool_version": self.tool_version,
            "parent_run": self.parent_run,
            "window": self.window,
            "cursors": self.cursors,
            "details": self.details,
            "counts": self.counts,
            "gaps": list(self.gaps),
            "warnings": list(self.warnings),
            "errors": list(self.errors),
            "objects": [o.__dict__ for o in self.objects],
        }
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        doc = orjson.loads(data)
        if doc.get("format") != MANIFEST_FORMAT:
            raise StorageError(f"unknown manifest format {doc.get('format')!r}")
        return cls(
            run_id=doc["run_id"],
            account_id=doc["account_id"],
            account=doc["account"],
            kind=doc["kind"],
            source=doc["source"],
            started_at=doc["started_at"],
            committed_at=doc["committed_at"],
            tool_version=doc["tool_version"],
            parent_run=doc.get("parent_run"),
            window=doc.get("window") or {},
            cursors=doc.get("cursors") or {},
            details=doc.get("details") or {},
            gaps=tuple(doc.get("gaps") or ()),
            warnings=tuple(doc.get("warnings") or ()),
            errors=tuple(doc.get("errors") or ()),
            objects=tuple(ObjectEntry(**o) for o in doc["objects"]),
        )
