"""The archive shows its own media: photos and videos streamed from the stored objects.

`GET /media/<account id>/<run id>/<object key>` streams a media object a committed run
lists (captured from the API, or imported from an archive ZIP), to a logged-in viewer, with
the type its bytes are (never the name or what a server once claimed) and
`X-Content-Type-Options: nosniff`. Only JPEG, PNG, GIF, WebP and MP4 are shown inline;
anything else (SVG, HTML, unknown bytes) is an attachment. Item pages, the item JSON and
exports point at these, never at the platform: its URL stays as provenance.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, url_for

from archiver.capture.media import PROVENANCE, sniff
from archiver.exports.media import MediaIndex, StoredFile, is_media_key
from search_ui.auth import login_required, role_required
from search_ui.backend import backend
from search_ui.catalogue import FoundItem
from storage.accountids import is_account_id
from storage.errors import NotFound
from storage.runs import Manifest

bp = Blueprint("media", __name__)

INLINE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"})
RUN_ID = re.compile(r"^\d{8}T\d{6,12}Z-[0-9a-f]{1,12}$")
_CHUNK = 1 << 16
_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_indexes: OrderedDict[tuple[str, tuple[str, ...]], MediaIndex] = OrderedDict()
_indexes_lock = threading.Lock()
_KEEP = 16  # accounts' media indexes kept between requests


def media_index(account_id: str) -> MediaIndex:
    """Every media file of the account's runs (rebuilt when its runs change)."""
    manifests = backend().catalogue.runs_by_account().get(account_id, [])
    key = (account_id, tuple(m.run_id for m in manifests))
    with _indexes_lock:
        if key in _indexes:
            _indexes.move_to_end(key)
            return _indexes[key]
    index = MediaIndex(manifests, backend().archive.store)
    with _indexes_lock:
        _indexes[key] = index
        while len(_indexes) > _KEEP:
            _indexes.popitem(last=False)
    return index


def item_media(found: FoundItem) -> list[dict[str, Any]]:
    """The stored media of the item's latest version: where the archive serves each file."""
    out = []
    for f in media_index(found.account.account_id).files_for(found.item.latest):
        name = f.entry.key.lower()
        kind = "image" if name.endswith(_IMAGE_EXT) else "file"
        kind = "video" if name.endswith(".mp4") else kind
        out.append(
            {
                "href": media_url(f),
                "kind": kind,
                "name": f.name,
                "size": f.entry.size,
                "sha256": f.entry.sha256,
                "run_id": f.manifest.run_id,
            }
        )
    return out


def media_url(f: StoredFile) -> str:
    return url_for(
        "media.stored",
        account_id=f.manifest.account_id,
        run_id=f.manifest.run_id,
        key=f.entry.key,
    )


def _manifest(account_id: str, run_id: str) -> Manifest | None:
    runs = backend().catalogue.runs_by_account().get(account_id, [])
    return next((m for m in runs if m.run_id == run_id), None)


@bp.route("/media/<account_id>/<run_id>/<path:key>")
@login_required
@role_required("viewer")
def stored(account_id: str, run_id: str, key: str) -> Any:
    # X's numeric ids and qualified ones (bluesky:<DID>, mastodon:<acct>): one path segment
    if not is_account_id(account_id) or not RUN_ID.match(run_id):
        abort(404, description="No such media file.")
    manifest = _manifest(account_id, run_id)
    entry = next((o for o in manifest.objects if o.key == key), None) if manifest else None
    if manifest is None or entry is None or not is_media_key(key) or key == PROVENANCE:
        abort(404, description="No such media file in the archive.")
    try:
        fh = backend().archive.store.open(manifest.prefix + key)
    except NotFound:
        abort(404, description="The media file is missing from storage; run `archiver verify`.")
    head = fh.read(16)
    ctype = sniff(head)[0]
    name = key.rsplit("/", 1)[-1]
    disposition = "inline" if ctype in INLINE else "attachment"

    def body() -> Iterator[bytes]:
        try:
            yield head
            while chunk := fh.read(_CHUNK):
                yield chunk
        finally:
            fh.close()

    response = Response(body(), mimetype=ctype, direct_passthrough=True)
    response.headers["Content-Length"] = str(entry.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{_safe(name)}"'
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120]
