"""`verify-bundle`: is a bundle intact, who signed it, and does the archive still hold it?

Three independent checks, every problem collected before answering: the bag (bagit's own
validation of every hash and the payload's completeness), the signature (over the tag
manifest, by a key we trust), and storage (each exported version's stored record, each
run's manifest and collection objects, re-read and re-hashed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import bagit
import orjson

from archiver.exports.errors import BundleError
from archiver.exports.provenance import check_against_store
from archiver.exports.signing import SIGNATURE_FILE, SIGNED_FILE, check_signature
from archiver.wording import plural
from archiver.zipsafety import CHUNK, DamagedZip, UnsafeZip, check_members, open_member
from storage.errors import StorageError
from storage.runs import list_accounts
from storage.store import ObjectStore


@dataclass
class BundleReport:
    path: str
    name: str = ""
    kind: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)  # what was checked and passed
    problems: list[str] = field(default_factory=list)
    signed_by: str | None = None
    items_checked: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_extract(zip_path: Path, dest: Path) -> Path:
    """Unpack a bundle, refusing what archiver.zipsafety refuses (unsafe names, links,
    decompression bombs, members inflating past their declared size)."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{zip_path} is not a readable zip file ({exc})") from None

    def error(exc: Exception) -> BundleError:
        if isinstance(exc, DamagedZip):
            # the zip's own CRC caught a change before bagit could: still a damaged bundle
            return BundleError(f"{zip_path} is damaged: {exc.member} ({exc.reason})")
        return BundleError(f"{zip_path}: {exc} in the bundle")

    with zf:
        infos = zf.infolist()
        try:
            check_members(infos)
        except UnsafeZip as exc:
            raise error(exc) from None
        tops = {PurePosixPath(info.filename).parts[0] for info in infos}
        if len(tops) != 1:
            raise BundleError(
                f"{zip_path}: a bundle holds one bag folder, found {len(tops)} entries"
            )
        for info in infos:
            target = dest / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with open_member(zf, info, error) as src, open(target, "wb") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
    return dest / tops.pop()


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _check_bag(bag_dir: Path, report: BundleReport) -> bool:
    try:
        bag = bagit.Bag(str(bag_dir))
    except bagit.BagError as exc:
        report.problems.append(f"not a BagIt bag: {exc}")
        return False
    report.info = dict(bag.info)
    report.kind = str(bag.info.get("Export-Kind") or "") or None
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = [str(d) for d in exc.details] if exc.details else [str(exc)]
        report.problems.extend(f"bag: {d}" for d in details)
        return False
    except bagit.BagError as exc:
        report.problems.append(f"bag: {exc}")
        return False
    report.checks.append(
        f"bag valid: {len(bag.payload_entries())} payload files match their SHA-256"
    )
    return True


def _check_signature(bag_dir: Path, report: BundleReport, trusted: Sequence[str]) -> None:
    sig = check_signature(bag_dir)
    if not sig.present:
        if report.kind == "evidence":
            report.problems.append(f"evidence bundle is not signed ({SIGNATURE_FILE} missing)")
        else:
            report.checks.append("not signed")
        return
    if not sig.valid:
        report.problems.append(f"signature: {sig.problem}")
        return
    listed = {
        line.split(maxsplit=1)[1].strip()
        for line in (bag_dir / SIGNED_FILE).read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    if not {"bag-info.txt", "bagit.txt"} <= listed or not any(
        n.startswith("manifest-") for n in listed
    ):
        report.problems.append(
            "signature: the signed tag manifest does not cover the bag's manifests"
        )
        return
    declared = report.info.get("Signing-Key-Fingerprint")
    if declared and declared != sig.fingerprint:
        report.problems.append(f"signature: made with {sig.fingerprint}, bag-info names {declared}")
        return
    report.signed_by = sig.fingerprint
    if not trusted:
        report.checks.append(f"signature valid, key {sig.fingerprint} (no trusted key to compare)")
    elif sig.fingerprint in trusted:
        report.checks.append(f"signature valid: signed by this archive's key {sig.fingerprint}")
    else:
        report.problems.append(
            f"signature: made with key {sig.fingerprint},"
            f" not this archive's key {', '.join(trusted)}"
        )


def _check_storage(bag_dir: Path, report: BundleReport, store: ObjectStore | None) -> None:
    if store is None:
        report.checks.append("storage not checked (no archive given)")
        return
    try:
        if not list_accounts(store):
            report.checks.append(f"storage not checked: no archive in {store.description}")
            return
    except StorageError as exc:
        report.checks.append(f"storage not checked: archive not reachable ({exc})")
        return
    try:
        runs = orjson.loads((bag_dir / "data" / "runs.json").read_bytes())
    except (OSError, ValueError):
        report.problems.append("storage: data/runs.json is missing or unreadable")
        return
    versions = _read_jsonl(bag_dir / "data" / "provenance.jsonl")
    checked, problems = check_against_store(store, runs, versions)
    report.items_checked = checked
    report.problems.extend(f"storage: {p}" for p in problems)
    if not problems:
        report.checks.append(
            f"storage: every exported version ({checked:,}, in {plural(len(runs), 'run')})"
            " still matches the archive"
        )


def verify_bundle(
    path: str | os.PathLike[str],
    *,
    store: ObjectStore | None = None,
    trusted: Sequence[str] = (),
    workdir: str | os.PathLike[str] | None = None,
) -> BundleReport:
    """Check a bundle (zip, or an unpacked bag folder). `trusted`: key fingerprints whose
    signature proves origin; `store`: the archive to compare items with, if reachable."""
    source = Path(path)
    report = BundleReport(str(source))
    if not source.exists():
        raise BundleError(f"no such bundle: {source}")
    tmp = None
    try:
        if source.is_dir():
            bag_dir = source
        else:
            tmp = Path(tempfile.mkdtemp(prefix="verify-bundle-", dir=workdir))
            bag_dir = _safe_extract(source, tmp)
        report.name = bag_dir.name
        if _check_bag(bag_dir, report):
            _check_signature(bag_dir, report, trusted)
            _check_storage(bag_dir, report, store)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return report
