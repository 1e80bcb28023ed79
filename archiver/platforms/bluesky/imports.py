"""Importing a Bluesky repository the user exported: a `.car` file, or a folder in the layout
of the common backup tools (goat's backup template):

    <handle>.car         the repository (CAR v1, signed commit)
    <handle>.json        the DID document (or describeRepo's output, which holds it)
    <handle>_plc.json    the PLC directory's data for the DID (signing key, PDS)
    <handle>_blobs/      the blobs (images, video), each named by its CID

A bare `.car` is read with the DID document beside it (`<name>.json` / `<name>_plc.json`).
Everything is verified before the first record is written (repo.verify_car: hashes, signature
against the DID document's key, the Merkle tree; blobs against their CIDs); any failure is one
line naming the file, and the archive is unchanged.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from archiver.errors import ArchiveFormatError
from archiver.imports.fields import FieldError
from archiver.imports.files import SourceFiles
from archiver.imports.xarchive import Parsed
from archiver.platforms.bluesky.identity import Identity, parse_did_doc
from archiver.platforms.bluesky.records import SOURCE, blob_refs, media_file_name, normalise
from archiver.platforms.bluesky.repo import RepoError, Repository, cid_text, verify_car
from archiver.platforms.bluesky.sniff import _car_in
from archiver.timestamps import isoformat, utcnow
from storage.accountids import qualified_account_id

MAX_JSON = 4 << 20  # a DID document is a few hundred bytes
MAX_CAR = 4 << 30
_TID = "234567abcdefghijklmnopqrstuvwxyz"


class PickedFiles(SourceFiles):
    """Named files of one folder (never a walk of it: a .car may sit in a large Downloads)."""

    def __init__(self, root: str | os.PathLike[str], names: list[str]) -> None:
        self.root = Path(root)
        self.label = str(root)
        self._names = sorted(names)

    def names(self) -> list[str]:
        return self._names

    def exists(self, name: str) -> bool:
        return name in self._names

    def open(self, name: str) -> BinaryIO:
        if name not in self._names:
            raise ArchiveFormatError(f"{self.label}: {name} is missing")
        return open(self.root / name, "rb")


def tid_time(tid: str) -> str | None:
    """The moment a TID (a repository revision or record key) was made, or None."""
    if len(tid) != 13 or any(c not in _TID for c in tid):
        return None
    value = 0
    for c in tid:
        value = value * 32 + _TID.index(c)
    import datetime as dt

    try:
        moment = dt.datetime.fromtimestamp((value >> 10) / 1e6, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return isoformat(moment, "milliseconds")


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_JSON:
        raise ArchiveFormatError(f"{path.name}: too large for a DID document")
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ArchiveFormatError(f"{path.name}: not JSON ({exc})") from None


def identity_beside(folder: Path, stem: str) -> tuple[Identity | None, list[str], dict[str, Any]]:
    """(identity, DID document files, describeRepo output) of the files beside a CAR."""
    found: list[tuple[str, Identity]] = []
    described: dict[str, Any] = {}
    for name in (f"{stem}.json", f"{stem}_plc.json", f"{stem}.did.json", "did.json"):
        path = folder / name
        if not path.is_file():
            continue
        doc = _read_json(path)
        if isinstance(doc, dict) and isinstance(doc.get("didDoc"), dict):  # describeRepo
            described = doc
            doc = doc["didDoc"]
        found.append((name, parse_did_doc(doc, name)))
    if not found:
        return None, [], described
    first_name, ident = found[0]
    for name, other in found[1:]:
        if (other.did, other.signing_key) != (ident.did, ident.signing_key):
            raise ArchiveFormatError(
                f"{name}: names {other.did} key {other.signing_key}, but {first_name} names "
                f"{ident.did} key {ident.signing_key}"
            )
    handle = ident.handle or next((o.handle for _, o in found if o.handle), None)
    if not handle and isinstance(described.get("handle"), str):
        handle = described["handle"]
    ident = Identity(ident.did, ident.signing_key, ident.pds, handle)
    return ident, [n for n, _ in found], described


def raw_blob_cid(data: bytes) -> str:
    """The CID (v1, raw, SHA-256) a blob's bytes have: how Bluesky names every blob."""
    return cid_text(b"\x01\x55\x12\x20" + hashlib.sha256(data).digest())


def owner_of(ident: Identity, repo: Repository) -> dict[str, str]:
    name = ""
    for rec in repo.records:
        if rec.collection == "app.bsky.actor.profile" and rec.rkey == "self":
            value = rec.value.get("displayName")
            name = value if isinstance(value, str) else ""
    return {
        "id": qualified_account_id("bluesky", repo.did),
        "username": ident.handle or repo.did,
        "name": name,
    }


def repo_records(
    repo: Repository, owner: dict[str, str], captured_at: str | None, where: str
) -> list[tuple[str | None, dict[str, Any]]]:
    """Every record of the repository, normalised; a record of the wrong shape names itself."""
    out = []
    for rec in repo.records:
        try:
            out.append(normalise(rec, owner, captured_at))
        except FieldError as exc:
            raise exc.at(where) from None
    return out


def repo_details(repo: Repository, *, car: str, did_docs: list[str]) -> dict[str, Any]:
    """What a run says about the repository it holds (read by the next incremental capture)."""
    return {
        "platform": "bluesky",
        "did": repo.did,
        "repo": {
            "rev": repo.rev,
            "commit": repo.commit_cid,
            "data": repo.data_cid,
            "version": repo.version,
            "signing_key": repo.signing_key,
            "car": f"files/{car}",
            "did_documents": [f"files/{d}" for d in did_docs],
            "records": len(repo.records),
            "collections": repo.counts(),
        },
    }


def parse_import(path: str, *, allow_partial: bool) -> tuple[Parsed, str, SourceFiles]:
    if os.path.isdir(path):
        folder = Path(path)
        car_name = _car_in(path)
        if car_name is None:
            raise ArchiveFormatError(f"{os.path.basename(path)}: no single .car file in it")
    else:
        folder, car_name = Path(path).parent, os.path.basename(path)
    stem = car_name[: -len(".car")] if car_name.endswith(".car") else car_name
    car_path = folder / car_name
    if car_path.stat().st_size > MAX_CAR:
        raise ArchiveFormatError(f"{car_name}: larger than any repository ({MAX_CAR >> 30} GB)")
    ident, did_docs, described = identity_beside(folder, stem)
    gaps: list[str] = []
    if ident is None:
        if not allow_partial:
            raise ArchiveFormatError(
                f"{car_name}: no DID document beside it ({stem}.json or {stem}_plc.json) to "
                "check the commit signature against; save the account's DID document there, "
                "or import with --allow-partial to keep it unverified"
            )
        gaps.append(f"{car_name}: no DID document beside it: the commit signature is not checked")
    data = car_path.read_bytes()
    try:
        if ident is None:
            repo = verify_car(data, did=None, key=None)
        else:
            repo = verify_car(data, did=ident.did, key=ident.signing_key)
    except RepoError as exc:
        raise ArchiveFormatError(f"{car_name}: {exc}") from None
    if ident is None:
        ident = Identity(repo.did, "", None, None)
    owner = owner_of(ident, repo)
    warnings = []
    if repo.unreached:
        warnings.append(
            f"{car_name}: {repo.unreached} blocks are not reached from the signed commit "
            "(kept in the CAR file, not read as records)"
        )
    captured_at = isoformat(utcnow())
    records = repo_records(repo, owner, captured_at, car_name)
    run_car = f"bluesky/{stem}.car"
    files = [(run_car, car_name)] + [(f"bluesky/{d}", d) for d in did_docs]
    if described:
        files.append((f"bluesky/{stem}.describe.json", f"{stem}.json"))
    files += _blob_files(folder, stem, repo, warnings)
    names = sorted({src for _, src in files})
    details = repo_details(repo, car=run_car, did_docs=[f"bluesky/{d}" for d in did_docs])
    details["generated_at"] = tid_time(repo.rev) or captured_at
    parsed = Parsed(
        owner=owner,
        era="repository backup folder" if os.path.isdir(path) else "repository CAR",
        records=records,
        files=files,
        expected={},
        gaps=gaps,
        warnings=warnings,
        details=details,
    )
    return parsed, SOURCE, PickedFiles(folder, names)


def _blob_files(
    folder: Path, stem: str, repo: Repository, warnings: list[str]
) -> list[tuple[str, str]]:
    blobs = folder / f"{stem}_blobs"
    if not blobs.is_dir():
        return []
    mimes: dict[str, str | None] = {}
    for rec in repo.records:
        for cid, mime in blob_refs(rec.value):
            mimes.setdefault(cid, mime)
    out = []
    unnamed = 0
    for entry in sorted(blobs.iterdir()):
        if not entry.is_file():
            continue
        rel = f"{stem}_blobs/{entry.name}"
        cid = entry.name.split(".", 1)[0]
        if not cid.startswith("baf"):
            unnamed += 1
            continue
        if raw_blob_cid(entry.read_bytes()) != cid:
            raise ArchiveFormatError(
                f"{rel}: the blob's bytes do not hash to its CID (the file was altered or damaged)"
            )
        out.append((media_file_name(cid, mimes.get(cid)), rel))
    if unnamed:
        warnings.append(f"{stem}_blobs: {unnamed} files not named by a CID were not imported")
    return out
