"""Exports from the UI, for the exporter role: the current search as an FOI bundle, the
selected items as a signed evidence bundle, the list of past exports, and downloads.

The bundles are built by archiver.exports (the same code as `archiver export foi|evidence`)
with the logged-in user as the operator; each export and each download is recorded in the
audit log. Bundles are written to `ui.exports_path` (default: `ui-exports/` beside the
users file) and downloaded from there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from archiver.config import Config
from archiver.errors import USER_ERRORS, ConfigError
from archiver.exports.evidence import export_evidence
from archiver.exports.foi import Criteria, export_foi
from archiver.exports.register import list_exports
from archiver.exports.signing import load_signing_key
from archiver.index import SearchIndexError
from archiver.wording import plural
from search_ui.auth import role_required
from search_ui.backend import backend
from search_ui.forms import EvidenceExportForm, FoiExportForm
from search_ui.items import find_item
from search_ui.params import is_item_id
from search_ui.search import BadSearch, SearchRequest
from search_ui.users import users_path
from storage.errors import StorageError

bp = Blueprint("exports", __name__, url_prefix="/exports")

MAX_EVIDENCE_ITEMS = 200


def exports_dir(config: Config) -> Path:
    if config.ui.exports_path:
        return Path(config.ui.exports_path)
    return users_path(config).parent / "ui-exports"


def _out_dir() -> Path:
    path = exports_dir(backend().config)
    path.mkdir(parents=True, exist_ok=True)
    return path


@bp.route("/")
@role_required("exporter")
def exports() -> Any:
    try:
        records = list(reversed(list_exports(backend().archive.store)))
    except StorageError as exc:
        abort(503, description=f"The export register cannot be read: {exc}")
    here = exports_dir(backend().config)
    for rec in records:
        name = (rec.get("bundle") or {}).get("name")
        rec["downloadable"] = name is not None and (here / str(name)).is_file()
    return render_template("exports.html", records=records[:200])


@bp.route("/foi", methods=("GET", "POST"))
@role_required("exporter")
def foi() -> Any:
    try:
        req = SearchRequest.from_args(request.args)
        total = req.run(highlight=False, facets=False).total
    except BadSearch as exc:
        abort(400, description=str(exc))
    except SearchIndexError as exc:
        abort(503, description=f"The search index cannot be used: {exc}")
    form = FoiExportForm()
    status = 200
    if form.validate_on_submit():
        criteria = Criteria(
            query=req.q,
            accounts=(req.account,) if req.account else (),
            kinds=(req.kind,) if req.kind else (),
            since=req.from_,
            until=req.to,
        )
        done = _export(
            "foi",
            lambda: export_foi(
                backend().archive,
                criteria,
                request_ref=form.reference.data or "",
                out=_out_dir(),
                redact=bool(form.redact.data),
                operator=g.user.name,
                index=backend().index,
            ),
            lambda d: {
                "reference": d.record["request_reference"],
                "items": d.bundle.items,
                "redacted": bool(form.redact.data),
                **req.audit_detail(),
            },
            lambda d: f"Exported {plural(d.bundle.items, 'item')} as {d.bundle.file_name}.",
        )
        if done is None:
            status = 400
        else:
            return redirect(url_for("exports.exports"))
    elif request.method == "POST":
        status = 400
    return render_template("export_foi.html", req=req, total=total, form=form), status


@bp.route("/evidence", methods=("GET", "POST"))
@role_required("exporter")
def evidence() -> Any:
    ids = list(dict.fromkeys(i.strip() for i in request.args.getlist("id") if i.strip()))
    if not ids:
        abort(400, description="Select at least one item to export as evidence.")
    if len(ids) > MAX_EVIDENCE_ITEMS or not all(is_item_id(i) for i in ids):
        abort(400, description=f"Select up to {MAX_EVIDENCE_ITEMS} items by their ids.")
    chosen = []
    for item_id in ids:
        found = find_item(item_id)
        if not found:
            abort(404, description=f"No item {item_id} in the archive.")
        chosen.append(found[0])
    form = EvidenceExportForm()
    status = 200
    not_ready = evidence_not_ready()
    if not_ready is None and form.validate_on_submit():
        done = _export(
            "evidence",
            lambda: export_evidence(
                backend().archive,
                ids,
                reason=form.reason.data or "",
                case=form.case.data or "",
                out=_out_dir(),
                operator=g.user.name,
            ),
            lambda d: {"case": form.case.data, "exhibit": d.exhibit, "items": ids},
            lambda d: f"Exported exhibit {d.exhibit} as {d.bundle.file_name}.",
        )
        if done is None:
            status = 400
        else:
            return redirect(url_for("exports.exports"))
    elif request.method == "POST":
        status = 400
    return render_template(
        "export_evidence.html", chosen=chosen, form=form, not_ready=not_ready
    ), status


def _export(
    kind: str,
    make: Callable[[], Any],
    detail: Callable[[Any], dict[str, Any]],
    said: Callable[[Any], str],
) -> Any | None:
    """One export for the signed-in user: a failure is flashed (None, the form is shown
    again with a 400); a success is audited with its bundle's digest and flashed."""
    try:
        done = make()
    except USER_ERRORS as exc:
        flash(f"The export failed: {exc}", "error")
        return None
    backend().audit.record(
        g.user.name,
        "export",
        kind=kind,
        export_record=done.record_key,
        bundle=done.bundle.file_name,
        sha256=done.bundle.sha256,
        **detail(done),
    )
    flash(said(done), "info")
    return done


def evidence_not_ready() -> str | None:
    """Why evidence cannot be exported (no signing key, or one that does not load), or None:
    said before the officer fills in the form, not after."""
    try:
        key = load_signing_key(backend().archive.config.export)
    except ConfigError as exc:
        return f"Evidence export is not working: {exc}."
    if key is None:
        return (
            "Evidence export is not configured: evidence bundles are signed, and no signing key"
            " is set. An administrator makes one with `archiver export keygen PATH` and sets"
            " export.signing_key_path (or export.signing_key_env)."
        )
    return None


@bp.route("/download/<name>")
@role_required("exporter")
def download(name: str) -> Any:
    folder = exports_dir(backend().config)
    if not name.endswith(".zip") or not (folder / name).is_file() or "/" in name:
        abort(404, description=f"No export bundle {name} here.")
    backend().audit.record(g.user.name, "download", bundle=name)
    return send_from_directory(folder, name, as_attachment=True, mimetype="application/zip")
