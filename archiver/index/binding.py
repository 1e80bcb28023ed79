"""An index belongs to one store: the one owner of opening the index for an archive.

The index folder records the identity of the store it was built from (`store.json` beside
Whoosh's files). Opening it for another store is refused with one line; `archiver index
--rebuild` rebuilds it from the store at hand and records that store instead. An index from
before identities existed is adopted only if every run it holds is one of this store's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from archiver.index.errors import IndexOfAnotherStore, SearchIndexError
from archiver.index.index import Index
from archiver.index.writing import Progress, run_ref
from archiver.timestamps import isoformat, utcnow
from storage.runs import list_runs

if TYPE_CHECKING:
    from archiver.archive import Archive

BINDING = "store.json"
BINDING_FORMAT = "social-archive/index-binding/1"


def open_index(archive: Archive) -> Index:
    """The archive's search index (created empty if there is none), checked to be its own."""
    index = Index(archive.index_path, archive.config.index.cache_mb, archive.config.ui.timezone)
    bound = _read_binding(index.path)
    if bound is None:
        _adopt(index, archive)
    elif bound["store_id"] != archive.identity.store_id:
        raise IndexOfAnotherStore(
            f"the search index at {index.path} belongs to another store "
            f"({bound.get('store') or bound['store_id']}), not {archive.store.description}; "
            "run `archiver index --rebuild` to rebuild it from this store, or set index.path"
        )
    return index


def rebuild_index(archive: Archive, progress: bool | Progress = False) -> tuple[Index, int]:
    """Rebuild the archive's index from its store alone, whichever store it belonged to;
    returns the index and how many items it holds."""
    index = Index(archive.index_path, archive.config.index.cache_mb, archive.config.ui.timezone)
    items = index.rebuild(archive, progress, archive.config.index.rebuild_workers)
    _write_binding(index.path, archive)
    return index, items


def _adopt(index: Index, archive: Archive) -> None:
    foreign = index.indexed_runs() - {run_ref(m) for m in list_runs(archive.store)}
    if foreign:
        raise IndexOfAnotherStore(
            f"the search index at {index.path} holds {len(foreign)} runs that are not in "
            f"{archive.store.description}; run `archiver index --rebuild` to rebuild it "
            "from this store, or set index.path"
        )
    _write_binding(index.path, archive)


def _read_binding(folder: Path) -> dict[str, str] | None:
    try:
        doc = orjson.loads((folder / BINDING).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SearchIndexError(
            f"cannot read {folder / BINDING} ({exc}); run `archiver index --rebuild`"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != BINDING_FORMAT or "store_id" not in doc:
        raise SearchIndexError(
            f"{folder / BINDING} does not name a store; run `archiver index --rebuild`"
        )
    return {str(k): str(v) for k, v in doc.items()}


def _write_binding(folder: Path, archive: Archive) -> None:
    doc = {
        "format": BINDING_FORMAT,
        "store_id": archive.identity.store_id,
        "store": archive.store.description,
        "bound_at": isoformat(utcnow()),
    }
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-binding-")
        with os.fdopen(fd, "wb") as out:
            out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
        os.replace(tmp, folder / BINDING)
    except OSError as exc:
        raise SearchIndexError(f"cannot write {folder / BINDING}: {exc.strerror}") from None
