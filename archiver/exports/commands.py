"""`archiver export monthly|foi|sar|evidence|keygen|list` and `archiver verify-bundle`.

A thin click layer: the work is in the exports modules; errors they raise become one line
on stderr and exit 1 (see archiver.cli).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import sys
from typing import Any

import click

from archiver.audit import AuditLog, cli_actor
from archiver.clikit import DAY, echo_json
from archiver.errors import ConfigError
from archiver.exports.disclosure import Disclosure
from archiver.exports.errors import ExportError
from archiver.exports.evidence import export_evidence
from archiver.exports.foi import Criteria, export_foi
from archiver.exports.monthly import export_monthly
from archiver.exports.register import list_exports
from archiver.exports.sar import export_sar
from archiver.exports.signing import (
    fingerprint,
    generate_key,
    load_public_key,
    load_signing_key,
    public_key_path,
)
from archiver.exports.verify import verify_bundle
from archiver.timestamps import local_time
from archiver.wording import plural
from storage.records import KINDS


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(message, err=True)


operator_option = click.option(
    "--operator", help="Who is exporting, for the export record (default: your OS user name)."
)
replace_option = click.option(
    "--replace",
    is_flag=True,
    help="Replace a different bundle already at the destination (logged).",
)


@click.group("export")
def export() -> None:
    """Make records bundles: monthly, FOI, subject access, evidence."""


@export.command("monthly")
@click.option(
    "--month",
    required=True,
    metavar="YYYY-MM",
    help="The month to bundle (read in ui.timezone, UK time by default).",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Only this account (@handle or id); repeatable. Default: every account.",
)
@click.option(
    "--dest",
    metavar="URL",
    help="Directory, file:// URL or s3://bucket/prefix (default: export.destination).",
)
@replace_option
@operator_option
@click.pass_obj
def monthly_cmd(
    obj: Any,
    month: str,
    accounts: tuple[str, ...],
    dest: str | None,
    replace: bool,
    operator: str | None,
) -> None:
    """Bundle a month of each account's records and deliver it to the records destination."""
    _progress(f"exporting {month}...")
    report = export_monthly(
        obj.archive, month, accounts=accounts, dest=dest, replace=replace, operator=operator
    )
    for e in report.exports:
        click.echo(str(e))
        _audit(obj, operator, **e.audit_detail())
    for name in report.skipped:
        click.echo(f"@{name} {report.month}: no records, no bundle")


def _audit(obj: Any, operator: str | None, **detail: Any) -> None:
    """The audit log's line for an export made here (the UI writes its own): the actor is
    `cli:<os user>`; an --operator named on the command line is kept as a detail."""
    if operator:
        detail = {**detail, "operator": operator}
    AuditLog(obj.archive.store).record(cli_actor(), "export", **detail)


def _echo_disclosure(obj: Any, d: Disclosure) -> None:
    _audit(
        obj,
        d.record.get("operator"),
        kind=d.kind,
        reference=d.record["request_reference"],
        export_record=d.record_key,
        bundle=d.bundle.file_name,
        sha256=d.bundle.sha256,
        items=d.bundle.items,
        destination=d.delivery.url,
    )
    click.echo(f"{d.bundle.counts_text} -> {d.delivery.url}")
    masked = d.record.get("redaction", {}).get("masked")
    if masked:
        click.echo("redacted: " + ", ".join(f"{n} {cat}" for cat, n in masked.items()))
    elif d.record.get("redaction", {}).get("profile") is None:
        click.echo("not redacted")


@export.command("foi")
@click.option("--query", default="", help='Words (or "a phrase") every item must contain.')
@click.option("--account", "accounts", multiple=True, help="Only this account; repeatable.")
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only this kind; repeatable."
)
@click.option("--from", "since", type=DAY, help="Created on or after (UTC).")
@click.option("--to", "until", type=DAY, help="Created on or before (UTC).")
@click.option(
    "--redact/--no-redact",
    default=True,
    show_default=True,
    help="Mask third parties' personal data (FOIA s.40).",
)
@click.option("--include-dms", is_flag=True, help="Include direct messages (withheld by default).")
@click.option(
    "--keep-handle",
    "keep",
    multiple=True,
    help="Another account to leave visible (e.g. a partner agency); repeatable.",
)
@click.option("--request", "request_ref", required=True, help="The FOI request reference.")
@click.option("--out", required=True, type=click.Path(), help="A directory or a .zip path.")
@replace_option
@operator_option
@click.pass_obj
def foi_cmd(
    obj: Any,
    query: str,
    accounts: tuple[str, ...],
    kinds: tuple[str, ...],
    since: dt.datetime | None,
    until: dt.datetime | None,
    redact: bool,
    include_dms: bool,
    keep: tuple[str, ...],
    request_ref: str,
    out: str,
    replace: bool,
    operator: str | None,
) -> None:
    """Export the items matching a query and filters for an FOI request."""
    criteria = Criteria(
        query, accounts, kinds, since.date() if since else None, until.date() if until else None
    )
    d = export_foi(
        obj.archive,
        criteria,
        request_ref=request_ref,
        out=out,
        redact=redact,
        include_dms=include_dms,
        keep_handles=keep,
        operator=operator,
        replace=replace,
    )
    _echo_disclosure(obj, d)


@export.command("sar")
@click.option(
    "--user",
    required=True,
    help="The data subject: @handle or user id on X, a.bsky.social or did:... on Bluesky, "
    "user@host on Mastodon.",
)
@click.option("--account", "accounts", multiple=True, help="Only this account; repeatable.")
@click.option(
    "--request", "request_ref", required=True, help="The subject access request reference."
)
@click.option("--out", required=True, type=click.Path(), help="A directory or a .zip path.")
@replace_option
@operator_option
@click.pass_obj
def sar_cmd(
    obj: Any,
    user: str,
    accounts: tuple[str, ...],
    request_ref: str,
    out: str,
    replace: bool,
    operator: str | None,
) -> None:
    """Export everything involving one member of the public, other people redacted."""
    d = export_sar(
        obj.archive,
        user,
        request_ref=request_ref,
        out=out,
        accounts=accounts,
        operator=operator,
        replace=replace,
    )
    _echo_disclosure(obj, d)


@export.command("evidence")
@click.option(
    "--id",
    "ids",
    multiple=True,
    required=True,
    help="An item or version id (X's number, an AT URI, a status URI); repeatable.",
)
@click.option("--reason", required=True, help="Why the evidence is exported.")
@click.option("--case", required=True, help="The case or investigation reference.")
@click.option("--exhibit", help="Exhibit reference (default: <case>-<UTC time>).")
@click.option("--out", required=True, type=click.Path(), help="A directory or a .zip path.")
@replace_option
@operator_option
@click.pass_obj
def evidence_cmd(
    obj: Any,
    ids: tuple[str, ...],
    reason: str,
    case: str,
    exhibit: str | None,
    out: str,
    replace: bool,
    operator: str | None,
) -> None:
    """Export items as a signed evidence bundle with a chain-of-custody statement."""
    e = export_evidence(
        obj.archive,
        ids,
        reason=reason,
        case=case,
        exhibit=exhibit,
        operator=operator,
        out=out,
        replace=replace,
    )
    _audit(
        obj,
        operator,
        kind="evidence",
        case=case,
        exhibit=e.exhibit,
        export_record=e.record_key,
        bundle=e.bundle.file_name,
        sha256=e.bundle.sha256,
        items=list(ids),
        destination=e.delivery.url,
    )
    click.echo(
        f"exhibit {e.exhibit}: {plural(e.bundle.items, 'item')},"
        f" {plural(e.bundle.versions, 'version')},"
        f" signed by {e.bundle.signed_by} -> {e.delivery.url}"
    )


@export.command("keygen")
@click.argument("path", type=click.Path(dir_okay=False))
def keygen_cmd(path: str) -> None:
    """Make an Ed25519 signing key at PATH (mode 0600; missing folders are made), write its
    public key beside it and print the setting to add."""
    key = generate_key(path)
    absolute = os.path.abspath(path)
    click.echo(f"private key written to {absolute} (keep it secret; back it up)")
    click.echo(f"public key written to {public_key_path(absolute)} (publish it)")
    click.echo(f"key fingerprint: {key.fingerprint}")
    click.echo("add to the [export] section of your config file:")
    click.echo(f"signing_key_path = {json.dumps(absolute)}")
    click.echo(f"(or set ARCHIVER_EXPORT__SIGNING_KEY_PATH={shlex.quote(absolute)})")


@export.command("list")
@click.option("--kind", type=click.Choice(["monthly", "foi", "sar", "evidence"]))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_cmd(obj: Any, kind: str | None, as_json: bool) -> None:
    """List the export records kept in the archive."""
    records = list_exports(obj.archive.store, kind)
    if as_json:
        echo_json(records)
        return
    for r in records:
        what = r.get("month") or r.get("request_reference") or r.get("exhibit") or ""
        click.echo(
            f"{local_time(r['recorded_at'], obj.config.ui.timezone)}  {r['kind']:<8} {what:<20}"
            f" by {r.get('operator')}"
            f"  -> {r.get('destination')}"
        )


@click.command("verify-bundle")
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(exists=True),
    help="A trusted public key (PEM) the signature may be made with; repeatable.",
)
@click.option("--no-storage", is_flag=True, help="Do not compare the items with the archive.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def verify_bundle_cmd(
    obj: Any, path: str, public_keys: tuple[str, ...], no_storage: bool, as_json: bool
) -> None:
    """Validate an export bundle: bag hashes, signature, and that items still match storage."""
    trusted = [fingerprint(load_public_key(p)) for p in public_keys]
    try:
        own = load_signing_key(obj.config.export)
    except ConfigError:
        own = None  # a key setting this process cannot read: rely on --public-key
    if own is not None:
        trusted.append(own.fingerprint)
    store = None if no_storage else obj.archive.store
    report = verify_bundle(path, store=store, trusted=trusted)
    if as_json:
        echo_json({**report.__dict__, "ok": report.ok})
    else:
        click.echo(f"{report.name}: {report.kind or 'bundle'}")
        for line in report.checks:
            click.echo(f"ok: {line}")
        for line in report.problems:
            click.echo(f"FAIL: {line}", err=True)
    if not report.ok:
        raise ExportError(f"{path} failed verification: {len(report.problems)} problems")
