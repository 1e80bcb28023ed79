"""The bag every export kind shares: records, payloads, CSV, HTML, media, bag-info, zip.

A bundle is one BagIt bag (RFC 8493) made with the `bagit` library, zipped with its base
directory at the top. Everything is ordered and dated deterministically (entries sorted, zip
times and Bagging-Date given by the caller), so the same items from the same runs make the
same bytes.

    data/records.jsonl     every version of every item, oldest version first (without `raw`)
    data/payloads.jsonl    each version's `raw`, the original object as the source served it
    data/provenance.jsonl  the run, collection and stored SHA-256 each version came from
    data/runs.json         those runs: source, kind, commit time, manifest SHA-256
    data/items.csv         one row per version, safe to open in a spreadsheet
    data/index.html        a printable listing that loads nothing from outside
    data/media/...         the items' media files, checked against their run manifests
    VERIFY.txt             how to check the bag with sha256sum, bagit.py and openssl alone
    public-key.pem         the signing key (signed bundles), beside signature-ed25519.json/.sig
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bagit
import orjson

from archiver import TOOL
from archiver.exports.errors import ExportError
from archiver.exports.instructions import write_instructions, write_raw_signature
from archiver.exports.items import ExportItem
from archiver.exports.listing import CsvListing, HtmlListing
from archiver.exports.media import MediaIndex, copy_verified
from archiver.exports.provenance import StoredVersion, run_summary, stored_versions
from archiver.exports.signing import SIGNED_FILE, SigningKey, sign_bag
from archiver.timestamps import DISPLAY_TIMEZONE
from archiver.wording import plural
from storage.errors import IntegrityError
from storage.runs import Manifest
from storage.store import ObjectStore

if TYPE_CHECKING:
    from archiver.exports.redaction import Redactor

log = logging.getLogger(__name__)

# bagit 1.9 still writes the draft's 0.97; the bag we make follows RFC 8493
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
# bagit.make_bag chdirs into the bag while it hashes: run in this process, it would pull the
# working directory from under every other thread (a scheduler job, a UI request using a
# relative path). So it runs in a child interpreter of its own.
_MAKE_BAG = (
    "import json, sys, bagit; a = json.load(sys.stdin); "
    "bagit.make_bag(a['dir'], a['info'], checksums=['sha256'])"
)
# already-compressed media gain nothing from deflate
_STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp4", ".mov", ".m4v", ".zip", ".gz")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ExportBundle:
    """A finished, zipped bag waiting in its builder's work directory."""

    path: Path
    name: str
    kind: str
    sha256: str
    size: int
    items: int
    versions: int
    counts: dict[str, int]
    runs: tuple[str, ...]
    signed_by: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        return f"{self.name}.zip"

    @property
    def counts_text(self) -> str:
        """'9 items (dm 1, mention 1, reply 7)'"""
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.counts.items()))
        return f"{plural(self.items, 'item')} ({kinds})"

    @property
    def size_text(self) -> str:
        size = float(self.size)
        for unit in ("B", "kB", "MB"):
            if size < 1000:
                return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
            size /= 1000
        return f"{size:.1f} GB"


def _fill_deletion(rec: dict[str, Any], deleted_at: str | None) -> dict[str, Any]:
    # the view may know a deletion from a later run's event: show it on the record
    if deleted_at and not rec.get("deleted_at"):
        return {**rec, "deleted_at": deleted_at}
    return rec


class BundleBuilder:
    """Build one bag in a private work directory; use as a context manager.

    >>> with BundleBuilder(store, manifests, name="X-2024-03", kind="monthly") as b:
    ...     b.write_items(items, title="...", summary=[...])
    ...     bundle = b.build(info, bagging_date=when)
    ...     deliver(bundle)     # before the with-block ends: the work dir goes with it
    """

    def __init__(
        self,
        store: ObjectStore,
        manifests: Iterable[Manifest],
        *,
        name: str,
        kind: str,
        workdir: str | os.PathLike[str] | None = None,
        zone: str = DISPLAY_TIMEZONE,
    ) -> None:
        self.store = store
        self.zone = zone  # ui.timezone: the times index.html and items.csv show
        self.manifests = {m.run_id: m for m in manifests}
        self.name = name
        self.kind = kind
        self._work = Path(tempfile.mkdtemp(prefix=f"export-{kind}-", dir=workdir))
        self.bag_dir = self._work / name
        self.bag_dir.mkdir()
        self.counts: Counter[str] = Counter()
        self.items = 0
        self.versions = 0
        self.runs: set[str] = set()
        self.stored: dict[tuple[str, str, str], StoredVersion] = {}
        self.media_files = 0

    # -- payload -----------------------------------------------------------------------------
    def write_items(
        self,
        items: Sequence[ExportItem],
        *,
        title: str,
        summary: Sequence[tuple[str, Any]],
        notice: str | None = None,
        redactor: Redactor | None = None,
        media: bool = True,
        keep_lines: bool = False,
    ) -> None:
        """Write the records, payloads, provenance, CSV, HTML and media of `items`, in order."""
        if redactor is not None:
            items = [i for i in items if not redactor.excluded(i)]
            redactor.prepare(items)
        self.stored = self._stored(items, keep_lines)
        self.counts = Counter(i.kind for i in items)
        by_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(self.counts.items()))
        summary = [*summary, ("Items", f"{len(items)} ({by_kind})")]
        media_index = MediaIndex(self.manifests.values(), self.store) if media else None
        with (
            open(self.bag_dir / "records.jsonl", "wb") as records,
            open(self.bag_dir / "payloads.jsonl", "wb") as payloads,
            open(self.bag_dir / "provenance.jsonl", "wb") as provenance,
            # a byte-order mark, or Excel reads UTF-8 accents and emoji as mojibake
            open(self.bag_dir / "items.csv", "w", encoding="utf-8-sig", newline="") as csv_fh,
            open(self.bag_dir / "index.html", "w", encoding="utf-8") as html_fh,
        ):
            csv_out = CsvListing(csv_fh, self.zone)
            html_out = HtmlListing(
                html_fh,
                title=title,
                summary=summary,
                notice=notice,
                zone=self.zone,
                evidence=self.kind == "evidence",
            )
            for item in items:
                files = self._media(item, media_index, redactor)
                out = redactor.redact_item(item) if redactor is not None else item
                versions = [_fill_deletion(rec, out.deleted_at) for rec in out.versions]
                for original, rec in zip(item.versions, versions, strict=True):
                    # the original payload goes to payloads.jsonl, once
                    records.write(
                        orjson.dumps({k: v for k, v in rec.items() if k != "raw"}) + b"\n"
                    )
                    payloads.write(
                        orjson.dumps(
                            {
                                "id": rec.get("id"),
                                "run_id": rec.get("run_id"),
                                "source": rec.get("source"),
                                "captured_at": rec.get("captured_at"),
                                "raw": rec.get("raw"),
                            }
                        )
                        + b"\n"
                    )
                    self._provenance(provenance, item, original, with_id=redactor is None)
                csv_out.add(out.key, versions, files)
                html_out.add(out.key, versions, files, out.deleted_at)
                self.items += 1
                self.versions += len(versions)
            counted = f"{plural(self.items, 'item')}, {plural(self.versions, 'version')}"
            html_out.close(footer=f"{self.name}: {counted}")
        self.add_json(
            "runs.json", [run_summary(self.store, self.manifests[r]) for r in sorted(self.runs)]
        )

    def _stored(
        self, items: Sequence[ExportItem], keep_lines: bool
    ) -> dict[tuple[str, str, str], StoredVersion]:
        wanted: dict[tuple[str, str], set[str]] = {}
        for item in items:
            for rec in item.versions:
                run_id = rec.get("run_id")
                if run_id in self.manifests:
                    wanted.setdefault((run_id, item.collection), set()).add(str(rec["id"]))
        return stored_versions(self.store, self.manifests, wanted, keep_lines=keep_lines)

    def _provenance(
        self, fh: io.BufferedWriter, item: ExportItem, rec: dict[str, Any], *, with_id: bool
    ) -> None:
        stored = self.stored.get((str(rec.get("run_id")), item.collection, str(rec["id"])))
        if stored is None:
            # the view can only hold records it read from a run, so storage changed under us
            raise IntegrityError(
                f"item {rec['id']}: not found in run {rec.get('run_id')} ({item.collection});"
                " run `archiver verify`"
            )
        self.runs.add(stored.run_id)
        entry = stored.entry(with_id=with_id)
        if with_id:
            entry = {"item": item.key, **entry}
        fh.write(orjson.dumps(entry) + b"\n")

    def _media(
        self, item: ExportItem, index: MediaIndex | None, redactor: Redactor | None
    ) -> list[str]:
        if index is None or (redactor is not None and not redactor.allows_media(item)):
            return []
        names = []
        for rec in item.versions:
            for f in index.files_for(rec):
                rel = f"media/{f.name}"
                dest = self.bag_dir / rel
                if rel not in names and not dest.exists():
                    copy_verified(self.store, f, dest)
                    self.media_files += 1
                if rel not in names:
                    names.append(rel)
        return names

    def add_json(self, rel: str, doc: Any) -> None:
        self.add_bytes(rel, orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")

    def add_text(self, rel: str, text: str) -> None:
        self.add_bytes(rel, text.encode("utf-8"))

    def add_bytes(self, rel: str, data: bytes) -> None:
        dest = self.bag_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)

    def add_stored(self, rel: str, key: str, sha256: str) -> None:
        """Copy an object from the archive into the payload, checked against its manifest hash."""
        dest = self.bag_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        with self.store.open(key) as src, open(dest, "wb") as out:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != sha256:
            raise IntegrityError(f"{key} does not match its run's manifest; run `archiver verify`")

    # -- bag and zip -------------------------------------------------------------------------
    def build(
        self,
        info: dict[str, Any],
        *,
        bagging_date: dt.datetime,
        signing_key: SigningKey | None = None,
    ) -> ExportBundle:
        """Bag the payload, sign it if a key is given, zip it with fixed dates and order."""
        info = {
            **info,
            "Bagging-Date": bagging_date.astimezone(dt.UTC).strftime("%Y-%m-%d"),
            "Bag-Software-Agent": f"{TOOL} (bagit.py {bagit.VERSION})",
            "Export-Kind": self.kind,
            "Item-Count": str(self.items),
            "Version-Count": str(self.versions),
            "Source-Run": sorted(self.runs),
        }
        info.update({f"Count-{kind}": str(n) for kind, n in self.counts.items()})
        if signing_key is not None:
            info["Signing-Key-Fingerprint"] = signing_key.fingerprint
        info = {k: v for k, v in info.items() if v not in (None, "", [])}
        _make_bag(self.bag_dir, info)
        write_instructions(self.bag_dir, self.name, signing_key)
        _finish_tag_files(self.bag_dir)
        if signing_key is not None:
            write_raw_signature(self.bag_dir, sign_bag(self.bag_dir, signing_key))
        zip_path = self._work / f"{self.name}.zip"
        _write_zip(self.bag_dir, zip_path, self.name, bagging_date)
        digest, size = _sha256_file(zip_path)
        log.info("bundle %s: %d items, %d bytes", self.name, self.items, size)
        return ExportBundle(
            path=zip_path,
            name=self.name,
            kind=self.kind,
            sha256=digest,
            size=size,
            items=self.items,
            versions=self.versions,
            counts=dict(sorted(self.counts.items())),
            runs=tuple(sorted(self.runs)),
            signed_by=signing_key.fingerprint if signing_key else None,
            info=info,
        )

    def cleanup(self) -> None:
        shutil.rmtree(self._work, ignore_errors=True)

    def __enter__(self) -> BundleBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _make_bag(bag_dir: Path, info: dict[str, Any]) -> None:
    """bagit.make_bag in a child interpreter (see _MAKE_BAG): the payload moves into data/,
    the payload manifest and bag-info.txt are written."""
    doc = orjson.dumps({"dir": str(bag_dir), "info": info})
    proc = subprocess.run(
        [sys.executable, "-c", _MAKE_BAG], input=doc, capture_output=True, check=False
    )
    if proc.returncode != 0:
        last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
        raise ExportError(f"bagit could not make the bag in {bag_dir}: {last}")


def _finish_tag_files(bag_dir: Path) -> None:
    """RFC 8493's version line, and a tag manifest in name order (bagit lists the tag files
    in directory order, which differs between file systems)."""
    (bag_dir / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    lines = []
    for path in sorted(p for p in bag_dir.iterdir() if p.is_file()):
        if path.name.startswith("tagmanifest-"):
            continue
        lines.append(f"{_sha256_file(path)[0]}  {path.name}\n")
    (bag_dir / SIGNED_FILE).write_text("".join(lines), encoding="utf-8")


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _write_zip(bag_dir: Path, zip_path: Path, name: str, when: dt.datetime) -> None:
    stamp = when.astimezone(dt.UTC).timetuple()[:6]
    files = sorted(
        (p.relative_to(bag_dir).as_posix(), p) for p in bag_dir.rglob("*") if p.is_file()
    )
    with zipfile.ZipFile(zip_path, "w", allowZip64=True) as zf:
        for rel, path in files:
            zi = zipfile.ZipInfo(f"{name}/{rel}", date_time=stamp)
            zi.create_system = 3  # unix, whichever system made it
            zi.external_attr = 0o644 << 16
            stored = path.suffix.lower() in _STORED_SUFFIXES
            zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            size = path.stat().st_size
            with open(path, "rb") as src, zf.open(zi, "w", force_zip64=size > 2**31 - 1) as out:
                shutil.copyfileobj(src, out, _CHUNK)
