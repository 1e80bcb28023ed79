"""Segments written from whole arrays, for an index that has no documents yet (a rebuild).

Whoosh's writer hands every posting to a pool as a tuple, pickles the tuples into sorted
runs on disk once the pool outgrows its memory limit, merges the runs back and feeds the
postings to the codec one call each: about 60% of a rebuild's time, measured. An empty
index has nothing to merge with, so here each document is analysed by its fields (Whoosh's
own `field.index`, so the terms are Whoosh's), its postings appended to flat arrays, and at
the end of a segment the arrays are sorted by term with numpy and written through
whoosh_internals (the W3 codec's own per-document writer and term dictionary, posting
blocks laid out as its postings writer lays them out). The files are those Whoosh's
single-process writer makes from the same documents (tests/index/test_segments.py).

The interface is the part of Whoosh's writer that writing.Session uses: add_document,
commit, cancel. The meta document is added last, so it is in the same commit as the items.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
from whoosh.formats import Existence, Frequency, Positions

from archiver.index.whoosh_internals import (
    SegmentFiles,
    add_term,
    finish_field,
    one_position_values,
    quantised_length,
    start_field,
    term_positions,
)

# A segment is closed after this many postings (~25 bytes each while gathered, about as
# much again while sorted): memory stays flat whatever the size of the archive.
POSTINGS_PER_SEGMENT = 8_000_000

NO_VALUE, FREQUENCY, BYTES = 0, 1, 2  # what a field's postings carry
_ONE_POSITION = one_position_values(Positions())


class _Field:
    """How one indexed field's postings are gathered and written."""

    __slots__ = ("name", "field", "number", "carries", "scorable", "terms", "analyse", "boost")

    def __init__(self, name: str, field: Any, number: int) -> None:
        self.name = name
        self.field = field
        self.number = number
        fmt = field.format
        if fmt.fixed_value_size() == 0:
            self.carries = NO_VALUE  # Existence: the document is all there is
        elif type(fmt) is Frequency:
            self.carries = FREQUENCY  # its value is pack_uint(frequency): made in bulk
        else:
            self.carries = BYTES  # positions (and anything else): kept as encoded
        self.scorable = bool(field.scorable)
        self.terms: dict[bytes, int] = {}
        # {term: positions} without Whoosh's tokens, for the formats whose postings that
        # says all of (Existence, Frequency, Positions: what word_values would give)
        exact = type(fmt) in (Existence, Frequency, Positions)
        self.analyse = term_positions(field) if exact else None
        self.boost = float(fmt.field_boost)


class SegmentBuilder:
    """A writer for an empty index: documents in, segments out (at commit, or when a
    segment is full)."""

    def __init__(self, ix: Any, *, timeout: float, postings_per_segment: int = 0) -> None:
        self.files = SegmentFiles(ix, timeout)
        self.schema = self.files.schema
        self.limit = postings_per_segment or POSTINGS_PER_SEGMENT
        names = sorted(self.schema.names())
        self._fields = {
            name: _Field(name, self.schema[name], i)
            for i, name in enumerate(names)
            if self.schema[name].indexed
        }
        self._segment: tuple[Any, Any, Any] | None = None
        self._reset()

    def _reset(self) -> None:
        self._term_of = array("i")  # per posting: its term's number (all fields)
        self._doc = array("i")
        self._weight = array("f")
        self._freq = array("i")
        self._values: list[bytes] = []  # BYTES fields' postings only, in order
        self._has_value = array("b")  # per posting: 1 when it has a value in _values
        self._term_keys: list[tuple[int, bytes]] = []  # term number -> (field number, text)
        self._lengths: dict[str, array[int]] = {
            name: array("i") for name, fd in self._fields.items() if fd.scorable
        }
        for fd in self._fields.values():
            fd.terms = {}
        self._docnum = 0

    # -- the writer's interface --------------------------------------------------------------
    def add_document(self, **fields: Any) -> None:
        """Analyse and add one document, as SegmentWriter.add_document does (fields in
        name order; stored values, columns and lengths to the per-document writer)."""
        if self._segment is None:
            self._segment = self.files.new()
        perdoc = self._segment[1]
        docnum = self._docnum
        schema = self.schema
        perdoc.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            fd = self._fields.get(name)
            if fd is not None:
                if fd.analyse is not None and type(value) is str:
                    length = self._analysed(fd, fd.analyse(value), docnum)
                else:
                    length = self._indexed(fd, field.index(value), docnum)
                if fd.scorable:
                    self._lengths[name].append(length)
                else:
                    length = 0
            perdoc.add_field(name, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdoc.add_column_value(name, column, field.to_column_value(value))
        for lengths in self._lengths.values():
            if len(lengths) <= docnum:
                lengths.append(0)
        perdoc.finish_doc()
        self._docnum += 1
        if len(self._doc) >= self.limit:
            self._close_segment()

    def _analysed(self, fd: _Field, terms: dict[str, list[int]], docnum: int) -> int:
        """Append a field's postings from {term: positions}; returns the field length."""
        numbers = fd.terms
        keys = self._term_keys
        added = []
        for word in terms:
            btext = word.encode("utf-8")
            number = numbers.get(btext)
            if number is None:
                number = numbers[btext] = len(keys)
                keys.append((fd.number, btext))
            added.append(number)
        n = len(added)
        self._term_of.extend(added)
        self._doc.extend([docnum] * n)
        if fd.carries == NO_VALUE:  # Existence: each term once, weighted by the boost
            self._freq.extend([1] * n)
            self._weight.extend([fd.boost] * n)
            self._has_value.extend(bytes(n))
            return n
        counts = [len(p) for p in terms.values()]
        self._freq.extend(counts)
        boost = fd.boost
        self._weight.extend([c * boost for c in counts])
        if fd.carries == BYTES:  # Positions.encode, from the table for one small position
            table, size, encode = _ONE_POSITION, len(_ONE_POSITION), fd.field.format.encode
            self._values.extend(
                table[p[0]] if len(p) == 1 and p[0] < size else encode(p) for p in terms.values()
            )
            self._has_value.extend(b"\x01" * n)
        else:
            self._has_value.extend(bytes(n))
        return sum(counts)

    def _indexed(self, fd: _Field, postings: Any, docnum: int) -> int:
        """Append a field's postings from Whoosh's `field.index`; returns the field length."""
        terms, keys = fd.terms, self._term_keys
        carries = fd.carries == BYTES
        length = 0
        for btext, tfreq, tweight, vbytes in postings:
            number = terms.get(btext)
            if number is None:
                number = terms[btext] = len(keys)
                keys.append((fd.number, btext))
            self._term_of.append(number)
            self._doc.append(docnum)
            self._weight.append(tweight)
            self._freq.append(tfreq)
            if carries:
                self._values.append(vbytes)
            self._has_value.append(carries)
            length += tfreq
        return length

    def delete_document(self, docnum: int) -> None:
        raise RuntimeError("a segment builder writes into an empty index: nothing to delete")

    def commit(self) -> None:
        try:
            if self._segment is not None:
                self._close_segment()
            self.files.commit()
        except BaseException:
            self.files.cancel()
            raise

    def cancel(self) -> None:
        self.files.cancel()

    # -- writing a segment's postings --------------------------------------------------------
    def _close_segment(self) -> None:
        assert self._segment is not None
        segment, perdoc, fieldwriter = self._segment
        self._postings(fieldwriter)
        self.files.close(segment, perdoc, fieldwriter, self._docnum)
        self._segment = None
        self._reset()

    def _postings(self, fieldwriter: Any) -> None:
        """Every term's postings, terms in (field name, text) order, documents ascending."""
        keys = self._term_keys
        if not keys:
            return
        ordered = sorted(range(len(keys)), key=keys.__getitem__)
        rank = np.empty(len(keys), np.int32)
        rank[ordered] = np.arange(len(keys), dtype=np.int32)
        term_rank = rank[np.frombuffer(self._term_of, np.int32)]
        del rank
        order = np.argsort(term_rank, kind="stable")  # documents stay ascending in a term
        counts = np.bincount(term_rank, minlength=len(keys))
        del term_rank
        ends = np.cumsum(counts).tolist()
        starts = [0, *ends[:-1]]
        docs = np.frombuffer(self._doc, np.int32)[order]
        weights = np.frombuffer(self._weight, np.float32)[order]
        freqs = np.frombuffer(self._freq, np.int32)[order]
        # where each posting's value is in _values (BYTES postings only), in sorted order
        has_value = np.frombuffer(self._has_value, np.int8).astype(bool)
        value_index = (np.cumsum(has_value) - 1)[order]
        del has_value, order
        values = np.empty(len(self._values), dtype=object)
        values[:] = self._values
        self._values = []
        quantised = {
            name: [quantised_length(x) for x in lengths] for name, lengths in self._lengths.items()
        }
        fields_by_number = {fd.number: fd for fd in self._fields.values()}
        current = None
        for number_of_term, start, end in zip(ordered, starts, ends, strict=True):
            number, btext = keys[number_of_term]
            fd = fields_by_number[number]
            if fd is not current:
                if current is not None:
                    finish_field(fieldwriter)
                start_field(fieldwriter, fd.name, fd.field)
                current = fd
            ids = docs[start:end].tolist()
            if fd.carries == BYTES:
                term_values: Any = values[value_index[start:end]].tolist()
            elif fd.carries == FREQUENCY:
                term_values = freqs[start:end].astype(">u4").tobytes()  # pack_uint each
            else:
                term_values = None
            term_lengths = None
            if fd.scorable:
                column = quantised[fd.name]
                term_lengths = [column[i] for i in ids]
            term_weights = weights[start:end].tolist()
            add_term(fieldwriter, btext, ids, term_weights, term_values, term_lengths)
        if current is not None:
            finish_field(fieldwriter)
