"""Whole-column arrays of the index (date order, account, kind, text length), per segment.

Whoosh reads a column value per document through Python calls; facets, date order and
ranking need the value of every match, so each segment's columns are read once, in bulk,
into arrays that live as long as the segment (segments are immutable; deletions do not
touch columns). Counting facets is then two C-level Counter passes over the matches.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from array import array
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.searching import Searcher

from archiver.index import schema as f

KIND_SLOTS = 64  # account_kind = account ordinal * KIND_SLOTS + kind number
_MONTHS = 12 * 400  # month numbers 1.. from 1970-01; 0 = undated


def month_label(month_num: int) -> str:
    year, month = divmod(month_num - 1, 12)
    return f"{1970 + year:04d}-{month + 1:02d}"


def _read_numeric(reader: Any, column: Any, typecode: str) -> array:
    """A numeric column as an array, read as one block of bytes when the layout allows."""
    count = reader.doc_count_all()
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


def _column(reader: Any, fieldname: str, typecode: str) -> array:
    if not reader.has_column(fieldname):
        return array(typecode, bytes(reader.doc_count_all() * array(typecode).itemsize))
    return _read_numeric(reader, reader.column_reader(fieldname, translate=False), typecode)


class _Segment:
    __slots__ = ("created", "account_kind", "month", "lengths")

    def __init__(self, created: array, account_kind: array, month: array) -> None:
        self.created = created
        self.account_kind = account_kind
        self.month = month
        self.lengths: array | None = None


class Columns:
    """Per-index cache of column arrays; shared by the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[str, _Segment] = {}
        self._merged: tuple[tuple[str, ...], array, array, array] | None = None
        self._accounts: list[int] = []
        self._account_ord: dict[int, int] = {}
        self._month_of_day: dict[int, int] = {}

    def created(self, searcher: Searcher) -> array:
        """Date order (schema.CREATED) of every document, by global docnum."""
        return self._arrays(searcher)[1]

    def facets(self, searcher: Searcher) -> tuple[array, array]:
        """(account and kind, month) of every document, by global docnum."""
        _, _, account_kind, month = self._arrays(searcher)
        return account_kind, month

    def account_kind(self, value: int) -> tuple[str, int]:
        account_ord, kind_num = divmod(value, KIND_SLOTS)
        return str(self._accounts[account_ord]), kind_num

    def text_lengths(self, reader: Any) -> array:
        """The stored length byte of the text field of each document of one segment."""
        segment = self._segments.get(_segment_id(reader))
        if segment is None:
            segment = self._load(reader)
        if segment.lengths is None:
            perdoc = reader._perdoc
            lenfield = _lenfield(f.TEXT)
            if perdoc.has_column(lenfield):
                column = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
                segment.lengths = _read_numeric(reader, column, "B")
            else:
                segment.lengths = array("B", bytes(reader.doc_count_all()))
        return segment.lengths

    def _arrays(self, searcher: Searcher) -> tuple[tuple[str, ...], array, array, array]:
        leaves = [reader for reader, _ in searcher.reader().leaf_readers()]
        key = tuple(_segment_id(reader) for reader in leaves)
        merged = self._merged
        if merged is not None and merged[0] == key:
            return merged
        with self._lock:
            parts = [
                self._segments.get(k) or self._load(r) for k, r in zip(key, leaves, strict=True)
            ]
            # segments merged away are forgotten with the old generation
            self._segments = dict(zip(key, parts, strict=True))
            created, account_kind, month = array("q"), array("q"), array("H")
            for part in parts:
                created.extend(part.created)
                account_kind.extend(part.account_kind)
                month.extend(part.month)
            self._merged = (key, created, account_kind, month)
            return self._merged

    def _load(self, reader: Any) -> _Segment:
        created = _column(reader, f.CREATED, "q")
        accounts = _column(reader, f.ACCOUNT_NUM, "q")
        kinds = _column(reader, f.KIND_NUM, "B")
        account_ord = self._account_ord
        for account in set(accounts):
            if account not in account_ord:
                account_ord[account] = len(self._accounts)
                self._accounts.append(account)
        account_kind = array(
            "q", (account_ord[a] * KIND_SLOTS + k for a, k in zip(accounts, kinds, strict=True))
        )
        month = array("H", map(self._month_number, created))
        segment = _Segment(created, account_kind, month)
        self._segments[_segment_id(reader)] = segment
        return segment

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


def _segment_id(reader: Any) -> str:
    segment = reader.segment()  # an empty index has one reader and no segment
    return str(segment.segment_id()) if segment is not None else "-"
