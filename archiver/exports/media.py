"""Which files kept with the runs are an item's media, and copying them out verified.

Media files live under a run's `files/` in a folder whose name says media (the archive's
`data/tweets_media/`, capture's `files/media/`), possibly in an earlier run than the record
(importers and capture keep each file once). A file belongs to a record when its name is
`<record id>-<anything>` (the archive's convention), the media URL's basename, or the media
key, or when a capture run's media provenance says it holds the bytes of one of the record's
media URLs (capture names its files by SHA-256).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.capture.media import PROVENANCE, provenance
from storage.errors import IntegrityError
from storage.runs import Manifest, ObjectEntry
from storage.store import ObjectStore

_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    manifest: Manifest
    entry: ObjectEntry

    @property
    def name(self) -> str:
        return self.entry.key.rsplit("/", 1)[-1]

    @property
    def key(self) -> str:
        return self.manifest.prefix + self.entry.key


def is_media_key(key: str) -> bool:
    folders = key.split("/")[1:-1]  # below files/
    return key.startswith("files/") and any("media" in f.lower() for f in folders)


def _url_basename(url: str | None) -> str | None:
    if not url:
        return None
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.split(":", 1)[0] or None  # pbs.twimg.com's "x.jpg:large"


class MediaIndex:
    """Every media file of some runs, indexed by the names a record can point at."""

    def __init__(self, manifests: Iterable[Manifest], store: ObjectStore | None = None) -> None:
        self._by_name: dict[str, list[StoredFile]] = {}
        self._by_owner: dict[str, list[StoredFile]] = {}
        self._by_stem: dict[str, list[StoredFile]] = {}
        self._by_url: dict[str, StoredFile] = {}
        self._by_object: dict[str, StoredFile] = {}  # "<run id>/<key>" -> file
        manifests = list(manifests)
        for manifest in manifests:
            for entry in manifest.objects:
                if entry.collection or not is_media_key(entry.key) or entry.key == PROVENANCE:
                    continue
                f = StoredFile(manifest, entry)
                self._by_object[f"{manifest.run_id}/{entry.key}"] = f
                self._by_name.setdefault(f.name, []).append(f)
                self._by_stem.setdefault(f.name.rsplit(".", 1)[0], []).append(f)
                owner, sep, _ = f.name.partition("-")
                if sep and owner.isdigit():
                    self._by_owner.setdefault(owner, []).append(f)
        for manifest in manifests if store is not None else ():
            for line in provenance(store, manifest):  # type: ignore[arg-type]
                held = self._by_object.get(line.key or "")
                if held is not None:
                    self._by_url.setdefault(line.url, held)

    def files_for(self, record: dict[str, Any]) -> list[StoredFile]:
        """The record's media files, one per distinct name, in name order."""
        ids = {str(record.get("id"))} | {str(i) for i in record.get("edit_history_ids") or ()}
        found: dict[str, StoredFile] = {}

        def add(files: Iterable[StoredFile]) -> None:
            for f in files:
                # the same file kept by several runs: the earliest copy is the original
                found.setdefault(f.name, f)

        for rid in sorted(ids):
            add(self._by_owner.get(rid, ()))
        for media in record.get("media") or ():
            if not isinstance(media, dict):
                continue
            for url in (media.get("url"), media.get("preview_url")):
                if isinstance(url, str) and url in self._by_url:
                    add((self._by_url[url],))
            base = _url_basename(media.get("url"))
            if base:
                add(self._by_name.get(base, ()))
            if media.get("key"):
                add(self._by_stem.get(str(media["key"]), ()))
        return [found[name] for name in sorted(found)]


def copy_verified(store: ObjectStore, f: StoredFile, dest: Path) -> None:
    """Copy a stored file out, refusing it if it no longer matches its run's manifest."""
    h = hashlib.sha256()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with store.open(f.key) as src, open(dest, "wb") as out:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
    if h.hexdigest() != f.entry.sha256:
        dest.unlink()
        raise IntegrityError(
            f"media file {f.key} does not match its run's manifest; run `archiver verify`"
        )
