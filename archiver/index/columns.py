"""Whole-column arrays of the index (date order, account, kind), cached per segment.

Whoosh reads a column value per document through Python calls; facets and date order
need the value of every match, so each segment's columns are read once, in bulk, into
arrays that live as long as the segment (segments are immutable; deletions do not touch
columns). A facet "combo" packs account, kind and month into one int so that counting
all matches is a single Counter pass.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from array import array
from typing import Any

from whoosh.searching import Searcher

from archiver.index import schema as f

_MONTHS = 12 * 400 + 1  # month numbers 1.. from 1970-01; 0 = undated
_KINDS = 64


def month_label(month_num: int) -> str:
    year, month = divmod(month_num - 1, 12)
    return f"{1970 + year:04d}-{month + 1:02d}"


def _read_numeric(reader: Any, fieldname: str, typecode: str) -> array:
    """The column as an array, read as one block of bytes when the layout allows."""
    count = reader.doc_count_all()
    if not reader.has_column(fieldname):
        return array(typecode, bytes(count * array(typecode).itemsize))
    column = reader.column_reader(fieldname, translate=False)
    try:
        # whoosh NumericColumn: fixed-width big-endian values; absent trailing docs = 0
        raw = column._dbfile.get(column._basepos, column._count * column._fixedlen)
    except AttributeError:  # another column layout: read value by value
        return array(typecode, column)
    values = array(typecode)
    values.frombytes(bytes(raw))
    if sys.byteorder == "little" and values.itemsize > 1:
        values.byteswap()
    if len(values) < count:
        values.extend(array(typecode, bytes((count - len(values)) * values.itemsize)))
    return values


class Columns:
    """Per-index cache of column arrays; shared by the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[str, tuple[array, array]] = {}
        self._merged: tuple[tuple[str, ...], array, array] | None = None
        self._accounts: list[int] = []
        self._account_ord: dict[int, int] = {}
        self._month_of_day: dict[int, int] = {}

    def created(self, searcher: Searcher) -> array:
        return self._arrays(searcher)[0]

    def facets(self, searcher: Searcher) -> array:
        return self._arrays(searcher)[1]

    def decode(self, combo: int) -> tuple[str, int, int]:
        rest, month_num = divmod(combo, _MONTHS)
        account_ord, kind_num = divmod(rest, _KINDS)
        return str(self._accounts[account_ord]), kind_num, month_num

    def _arrays(self, searcher: Searcher) -> tuple[array, array]:
        leaves = list(searcher.reader().leaf_readers())
        # an empty index has one reader and no segment
        key = tuple(
            str(reader.segment().segment_id()) if reader.segment() else "-" for reader, _ in leaves
        )
        merged = self._merged
        if merged is not None and merged[0] == key:
            return merged[1], merged[2]
        with self._lock:
            readers = [reader for reader, _ in leaves]
            parts = [self._segment(k, r) for k, r in zip(key, readers, strict=True)]
            # segments merged away are forgotten with the old generation
            self._segments = dict(zip(key, parts, strict=True))
            created, combos = array("q"), array("q")
            for seg_created, seg_combos in parts:
                created.extend(seg_created)
                combos.extend(seg_combos)
            self._merged = (key, created, combos)
            return created, combos

    def _segment(self, seg_id: str, reader: Any) -> tuple[array, array]:
        cached = self._segments.get(seg_id)
        if cached is not None:
            return cached
        created = _read_numeric(reader, f.CREATED, "q")
        accounts = _read_numeric(reader, f.ACCOUNT_NUM, "q")
        kinds = _read_numeric(reader, f.KIND_NUM, "B")
        account_ord = self._account_ord
        month_of = self._month_number
        combos = array("q", bytes(8 * len(created)))
        for i, (order, account, kind) in enumerate(zip(created, accounts, kinds, strict=True)):
            ordinal = account_ord.get(account)
            if ordinal is None:
                ordinal = account_ord[account] = len(self._accounts)
                self._accounts.append(account)
            combos[i] = (ordinal * _KINDS + kind) * _MONTHS + month_of(order)
        return created, combos

    def _month_number(self, order: int) -> int:
        if order <= 0:
            return 0
        day = (order >> f.TIE_BITS) // 86400
        month = self._month_of_day.get(day)
        if month is None:
            date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
            month = min((date.year - 1970) * 12 + date.month, _MONTHS - 1)
            self._month_of_day[day] = month
        return month
