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
class RunRef:
    """Another manifest of the same account, by run id and the SHA-256 of its bytes."""

    run_id: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"run_id": self.run_id, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> RunRef:
        if not isinstance(doc, dict):
            raise TypeError("chain: expected an object")
        run_id, sha256 = doc["run_id"], doc["sha256"]
        if not isinstance(run_id, str) or not isinstance(sha256, str):
            raise TypeError("chain: run_id and sha256 must be strings")
        return cls(run_id, sha256)


@dataclass(frozen=True)
class ChainLink:
    """A manifest's place in its account's chain (see storage/chain.py)."""

    previous: RunRef | None  # the account's previous manifest; None for its first
    legacy: tuple[RunRef, ...] = ()  # unchained manifests linked by the first chained one

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous": self.previous.to_dict() if self.previous else None,
            "legacy": [ref.to_dict() for ref in self.legacy],
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ChainLink:
        if not isinstance(doc, dict):
            raise TypeError("chain: expected an object")
        previous = doc.get("previous")
        return cls(
            RunRef.from_dict(previous) if previous is not None else None,
            tuple(RunRef.from_dict(ref) for ref in doc.get("legacy") or ()),
        )


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
    chain: ChainLink | None = None  # None: written before chaining existed

    @property
    def prefix(self) -> str:
        return run_prefix(self.account_id, self.run_id)

    @property
    def counts(self) -> dict[str, int]:
        return {o.collection: o.records or 0 for o in self.objects if o.collection}

    def collection(self, name: str) -> ObjectEntry | None:
        return next((o for o in self.objects if o.collection == name), None)

    def to_json(self) -> bytes:
        doc: dict[str, Any] = {
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
        if self.chain is not None:
            doc["chain"] = self.chain.to_dict()
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
            chain=ChainLink.from_dict(doc["chain"]) if "chain" in doc else None,
        )
