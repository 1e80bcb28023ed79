"""A disclosure bundle (FOI or SAR): redacted items, the redaction log and the disclosure
record (who, when, request reference, what was asked), delivered to `--out` and recorded.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archiver import TOOL
from archiver.archive import Archive
from archiver.exports.bundle import BundleBuilder, ExportBundle
from archiver.exports.destination import Delivery, out_destination
from archiver.exports.errors import ExportError
from archiver.exports.items import ExportItem, Scope
from archiver.exports.redaction import Redactor
from archiver.exports.register import record_export
from archiver.exports.signing import load_signing_key
from archiver.timestamps import isoformat, local_time, utcnow


@dataclass(frozen=True)
class Disclosure:
    """The finished export: the bundle's facts, where it went, and the export record's key."""

    kind: str
    bundle: ExportBundle
    delivery: Delivery
    record: dict[str, Any]
    record_key: str
    redaction_log: tuple[Any, ...] = field(default_factory=tuple)


def slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    if not slug:
        raise ExportError(f"request reference {text!r} has no letters or digits")
    return slug[:80]


def own_accounts(archive: Archive) -> list[tuple[str, str]]:
    """(account id, handle) of the body's own accounts: never redacted."""
    own = [(r.account_id, r.username) for r in archive.accounts()]
    # configured accounts not yet captured are the body's own too
    # (a platform-qualified id with no native part still says which platform the handle is on)
    own += [
        ("" if a.platform == "x" else f"{a.platform}:", a.username) for a in archive.config.accounts
    ]
    return own


def disclose(
    archive: Archive,
    scope: Scope,
    items: list[ExportItem],
    *,
    kind: str,
    name: str,
    title: str,
    description: str,
    record: dict[str, Any],
    redactor: Redactor | None,
    dm_filter: Callable[[ExportItem], bool] | None,
    out: str | os.PathLike[str],
    replace: bool,
    workdir: str | os.PathLike[str] | None,
) -> Disclosure:
    """Build the bag (redacted when a redactor is given), add the redaction log and the
    disclosure record, deliver it to `out` and record the export."""
    cfg = archive.config.export
    at = utcnow()
    withheld = 0
    if dm_filter is not None:
        kept = [i for i in items if dm_filter(i)]
        withheld, items = len(items) - len(kept), kept
    signing_key = load_signing_key(cfg)
    notice = (
        f"Personal data of third parties is masked ({redactor.profile.exemption}); "
        "redaction-summary.csv counts each person's masks by category, "
        "redaction-log.csv gives every one."
        if redactor
        else None
    )
    zone = archive.config.ui.timezone
    with BundleBuilder(
        archive.store, scope.manifests, name=name, kind=kind, workdir=workdir, zone=zone
    ) as b:
        b.write_items(
            items,
            title=title,
            notice=notice,
            redactor=redactor,
            summary=[
                ("Organisation", cfg.organisation),
                ("Request reference", record["request_reference"]),
                ("Exported by", record["operator"]),
                ("Exported at", local_time(at, zone)),
            ],
        )
        if redactor is not None:
            buf = io.StringIO(newline="")
            redactor.write_log(buf)
            b.add_bytes("redaction-log.csv", buf.getvalue().encode("utf-8-sig"))
            buf = io.StringIO(newline="")
            redactor.write_summary(buf)
            b.add_bytes("redaction-summary.csv", buf.getvalue().encode("utf-8-sig"))
            record["redaction"] = {
                "profile": redactor.profile.name,
                "exemption": redactor.profile.exemption,
                "masked": redactor.summary(),
            }
        else:
            record["redaction"] = {"profile": None, "dms_withheld": withheld}
        record.update(
            {
                "exported_at": isoformat(at, "seconds"),
                "tool": TOOL,
                "organisation": cfg.organisation,
                "items": b.items,
                "counts": dict(b.counts),
            }
        )
        b.add_json("disclosure.json", record)
        bundle = b.build(
            {
                "Source-Organization": cfg.organisation,
                "External-Identifier": name,
                "External-Description": description,
                "Account": [f"@{r.username} ({r.account_id})" for r in scope.refs],
                "Request-Reference": record["request_reference"],
                "Redaction-Profile": (
                    f"{redactor.profile.name}: {redactor.profile.exemption}" if redactor else "none"
                ),
                "Retention-Code": cfg.retention_code,
                "Security-Classification": cfg.classification,
            },
            bagging_date=at,
            signing_key=signing_key,
        )
        destination, file_name = out_destination(out, bundle.file_name)
        delivery = destination.deliver(bundle, file_name, replace=replace)
    entry = {
        **record,
        "bundle": {
            "name": bundle.file_name,
            "sha256": bundle.sha256,
            "size": bundle.size,
            "signed_by": bundle.signed_by,
        },
        "destination": delivery.url,
    }
    key = record_export(archive.store, entry, at=at)
    return Disclosure(kind, bundle, delivery, entry, key, tuple(redactor.log) if redactor else ())
