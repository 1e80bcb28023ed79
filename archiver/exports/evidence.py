"""Evidence exports: chosen items with every version, their originals, the manifests of the
runs they came from, and a chain-of-custody statement, signed with the archive's key.

Beside the common bag parts, an evidence bundle holds:

    data/runs/<run id>/manifest.json          each run's manifest, verbatim
    data/stored-records/<run id>/<coll>.jsonl  the items' stored records, byte for byte
    data/source-files/<run id>/<path>          source files (API pages, archive .js) naming them
    data/mastodon/<n>-status.json              a Mastodon item as served, with its edit history
    data/custody/statement.txt                 the continuity statement, ready to sign
    data/custody/custody.json                  the same facts for tools

Anyone holding the bundle can check it with `archiver verify-bundle`: the bag's hashes, the
signature, and (with access to the archive) that every item still matches storage.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archiver import TOOL
from archiver.archive import Archive
from archiver.exports.bundle import BundleBuilder, ExportBundle
from archiver.exports.destination import Delivery, out_destination
from archiver.exports.errors import ExportError
from archiver.exports.items import ExportItem, collector_paused_during, load_scope, sort_items
from archiver.exports.media import is_media_key
from archiver.exports.provenance import run_summary
from archiver.exports.register import default_operator, record_export
from archiver.exports.signing import SigningKey, load_signing_key
from archiver.platforms.bluesky.evidence import add_proofs as add_bluesky_proofs
from archiver.platforms.mastodon.evidence import add_mastodon_evidence
from archiver.timestamps import evidence_time, isoformat, local_date, utcnow
from archiver.wording import plural
from storage.runs import MANIFEST, Manifest
from storage.store import ObjectStore, read_bytes

_CHUNK = 1 << 20
_SOURCE_SUFFIXES = (".js", ".json", ".jsonl", ".csv", ".txt", ".html")


@dataclass(frozen=True)
class EvidenceExport:
    bundle: ExportBundle
    delivery: Delivery
    exhibit: str
    record_key: str


def _find(items: Sequence[ExportItem], ids: Sequence[str]) -> list[ExportItem]:
    by_id: dict[str, ExportItem] = {}
    for item in items:
        by_id.setdefault(item.key, item)
        for rec in item.versions:
            by_id.setdefault(str(rec["id"]), item)
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise ExportError(f"no item with id {', '.join(missing)} in the archive")
    chosen = {id(by_id[i]): by_id[i] for i in ids}
    return sort_items(chosen.values())


def _names_any(store: ObjectStore, key: str, needles: set[bytes]) -> bool:
    """Does a stored file contain any of the ids? Streamed, so a 1 GB tweets.js is fine."""
    keep = max(len(n) for n in needles)
    tail = b""
    with store.open(key) as fh:
        while chunk := fh.read(_CHUNK):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-keep:]
    return False


def _source_files(
    store: ObjectStore, manifests: dict[str, Manifest], items: Sequence[ExportItem]
) -> list[tuple[Manifest, str, str]]:
    """(run, object key, sha256) of every kept source file that names one of the items."""
    found = []
    for run_id in sorted({r for item in items for r in item.seen_in}):
        manifest = manifests[run_id]
        needles = {
            f'"{rec["id"]}"'.encode()
            for item in items
            if run_id in item.seen_in
            for rec in item.versions
        }
        for entry in manifest.objects:
            if (
                entry.collection
                or is_media_key(entry.key)
                or not entry.key.endswith(_SOURCE_SUFFIXES)
            ):
                continue
            if _names_any(store, manifest.prefix + entry.key, needles):
                found.append((manifest, entry.key, entry.sha256))
    return found


def _custody(
    items: Sequence[ExportItem],
    builder: BundleBuilder,
    runs: list[dict[str, Any]],
    facts: dict[str, Any],
) -> dict[str, Any]:
    out_items = []
    for item in items:
        versions = []
        for rec in item.versions:
            stored = builder.stored[(str(rec.get("run_id")), item.collection, str(rec["id"]))]
            versions.append(
                {
                    "id": rec["id"],
                    "created_at": rec.get("created_at"),
                    "captured_at": rec.get("captured_at"),
                    "source": rec.get("source"),
                    "run_id": stored.run_id,
                    "sha256": stored.sha256,
                }
            )
        latest = item.latest
        out_items.append(
            {
                "item": item.key,
                "account": latest.get("account"),
                "account_id": item.account_id,
                "collection": item.collection,
                "kind": item.kind,
                "author": latest.get("author"),
                "deleted_at": item.deleted_at,
                "versions": versions,
                "captured_in_runs": list(item.seen_in),
            }
        )
    return {**facts, "items": out_items, "runs": runs}


def _statement(c: dict[str, Any], zone: str) -> str:
    """The statement people sign: every time in ui.timezone with UTC beside it."""

    def when(value: Any) -> str:
        return evidence_time(value, zone)

    lines = [
        "CHAIN OF CUSTODY AND CONTINUITY STATEMENT",
        "",
        f"Exhibit reference:  {c['exhibit']}",
        f"Case reference:     {c['case']}",
        f"Reason for export:  {c['reason']}",
        f"Organisation:       {c['organisation']}",
        f"Exported by:        {c['exported_by']}",
        f"Exported at:        {when(c['exported_at'])}",
        f"Exported from:      {c['archive']} ({c['tool']})",
        f"Signing key:        Ed25519 {c['signing_key_fingerprint']}",
        "",
        f"ITEMS ({len(c['items'])})",
    ]
    for it in c["items"]:
        author = it.get("author") or {}
        who = f"@{author['username']}" if author.get("username") else author.get("id", "?")
        lines.append(
            f"- Item {it['item']}: {it['kind']} by {who} in the records of @{it['account']}"
        )
        if it["deleted_at"]:
            lines.append(f"  Deleted: detected {when(it['deleted_at'])}")
        for n, v in enumerate(it["versions"], 1):
            lines += [
                f"  Version {n}: id {v['id']}, created {when(v['created_at'])}",
                f"    captured {when(v['captured_at'])} via {v['source']},"
                f" stored in run {v['run_id']}",
                f"    SHA-256 of the stored record: {v['sha256']}",
            ]
        lines.append(f"  Captured in runs: {', '.join(it['captured_in_runs'])}")
    lines += ["", f"RUNS ({len(c['runs'])})"]
    for run in c["runs"]:
        lines += [
            f"- Run {run['run_id']}: {run['kind']} from {run['source']},"
            f" committed {when(run['committed_at'])}",
            f"  SHA-256 of manifest.json: {run['manifest_sha256']}",
        ]
        lines += [f"  SHA-256 of {o['key']}: {o['sha256']}" for o in run["objects"]]
    lines += [
        "",
        "CONTINUITY",
        f"I, {c['exported_by']}, produced exhibit {c['exhibit']} on"
        f" {local_date(c['exported_at'], zone)} from "
        f"the social media archive of {c['organisation']} for case {c['case']}.",
        "Each item above was captured at the time shown and has since been held in an immutable",
        "run whose manifest (included in this exhibit) records the SHA-256 of every stored object.",
        "When exported, each item's stored record matched the SHA-256 shown above. The exhibit is",
        "signed with the archive's Ed25519 key named above; `archiver verify-bundle` shows that it",
        "is unchanged and, with access to the archive, that every item still matches storage.",
        "",
        "This statement is true to the best of my knowledge and belief and I make it knowing",
        "that, if it is tendered in evidence, I shall be liable to prosecution if I have wilfully",
        "stated in it anything which I know to be false or do not believe to be true.",
        "",
        "Signed: ______________________________   Date: ______________",
        f"Name:   {c['exported_by']}",
        "",
        "Received by: _________________________   Date: ______________",
        "",
    ]
    return "\n".join(lines)


def _add_originals(
    b: BundleBuilder,
    store: ObjectStore,
    manifests: dict[str, Manifest],
    items: Sequence[ExportItem],
) -> list[dict[str, Any]]:
    """The stored records byte for byte, every run's manifest verbatim, the source files that
    name the items; returns the runs with the SHA-256 of the objects that hold the items."""
    run_ids = sorted(b.runs | {r for item in items for r in item.seen_in})
    objects: dict[str, list[dict[str, Any]]] = {r: [] for r in run_ids}
    stored_lines: dict[str, list[bytes]] = {}
    for (run_id, collection, _rid), stored in sorted(b.stored.items()):
        path = f"stored-records/{run_id}/{collection}.jsonl"
        stored_lines.setdefault(path, []).append(stored.line or b"")
    for path, lines in stored_lines.items():
        b.add_bytes(path, b"\n".join(lines) + b"\n")
    for run_id in run_ids:
        manifest = manifests[run_id]
        b.add_bytes(f"runs/{run_id}/{MANIFEST}", read_bytes(store, manifest.prefix + MANIFEST))
        for coll in sorted({c for (r, c, _i) in b.stored if r == run_id}):
            entry = manifest.collection(coll)
            if entry is not None:
                objects[run_id].append(
                    {"key": entry.key, "sha256": entry.sha256, "size": entry.size}
                )
    for manifest, key, sha in _source_files(store, manifests, items):
        b.add_stored(
            f"source-files/{manifest.run_id}/{key.removeprefix('files/')}",
            manifest.prefix + key,
            sha,
        )
        objects[manifest.run_id].append({"key": key, "sha256": sha})
    return [{**run_summary(store, manifests[r]), "objects": objects[r]} for r in run_ids]


@collector_paused_during
def export_evidence(
    archive: Archive,
    ids: Sequence[str],
    *,
    reason: str,
    case: str,
    out: str | os.PathLike[str],
    exhibit: str | None = None,
    operator: str | None = None,
    signing_key: SigningKey | None = None,
    replace: bool = False,
    workdir: str | os.PathLike[str] | None = None,
) -> EvidenceExport:
    """Export items (any version's id, or the item's id) as a signed evidence bundle."""
    if not ids:
        raise ExportError("name at least one item with --id")
    if not reason.strip() or not case.strip():
        raise ExportError("an evidence export needs a --reason and a --case reference")
    signing_key = signing_key or load_signing_key(archive.config.export)
    if signing_key is None:
        raise ExportError(
            "evidence bundles are signed: set export.signing_key_env or export.signing_key_path"
            " (make a key with `archiver export keygen`)"
        )
    scope = load_scope(archive)
    items = _find(scope.items, [str(i) for i in ids])
    cfg = archive.config.export
    at = utcnow()
    operator = operator or default_operator()
    exhibit = exhibit or f"{case}-{at:%Y%m%dT%H%M%SZ}"
    manifests = {m.run_id: m for m in scope.manifests}
    name = "evidence-" + "".join(c if c.isalnum() or c in "._-" else "-" for c in exhibit)
    zone = archive.config.ui.timezone
    with BundleBuilder(
        archive.store, scope.manifests, name=name, kind="evidence", workdir=workdir, zone=zone
    ) as b:
        b.write_items(
            items,
            title=f"Evidence exhibit {exhibit}",
            keep_lines=True,
            summary=[
                ("Organisation", cfg.organisation),
                ("Case", case),
                ("Exhibit", exhibit),
                ("Reason", reason),
                ("Exported by", operator),
                ("Exported at", evidence_time(at, zone)),
            ],
        )
        runs = _add_originals(b, archive.store, manifests, items)
        add_bluesky_proofs(b, archive.store, manifests, items)  # the key-signed blocks
        add_mastodon_evidence(b, archive.store, manifests, items)  # the status as served
        custody = _custody(
            items,
            b,
            runs,
            {
                "exhibit": exhibit,
                "case": case,
                "reason": reason,
                "exported_by": operator,
                "exported_at": isoformat(at, "seconds"),
                "organisation": cfg.organisation,
                # which kind of store, never its path or bucket: a statement leaves the building
                "archive": f"the archive's {archive.config.storage.backend} object store",
                "tool": TOOL,
                "signing_key_fingerprint": signing_key.fingerprint,
            },
        )
        b.add_json("custody/custody.json", custody)
        b.add_text("custody/statement.txt", _statement(custody, zone))
        bundle = b.build(
            {
                "Source-Organization": cfg.organisation,
                "External-Identifier": exhibit,
                "External-Description": (
                    f"Evidence exhibit {exhibit} for case {case}: {plural(len(items), 'item')}"
                ),
                "Case-Reference": case,
                "Exhibit-Reference": exhibit,
                "Exported-By": operator,
                "Export-Reason": reason,
                "Retention-Code": cfg.retention_code,
                "Security-Classification": cfg.classification,
            },
            bagging_date=at,
            signing_key=signing_key,
        )
        destination, file_name = out_destination(out, bundle.file_name)
        delivery = destination.deliver(bundle, file_name, replace=replace)
    key = record_export(
        archive.store,
        {
            "kind": "evidence",
            "operator": operator,
            "case": case,
            "exhibit": exhibit,
            "reason": reason,
            "ids": list(ids),
            "items": bundle.items,
            "bundle": {
                "name": bundle.file_name,
                "sha256": bundle.sha256,
                "size": bundle.size,
                "signed_by": bundle.signed_by,
            },
            "destination": delivery.url,
        },
        at=at,
    )
    return EvidenceExport(bundle, delivery, exhibit, key)
