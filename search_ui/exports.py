"""Exports from the UI (FOI of the current search, evidence of selected items)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort

from search_ui.auth import role_required

bp = Blueprint("exports", __name__, url_prefix="/exports")


@bp.route("/")
@role_required("exporter")
def exports() -> Any:
    abort(404)


@bp.route("/foi")
@role_required("exporter")
def foi() -> Any:
    abort(404)


@bp.route("/evidence")
@role_required("exporter")
def evidence() -> Any:
    abort(404)
