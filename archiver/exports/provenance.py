"""Which stored bytes each exported version came from, and whether storage still holds them.

An item's SHA-256 is the hash of its line in the run's collection object (the JSON record
without the newline), so anyone holding the run can reproduce it: gunzip, take the line,
hash it. A bundle lists these hashes with the runs (and each run manifest's own hash);
`verify-bundle` re-reads the runs and checks both.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from storage.errors import NotFound, StorageError
from storage.runs import MANIFEST, Manifest, load_manifest, open_object
from storage.store import ObjectStore, read_bytes

_CHUNK = 1 << 20
_ID_PREFIX = b'{"id":"'  # new_record puts the id first: most lines need no JSON parse


def line_id(line: bytes) -> str:
    if line.startswith(_ID_PREFIX):
        end = line.find(b'"', len(_ID_PREFIX))
        if end > 0 and b"\\" not in line[len(_ID_PREFIX) : end]:
            return line[len(_ID_PREFIX) : end].decode()
    return str(orjson.loads(line)["id"])


def line_sha256(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\r\n")).hexdigest()


@dataclass(frozen=True)
class StoredVersion:
    account_id: str
    run_id: str
    collection: str
    id: str
    sha256: str
    line: bytes | None = None  # the stored record verbatim, when asked for

    def entry(self, *, with_id: bool = True) -> dict[str, Any]:
        doc = {
            "account_id": self.account_id,
            "run_id": self.run_id,
            "collection": self.collection,
            "sha256": self.sha256,
        }
        if with_id:
            doc["id"] = self.id
        return doc


class _HashingReader:
    """Hash a stored object's compressed bytes while gzip reads them: one pass for both."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


def _lines(store: ObjectStore, manifest: Manifest, collection: str) -> Iterator[bytes]:
    entry = manifest.collection(collection)
    if entry is None:
        return
    with open_object(store, manifest.prefix + entry.key) as gz:
        for line in gz:
            if line.strip():
                yield line


def stored_versions(
    store: ObjectStore,
    manifests: Mapping[str, Manifest],
    wanted: Mapping[tuple[str, str], set[str]],
    *,
    keep_lines: bool = False,
) -> dict[tuple[str, str, str], StoredVersion]:
    """(run_id, collection, id) -> the stored line's hash for every wanted record id."""
    found: dict[tuple[str, str, str], StoredVersion] = {}
    for (run_id, collection), ids in sorted(wanted.items()):
        manifest = manifests[run_id]
        for line in _lines(store, manifest, collection):
            rid = line_id(line)
            if rid in ids:
                # a run holding the same id twice: the later line is the one the view kept
                found[(run_id, collection, rid)] = StoredVersion(
                    manifest.account_id,
                    run_id,
                    collection,
                    rid,
                    line_sha256(line),
                    line.rstrip(b"\r\n") if keep_lines else None,
                )
    return found


def manifest_sha256(store: ObjectStore, manifest: Manifest) -> str:
    return hashlib.sha256(read_bytes(store, manifest.prefix + MANIFEST)).hexdigest()


def run_summary(store: ObjectStore, manifest: Manifest) -> dict[str, Any]:
    """What a bundle says about a run it drew on."""
    return {
        "run_id": manifest.run_id,
        "account_id": manifest.account_id,
        "account": manifest.account,
        "kind": manifest.kind,
        "source": manifest.source,
        "started_at": manifest.started_at,
        "committed_at": manifest.committed_at,
        "tool_version": manifest.tool_version,
        "manifest_sha256": manifest_sha256(store, manifest),
    }


def check_against_store(
    store: ObjectStore, runs: Iterable[dict[str, Any]], versions: Iterable[dict[str, Any]]
) -> tuple[int, list[str]]:
    """(items checked, problems): every run manifest unchanged, every collection object
    still matching its manifest, every exported version's stored line still there."""
    problems: list[str] = []
    manifests: dict[str, Manifest] = {}
    for run in runs:
        try:
            manifest = load_manifest(store, run["account_id"], run["run_id"])
            digest = manifest_sha256(store, manifest)
        except NotFound:
            problems.append(f"run {run['run_id']} is no longer in the archive")
            continue
        except StorageError as exc:
            problems.append(f"run {run['run_id']}: {exc}")
            continue
        if digest != run.get("manifest_sha256"):
            problems.append(f"run {run['run_id']}: manifest.json has changed since the export")
        manifests[run["run_id"]] = manifest
    wanted: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for v in versions:
        wanted.setdefault((v["run_id"], v["collection"]), []).append(v)
    checked = 0
    for (run_id, collection), entries in sorted(wanted.items()):
        checked += len(entries)
        found = manifests.get(run_id)
        if found is None:
            if not any(run_id in p for p in problems):
                problems.append(f"run {run_id} is not listed in the bundle's runs.json")
            continue
        problems.extend(_check_collection(store, found, collection, entries))
    return checked, problems


def _check_collection(
    store: ObjectStore, manifest: Manifest, collection: str, entries: list[dict[str, Any]]
) -> list[str]:
    entry = manifest.collection(collection)
    where = f"run {manifest.run_id} {collection}"
    if entry is None:
        return [f"{where}: the run has no such collection"]
    hashes: set[str] = set()
    try:
        with store.open(manifest.prefix + entry.key) as raw:
            reader = _HashingReader(raw)
            with gzip.GzipFile(fileobj=reader, mode="rb") as gz:  # type: ignore[call-overload]
                for line in gz:
                    if line.strip():
                        hashes.add(line_sha256(line))
            reader.drain()
    except NotFound:
        return [f"{where}: object {entry.key} is missing from the archive"]
    except (OSError, EOFError, StorageError) as exc:
        return [f"{where}: object {entry.key} is unreadable ({exc})"]
    problems = []
    if reader.sha256.hexdigest() != entry.sha256 or reader.size != entry.size:
        problems.append(f"{where}: object {entry.key} no longer matches its manifest")
    for v in entries:
        if v["sha256"] not in hashes:
            label = f"item {v['id']}" if v.get("id") else f"a record (sha256 {v['sha256'][:16]}…)"
            problems.append(f"{where}: {label} no longer matches storage")
    return problems
