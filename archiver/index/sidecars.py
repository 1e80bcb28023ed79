"""Decoded postings of a segment's frequent terms, written once and memory-mapped on open.

Decoding a frequent word from Whoosh's blocks costs ~1 µs a posting (0.7 s for a word in
most of a million posts, several seconds for a phrase's positions), which the postings
cache pays once per process: the first searches after every restart were slow. Segments
are immutable, so a segment's frequent terms are kept once as plain arrays beside it
(`sidecars/<segment id>/`); a fresh process maps them and answers its first query as fast
as a warm one. A rebuild's segment builder writes them from its own sorted arrays when it
closes a segment (segments.py: the same files); the segments Whoosh's writer makes
(updates, merges) and those of older indexes are decoded once committed (`write_missing`).
Rare terms stay in Whoosh's blocks (decoding them is cheap) and go through the postings
cache.

The segment's columns (columns.py) are kept the same way: read from Whoosh's column files
and derived (account indexes, month numbers) once, mapped by a fresh process.

Layout of a sidecar directory (`<segment id>-v<VERSION>`): `sidecar.json` ({"terms": {field:
{text: [start, end, pstart, pend, *wraps]}}: postings start..end, positions pstart..pend,
and where in the term's postings the docnums pass each multiple of 65,536; "zones": the
zones whose month numbers are kept; "arrays": {name: [dtype, offset, length]}}) and
`arrays.bin`, the arrays one after another (one memory map): `ids` (segment docnums, their
low 16 bits: the wraps give the rest, halving the largest array), `freqs`, `counts`
(positions per posting, zero for terms without; left out when every text term's counts
are its freqs, as with Whoosh's positions: a fifth of a sidecar) and `positions`, each in
the narrowest unsigned type that holds the segment's values; per document `created`,
`account` (an index
into `accounts`, the segment's distinct account numbers), `kinds`, `lengths` and one
`months-<n>` per kept zone (n: its place in "zones"). Deleted documents are included, as in
Whoosh's blocks and columns: deletions are applied at query time.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from archiver.index import schema as f
from archiver.index.columns import SegmentColumns, read_columns
from archiver.index.postings import Term, read_term
from archiver.index.whoosh_internals import segment_id

log = logging.getLogger(__name__)

DIRNAME = "sidecars"
# 2: the columns too; 3: ids as 16 bits and their wraps, counts left out when they are the
# freqs. A sidecar of another version is written again.
VERSION = 3
# read too until the next update writes the segment's VERSION one (a v2 term is the v3 form
# with no wraps and its counts kept)
READABLE = (VERSION, 2)
# A term goes into the sidecar from this many postings in the segment: below it, decoding
# from Whoosh's blocks takes about a millisecond (measured: see ops/docs/search.md).
MIN_POSTINGS = 1000
# ... or, in a segment of fewer than MIN_POSTINGS x SHARE documents (a rebuild worker's,
# a late round's), from 1/SHARE of its documents (at least FLOOR postings): the same words
# are then in the sidecars however the index is cut into segments. With an absolute
# threshold, 15 segments at 1M decoded 2.5x the blocks 6 did (ops/docs/search.md).
SHARE, FLOOR = 200, 100
META_FILE, ARRAYS_FILE = "sidecar.json", "arrays.bin"
_ARRAYS = ("ids", "freqs", "counts", "positions")
ID_BITS = 16  # ids are kept as their low bits; a term's wraps give the high ones
_COLUMNS = ("created", "accounts", "account", "kinds", "lengths")
# fields people filter by often enough for a frequent term to matter (kind:, has:, ...);
# positions only where phrases need them
FIELDS = (f.TEXT, f.ACCOUNT, f.KIND, f.HAS, f.IS, f.LANG, f.AUTHOR, f.HASHTAGS, f.MENTIONS)


def _narrow(values: np.ndarray) -> np.ndarray:
    top = int(values.max()) if len(values) else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max and (not len(values) or values.min() >= 0):
            return values.astype(dtype)
    return values.astype(np.int64)


def frequent_from(docs: int) -> int:
    """Postings from which a term of a segment of `docs` documents goes into its sidecar."""
    return min(MIN_POSTINGS, max(docs // SHARE, FLOOR))


def folder_name(seg: str, version: int = VERSION) -> str:
    return f"{seg}-v{version}"


class FrequentTerms:
    """A segment's frequent terms as they go into its sidecar, added in the sidecar's
    order: fields in FIELDS order, a field's texts ascending by their UTF-8 bytes (the
    term dictionary's order)."""

    def __init__(self) -> None:
        self.terms: dict[str, dict[str, list[int]]] = {}
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in _ARRAYS}
        self._at = [0, 0]
        self._counts_are_freqs = True

    def add(
        self,
        fieldname: str,
        text: str,
        ids: np.ndarray,
        freqs: np.ndarray,
        counts: np.ndarray | None = None,
        positions: np.ndarray | None = None,
    ) -> None:
        """One term's postings: segment docnums, weights, and (text terms) positions per
        posting and the positions."""
        at, parts = self._at, self._parts
        n, p = len(ids), 0 if positions is None else len(positions)
        top = int(ids[-1]) >> ID_BITS if n else 0
        wraps = np.searchsorted(ids, np.arange(1, top + 1) << ID_BITS).tolist() if top else []
        self.terms.setdefault(fieldname, {})[text] = [at[0], at[0] + n, at[1], at[1] + p, *wraps]
        parts["ids"].append(ids & ((1 << ID_BITS) - 1))
        parts["freqs"].append(freqs)
        if counts is not None and positions is not None:
            parts["counts"].append(counts)
            parts["positions"].append(positions)
            self._counts_are_freqs = self._counts_are_freqs and np.array_equal(counts, freqs)
        else:  # no positions: zero counts keep counts aligned with ids
            parts["counts"].append(np.zeros(n, np.int32))
        at[0] += n
        at[1] += p

    def arrays(self) -> dict[str, np.ndarray]:
        """Each array joined, in the narrowest type that holds its values."""
        arrays: dict[str, np.ndarray] = {}
        for name in _ARRAYS:
            if name == "counts" and self._counts_are_freqs:
                continue  # read as the freqs (Sidecars.term)
            part = self._parts[name]
            joined = np.concatenate(part) if part else np.empty(0, np.int32)
            freqs_exact = name != "freqs" or np.array_equal(joined, np.round(joined))
            arrays[name] = _narrow(joined) if freqs_exact else joined.astype(np.float32)
        return arrays


def write_segment(reader: Any, folder: Path, zones: tuple[str, ...] = ("UTC",)) -> int:
    """Decode the frequent terms of one segment, and its columns with their month numbers
    in `zones`, into `folder`. Returns the number of terms."""
    frequent = FrequentTerms()
    least = frequent_from(reader.doc_count_all())
    for fieldname in FIELDS:
        if fieldname not in reader.schema or not reader.schema[fieldname].indexed:
            continue
        positions = reader.schema[fieldname].format.supports("positions")
        for text_bytes, info in reader.iter_field(fieldname):
            if info.doc_frequency() < least:
                continue
            text = text_bytes.decode("utf-8")
            term = read_term(reader, fieldname, text, positions)
            frequent.add(fieldname, text, term.ids, term.freqs, term.counts, term.positions)
    return write_sidecar(folder, frequent, read_columns(reader, zones), zones)


def write_sidecar(
    folder: Path, frequent: FrequentTerms, columns: SegmentColumns, zones: tuple[str, ...]
) -> int:
    """A segment's sidecar: its frequent terms, its columns and their month numbers in
    `zones` (which `columns` holds), made atomically in `folder` (written beside it, then
    renamed). Returns the number of terms."""
    arrays = frequent.arrays()
    for name in _COLUMNS:
        values = getattr(columns, name)
        arrays[name] = _narrow(values) if name == "account" else values
    for n, zone in enumerate(zones):
        arrays[f"months-{n}"] = columns.months[zone]
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        layout = _write_arrays(tmp / ARRAYS_FILE, arrays)
        meta = {"version": VERSION, "terms": frequent.terms, "zones": list(zones), "arrays": layout}
        with open(tmp / META_FILE, "w", encoding="utf-8") as out:
            json.dump(meta, out)
            out.flush()
            os.fsync(out.fileno())  # derived, but a torn file must not answer queries
        try:
            os.rename(tmp, folder)
        except OSError:  # another process wrote it first: the same content
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sum(len(t) for t in frequent.terms.values())


def segment_folder(index_dir: Path, seg: str) -> Path:
    """Where the sidecar of segment `seg` of the index in `index_dir` goes."""
    return index_dir / DIRNAME / folder_name(seg)


def write_missing(index_dir: Path, searcher: Any, zones: tuple[str, ...] = ("UTC",)) -> int:
    """Write the sidecar of every segment of the searcher's generation that lacks one (or
    has one of another version), with month numbers in `zones`, and remove those of
    segments no longer in it. Returns how many were written."""
    root = index_dir / DIRNAME
    live: set[str] = set()
    written = 0
    for reader, _ in searcher.reader().leaf_readers():
        seg = segment_id(reader)
        if seg == "-":
            continue
        name = folder_name(seg)
        live.add(name)
        # a segment the segment builder wrote has its sidecar already (segments.py)
        if reader.doc_count_all() >= MIN_POSTINGS and not (root / name).exists():
            write_segment(reader, root / name, zones)
            written += 1
    if root.exists():
        for old in root.iterdir():
            # an open reader of an older generation keeps its mapped files (POSIX unlink)
            if old.name not in live and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
    return written


class _Mapped(NamedTuple):
    terms: dict[str, dict[str, list[int]]]
    arrays: dict[str, np.ndarray]
    columns: SegmentColumns


class Sidecars:
    """The sidecars of an index directory, mapped on first use, per segment."""

    def __init__(self, index_dir: Path) -> None:
        self.root = index_dir / DIRNAME
        self._lock = threading.Lock()
        self._mapped: dict[str, _Mapped | None] = {}

    def _segment(self, seg: str) -> _Mapped | None:
        if seg in self._mapped:
            return self._mapped[seg]
        with self._lock:
            if seg not in self._mapped:
                loaded = None
                for version in READABLE:
                    loaded = loaded or self._load(self.root / folder_name(seg, version), version)
                self._mapped[seg] = loaded
            return self._mapped[seg]

    @staticmethod
    def _load(folder: Path, version: int) -> _Mapped | None:
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            if meta.get("version") != version:
                return None
            arrays = _map_arrays(folder / ARRAYS_FILE, meta["arrays"])
            months = {zone: arrays.pop(f"months-{n}") for n, zone in enumerate(meta["zones"])}
            columns = SegmentColumns(**{n: arrays.pop(n) for n in _COLUMNS}, months=months)
            terms = meta["terms"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("index sidecar %s unreadable (%s): decoding from Whoosh", folder, exc)
            return None
        return _Mapped(terms, arrays, columns)

    def has(self, reader: Any) -> bool:
        return self._segment(segment_id(reader)) is not None

    def columns(self, reader: Any) -> SegmentColumns | None:
        """The segment's columns from its sidecar; None when it has none."""
        mapped = self._segment(segment_id(reader))
        return mapped.columns if mapped is not None else None

    def term(self, reader: Any, fieldname: str, text: str, positions: bool) -> Term | None:
        """The term's postings from the segment's sidecar (with positions when asked and
        the field has them); None when the segment has no sidecar or the term is not in
        it."""
        mapped = self._segment(segment_id(reader))
        if mapped is None:
            return None
        span = mapped.terms.get(fieldname, {}).get(text)
        if span is None:
            return None
        start, end, pstart, pend, *wraps = span
        a = mapped.arrays
        ids = a["ids"][start:end].astype(np.int32)  # a copy: the map is read-only
        for at in wraps:  # the docnums from here on are past the next multiple of 2**16
            ids[at:] += 1 << ID_BITS
        has_positions = positions and fieldname == f.TEXT
        return Term(
            ids,
            np.asarray(a["freqs"][start:end], dtype=np.float32),
            np.asarray(a["counts" if "counts" in a else "freqs"][start:end], dtype=np.int32)
            if has_positions
            else None,
            np.asarray(a["positions"][pstart:pend], dtype=np.int32) if has_positions else None,
        )

    def prefetch(self, reader: Any) -> None:
        """Map the segment's sidecar and ask the kernel to read it ahead (not waited for)."""
        seg = segment_id(reader)
        if self._segment(seg) is None:
            return
        for version in READABLE:
            for name in (ARRAYS_FILE, META_FILE):
                _will_need(self.root / folder_name(seg, version) / name)

    def forget(self, live: set[str]) -> None:
        """Drop the maps of segments merged away."""
        with self._lock:
            for seg in [s for s in self._mapped if s not in live]:
                del self._mapped[seg]


def _write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    """The arrays one after another in one file, each at a multiple of 64 bytes; returns
    their layout ({name: [dtype, offset, length]})."""
    layout: dict[str, list[Any]] = {}
    with open(path, "wb") as out:
        for name, array in arrays.items():
            pad = -out.tell() % 64
            out.write(b"\0" * pad)
            layout[name] = [array.dtype.str, out.tell(), len(array)]
            out.write(np.ascontiguousarray(array).tobytes())
        out.flush()
        os.fsync(out.fileno())
    return layout


def _map_arrays(path: Path, layout: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    """The arrays of `path`, read-only views of one memory map (one map per segment: a
    fresh process opens them in microseconds)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        buffer: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    out: dict[str, np.ndarray] = {}
    for name, (dtype, offset, length) in layout.items():
        kind = np.dtype(dtype)
        if not (isinstance(offset, int) and isinstance(length, int)) or min(offset, length) < 0:
            raise ValueError(f"bad layout of {name}")
        if offset + length * kind.itemsize > size:
            raise ValueError(f"{name} ends past the end of {path.name}")
        out[name] = (
            np.frombuffer(buffer, dtype=kind, count=length, offset=offset)
            if length
            else np.empty(0, kind)
        )
    return out


def _will_need(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    finally:
        os.close(fd)
