"""Whole-column arrays of the index (date order, account, kind, month, text length).

Whoosh reads a column value per document through Python calls; facets, date order and
ranking need the value of every match, so each segment's columns are read once, in bulk,
into numpy arrays that live as long as the segment (segments are immutable; deletions do
not touch columns), and are joined into arrays by global document number. A segment's
columns and their month numbers are also kept in its sidecar (sidecars.py), so a fresh
process maps them instead of reading and deriving them (O(documents) work on the first
query).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from typing import Any, NamedTuple, Protocol

import numpy as np
from whoosh.searching import Searcher

from archiver.index import schema as f
from archiver.index.whoosh_internals import length_column, numeric_column_bytes, segment_id
from archiver.timestamps import display_zone

KIND_SLOTS = 64  # account_kind = account ordinal * KIND_SLOTS + kind number
_MONTHS = 12 * 400  # month numbers 1.. from 1970-01; 0 = undated


def month_label(month_num: int) -> str:
    year, month = divmod(month_num - 1, 12)
    return f"{1970 + year:04d}-{month + 1:02d}"


def _read_numeric(reader: Any, column: Any, dtype: str) -> np.ndarray:
    """A numeric column as an array, read as one block of bytes when the layout allows."""
    count = reader.doc_count_all()
    out = np.zeros(count, dtype=dtype)
    whole = numeric_column_bytes(column)  # big-endian values; absent trailing docs = 0
    if whole is not None:
        values = np.frombuffer(whole[0], dtype=np.dtype(dtype).newbyteorder(">"))
    else:  # another column layout: read value by value
        values = np.fromiter(column, dtype=dtype)
    out[: len(values)] = values[:count]
    return out


def _column(reader: Any, fieldname: str, dtype: str) -> np.ndarray:
    if not reader.has_column(fieldname):
        return np.zeros(reader.doc_count_all(), dtype=dtype)
    return _read_numeric(reader, reader.column_reader(fieldname, translate=False), dtype)


def _text_lengths(reader: Any) -> np.ndarray:
    """The stored length byte of the text field (what BM25 normalises by)."""
    column = length_column(reader, f.TEXT)
    if column is None:
        return np.zeros(reader.doc_count_all(), dtype="u1")
    return _read_numeric(reader, column, "u1")


@functools.lru_cache(maxsize=32)
def _month_starts(zone: str, first: int, last: int) -> np.ndarray:
    """The instant (Unix seconds) months `first`..`last` begin in `zone`."""
    tz = display_zone(zone)
    return np.array(
        [
            int(dt.datetime(1970 + (m - 1) // 12, (m - 1) % 12 + 1, 1, tzinfo=tz).timestamp())
            for m in range(first, last + 1)
        ],
        dtype=np.int64,
    )


def month_numbers(created: np.ndarray, zone: str = "UTC") -> np.ndarray:
    """Month number (1 = 1970-01) of each date-order value in `zone` (the month a person in
    ui.timezone reads); 0 for undated."""
    dated = created > 0
    seconds = np.where(dated, created >> f.TIE_BITS, 0)
    utc = (
        seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) + 1
        if len(seconds)
        else np.zeros(0, np.int64)
    )
    if zone == "UTC" or not dated.any():
        months = utc
    else:
        # a zone's month starts within a day of UTC's: only the months the values span
        first = max(1, int(utc[dated].min()) - 1)
        last = min(_MONTHS, int(utc[dated].max()) + 2)
        starts = _month_starts(zone, first, last)
        months = first - 1 + np.searchsorted(starts, seconds, side="right")
    return np.where(dated, np.clip(months, 1, _MONTHS - 1), 0).astype(np.uint16)


def distinct_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the sorted distinct values, each value's index into them). Not np.unique: numpy 2
    imports numpy.ma on its first call (~100 ms of a fresh process's first query)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    distinct = ordered[keep]
    return distinct, np.searchsorted(distinct, values).astype(np.int32)


class SegmentColumns(NamedTuple):
    """One segment's column values, by segment docnum."""

    created: np.ndarray  # int64 date order
    accounts: np.ndarray  # int64: the segment's distinct numeric account ids, sorted
    account: np.ndarray  # per document, its index into `accounts`
    kinds: np.ndarray  # uint8 kind number
    lengths: np.ndarray  # uint8 text length byte
    months: dict[str, np.ndarray]  # zone -> uint16 month numbers, for the zones kept ahead


def read_columns(reader: Any, zones: tuple[str, ...] = ()) -> SegmentColumns:
    """A segment's columns read from Whoosh's column files, with month numbers in `zones`."""
    return segment_columns(
        _column(reader, f.CREATED, "i8"),
        _column(reader, f.ACCOUNT_NUM, "i8"),
        _column(reader, f.KIND_NUM, "u1"),
        _text_lengths(reader),
        zones,
    )


def segment_columns(
    created: np.ndarray,
    account_nums: np.ndarray,
    kinds: np.ndarray,
    lengths: np.ndarray,
    zones: tuple[str, ...] = (),
) -> SegmentColumns:
    """A segment's columns from its per-document values (int64 date order, int64 account
    number, uint8 kind number, uint8 text length byte), with month numbers in `zones`."""
    accounts, account = distinct_values(account_nums)
    return SegmentColumns(
        created=created,
        accounts=accounts,
        account=account,
        kinds=kinds,
        lengths=lengths,
        months={zone: month_numbers(created, zone) for zone in zones},
    )


def _months(part: SegmentColumns, zone: str) -> np.ndarray:
    kept = part.months.get(zone)
    return kept if kept is not None else month_numbers(part.created, zone)


class ColumnSource(Protocol):
    """Where a segment's columns come from before Whoosh's files (sidecars.Sidecars)."""

    def columns(self, reader: Any) -> SegmentColumns | None: ...


class ColumnArrays(NamedTuple):
    """Every document's column values, by global document number."""

    created: np.ndarray  # int64
    account_kind: np.ndarray  # int32: account ordinal * KIND_SLOTS + kind number
    lengths: np.ndarray  # uint8


class Columns:
    """Per-index cache of column arrays; shared by the threads of one process. A segment's
    columns come from `source` (its memory-mapped sidecar) when it has them."""

    def __init__(self, source: ColumnSource | None = None) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._segments: dict[str, SegmentColumns] = {}
        self._merged: tuple[tuple[str, ...], ColumnArrays, list[SegmentColumns]] | None = None
        self._accounts: list[int] = []
        self._account_ord: dict[int, int] = {}
        # zone -> (the created array they were computed from, month numbers)
        self._zone_months: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def arrays(self, searcher: Searcher) -> ColumnArrays:
        leaves = [reader for reader, _ in searcher.reader().leaf_readers()]
        key = tuple(segment_id(reader) for reader in leaves)
        merged = self._merged
        if merged is not None and merged[0] == key:
            return merged[1]
        with self._lock:
            parts = [
                self._segments.get(k) or self._load(r) for k, r in zip(key, leaves, strict=True)
            ]
            # segments merged away are forgotten with the old generation
            self._segments = dict(zip(key, parts, strict=True))
            account_kind = np.empty(sum(len(p.created) for p in parts), np.int32)
            at = 0
            for part in parts:
                ordinals = np.array([self._ordinal(a) for a in part.accounts.tolist()], np.int32)
                into = account_kind[at : at + len(part.created)]
                if np.array_equal(ordinals, np.arange(len(ordinals))):
                    into[:] = part.account  # the usual case: its accounts are the first ones
                    into *= KIND_SLOTS
                else:
                    np.take(ordinals * KIND_SLOTS, part.account, out=into)
                into += part.kinds
                at += len(part.created)
            arrays = ColumnArrays(
                created=np.concatenate([p.created for p in parts]),
                account_kind=account_kind,
                lengths=np.concatenate([p.lengths for p in parts]),
            )
            self._merged = (key, arrays, parts)
            return arrays

    def _ordinal(self, account: int) -> int:
        found = self._account_ord.get(account)
        if found is None:
            found = self._account_ord[account] = len(self._accounts)
            self._accounts.append(account)
        return found

    def months(self, arrays: ColumnArrays, zone: str) -> np.ndarray:
        """Every document's month number in `zone`, kept while the arrays last: a segment's
        from its sidecar when it kept that zone's, else computed."""
        cached = self._zone_months.get(zone)
        if cached is not None and cached[0] is arrays.created:
            return cached[1]
        merged = self._merged
        if merged is not None and merged[1] is arrays:
            months = np.concatenate([_months(p, zone) for p in merged[2]])
        else:
            months = month_numbers(arrays.created, zone)
        self._zone_months[zone] = (arrays.created, months)
        return months

    def created(self, searcher: Searcher) -> np.ndarray:
        """Date order (schema.CREATED) of every document, by global docnum."""
        return self.arrays(searcher).created

    def account_kind(self, value: int) -> tuple[str, int]:
        account_ord, kind_num = divmod(value, KIND_SLOTS)
        return str(self._accounts[account_ord]), kind_num

    def _load(self, reader: Any) -> SegmentColumns:
        found = self.source.columns(reader) if self.source is not None else None
        return found if found is not None else read_columns(reader)
