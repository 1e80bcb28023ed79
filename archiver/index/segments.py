"""Segments written from whole arrays, for an index that has no documents yet (a rebuild)
and for the second round of such a build (its items written again as a new segment).

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
delete_document (of the committed segments), commit, cancel. The meta document is added
last, so it is in the same commit as the items.

Given the zones of the index's month numbers, each segment's sidecar (sidecars.py) is
written here too, from the sorted arrays, into the folder of the index written to: the same
files sidecars.write_segment makes by decoding the new segment again (the text field's
positions are kept for it as analysed; tests/index/test_segments.py compares both).
"""

from __future__ import annotations

import shutil
from array import array
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.formats import Existence, Frequency, Positions
from whoosh.util.numeric import length_to_byte

from archiver.index import schema as f
from archiver.index import sidecars
from archiver.index.columns import segment_columns
from archiver.index.whoosh_internals import (
    LENGTH_OF_BYTE,
    SegmentFiles,
    TermWriter,
    one_position_values,
    open_column,
    open_lengths,
    term_words,
    whole_column_code,
    write_lengths,
    write_whole_column,
)

# A segment is closed after this many postings (~25 bytes each while gathered, about as
# much again while sorted): memory stays flat whatever the size of the archive.
POSTINGS_PER_SEGMENT = 8_000_000

NO_VALUE, FREQUENCY, BYTES = 0, 1, 2  # what a field's postings carry
_ONE_POSITION = one_position_values(Positions())
_MANY = 256  # a value of at most this many distinct terms extends from these
_ONES = array("i", [1] * _MANY)
_ONES_F = array("f", [1.0] * _MANY)


class _Words(dict[str, int]):
    """A field's term numbers by analysed word; a word not seen yet gets its number from
    `number` (so a value's numbers are one `map`, in C, for words already seen)."""

    __slots__ = ("_terms", "_field_number", "_term_field", "_term_text", "_keep")

    def __init__(
        self,
        terms: dict[bytes, int],
        field_number: int,
        term_field: array[int],
        term_text: list[bytes],
        keep: bool = True,
    ) -> None:
        super().__init__()
        self._terms, self._field_number = terms, field_number
        self._term_field, self._term_text, self._keep = term_field, term_text, keep

    def __missing__(self, word: str) -> int:
        number = self.number(word.encode("utf-8"))
        if self._keep:  # a unique field's words are not asked for twice (`number` dedupes)
            self[word] = number
        return number

    def number(self, btext: bytes) -> int:
        """A term's number in the segment: a new one (its field and text recorded by
        number) unless it has one (from here, or from the other path: _indexed)."""
        number = self._terms.get(btext)
        if number is None:
            number = self._terms[btext] = len(self._term_text)
            self._term_field.append(self._field_number)
            self._term_text.append(btext)
        return number


class _Field:
    """How one indexed field's postings are gathered and written."""

    __slots__ = (
        "name",
        "field",
        "number",
        "carries",
        "scorable",
        "terms",
        "words",
        "tokens",
        "first",
        "boost",
        "sidecar",
        "positions",
        "cache",
        "lookups",
        "hits",
    )

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
        self.terms: dict[bytes, int] = {}  # term -> its number
        self.words: _Words  # the same, by the analysed word (no encoding): set by reset
        # a value's terms in order without Whoosh's tokens, for the formats whose postings
        # they say all of (Existence, Frequency, Positions: what word_values would give)
        exact = type(fmt) in (Existence, Frequency, Positions)
        analysis = term_words(field) if exact else None
        self.tokens: Callable[[str], list[str]] | None = None
        self.first = 0
        if analysis is not None:
            self.tokens, self.first = analysis
        self.boost = float(fmt.field_boost)
        self.sidecar = name in sidecars.FIELDS  # its frequent terms go into the sidecar
        self.positions = False  # its postings' positions are kept for the sidecar
        # value -> the postings it added (term numbers, frequencies, weights) and its
        # length, for fields whose values repeat (an account, a run, a kind): most
        # documents then add these fields' postings without analysis. Only for fields
        # without values per posting; numbers hold within a segment (reset with it).
        self.cache: dict[str, _Added] | None = None
        self.lookups = self.hits = 0

    def reset(self, term_field: array[int], term_text: list[bytes]) -> None:
        """Empty, for a new segment whose terms' fields and texts go into these (by
        term number, all fields)."""
        self.terms = {}
        self.words = _Words(
            self.terms, self.number, term_field, term_text, keep=not self.field.unique
        )
        keeps = self.carries != BYTES and not self.field.unique and self.tokens is not None
        self.cache = {} if keeps else None
        self.lookups = self.hits = 0


# the postings one value of a field added: term numbers, frequencies, weights; its length
_Added = tuple["array[int]", "array[int]", "array[float]", int]
CACHED_VALUES = 4096  # per field, cleared when full
# a field's cache is dropped for the segment when it has answered fewer than 1 lookup in 4
# of its first CACHE_TRIAL (values that never repeat: urls, conversation ids)
CACHE_TRIAL = 2048

# per field name: (field, its _Field when indexed, stored, column type, the typecode of a
# column written whole at the end of the segment)
_Plan = tuple[Any, "_Field | None", bool, Any, "str | None"]
CHUNK = 1 << 16  # sorted postings turned into Python lists this many at a time (~10 MB)
# the columns a sidecar keeps, by field: the typecode of their values
_SIDECAR_COLUMNS = {f.CREATED: "q", f.ACCOUNT_NUM: "q", f.KIND_NUM: "B"}


class SegmentBuilder:
    """A writer that adds documents as new segments (at commit, or when a segment is
    full): an empty index's, or a build's late round's (documents of its committed
    segments are then deleted through Whoosh's writer, which holds the lock)."""

    def __init__(
        self,
        ix: Any,
        *,
        timeout: float,
        postings_per_segment: int = 0,
        sidecar_zones: tuple[str, ...] | None = None,
    ) -> None:
        """`sidecar_zones`: write each segment's sidecar, with month numbers in these
        zones (None: none written; sidecars.write_missing decodes the segment later)."""
        self.files = SegmentFiles(ix, timeout)
        self._committed = sum(s.doc_count_all() for s in self.files.writer.segments)
        self.schema = self.files.schema
        self.limit = postings_per_segment or POSTINGS_PER_SEGMENT
        names = sorted(self.schema.names())
        self._fields = {
            name: _Field(name, self.schema[name], i)
            for i, name in enumerate(names)
            if self.schema[name].indexed
        }
        self._plans: dict[str, _Plan] = {}
        for name in names:
            field = self.schema[name]
            column = field.column_type or None
            self._plans[name] = (
                field,
                self._fields.get(name),
                bool(field.stored),
                column,
                whole_column_code(column) if column else None,
            )
        self._by_number = {fd.number: fd for fd in self._fields.values()}
        self._zones = sidecar_zones if self._sidecar_possible() else None
        if self._zones is not None:
            for fd in self._fields.values():
                fd.positions = fd.sidecar and fd.carries == BYTES
        self._sidecars: list[Path] = []  # written by this builder (removed on cancel)
        self.is_closed = False  # committed or cancelled (as Whoosh's writers say it)
        self._segment: tuple[Any, Any, Any] | None = None
        self._reset()

    def _sidecar_possible(self) -> bool:
        """Whether the sidecar can be written from what is gathered here: the position
        fields among its fields have Whoosh's Positions format (decoded the same way) and
        its columns are written whole (their values kept)."""
        for fd in self._fields.values():
            supports = fd.field.format.supports("positions")
            if fd.sidecar and supports and type(fd.field.format) is not Positions:
                return False
        return all(
            name in self._plans and self._plans[name][4] == code
            for name, code in _SIDECAR_COLUMNS.items()
        )

    def _reset(self) -> None:
        self._term_of = array("i")  # per posting: its term's number (all fields)
        self._weight = array("f")
        self._freq = array("i")
        self._values: list[bytes] = []  # BYTES fields' postings only, in order
        self._doc_postings = array("i")  # per document: how many postings it added
        # by term number: its field's number and its text (two flat lists: a tuple a term
        # cost 64 bytes, most terms being an item's key)
        self._term_field = array("H")
        self._term_text: list[bytes] = []
        self._lengths: dict[str, array[int]] = {
            name: array("i") for name, fd in self._fields.items() if fd.scorable
        }
        self._positions = array("i")  # the postings' positions of the fields that keep them
        # each document's value of the columns written whole, and which were opened
        self._columns: dict[str, array[int]] = {
            name: array(plan[4]) for name, plan in self._plans.items() if plan[4]
        }
        self._opened: set[str] = set()
        self._opened_lengths: set[str] = set()
        for fd in self._fields.values():
            fd.reset(self._term_field, self._term_text)
        self._docnum = 0

    # -- the writer's interface --------------------------------------------------------------
    def add_document(self, **fields: Any) -> None:
        """Analyse and add one document, as SegmentWriter.add_document does (fields in
        name order; stored values, columns and lengths to the per-document writer)."""
        if self._segment is None:
            self._segment = self.files.new()
        perdoc = self._segment[1]
        docnum = self._docnum
        plans = self._plans
        before = len(self._term_of)
        perdoc.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            plan = plans.get(name)
            if plan is None:
                self.schema[name]  # raises Whoosh's error for a field not in the schema
                continue
            field, fd, stored, column, whole = plan
            if fd is not None:
                if fd.tokens is not None and type(value) is str:
                    cache = fd.cache
                    if cache is None:
                        length = self._analysed(fd, fd.tokens(value))
                    else:  # a value seen in this segment: its postings again (most)
                        fd.lookups += 1
                        added = cache.get(value)
                        if added is None:
                            length = self._first_seen(fd, cache, value)
                        else:
                            fd.hits += 1
                            self._term_of.extend(added[0])
                            self._freq.extend(added[1])
                            self._weight.extend(added[2])
                            length = added[3]
                else:
                    length = self._indexed(fd, field.index(value))
                if fd.scorable:  # lengths are written whole at the end (write_lengths)
                    self._lengths[name].append(length)
                    if length and name not in self._opened_lengths:
                        self._opened_lengths.add(name)
                        open_lengths(perdoc, name)
            if stored:
                perdoc.add_field(name, field, value, 0)
            if column:
                column_value = field.to_column_value(value)
                if whole is None:
                    perdoc.add_column_value(name, column, column_value)
                else:
                    if name not in self._opened:
                        self._opened.add(name)
                        open_column(perdoc, name, column)
                    self._columns[name].append(column_value)
        for lengths in self._lengths.values():
            if len(lengths) <= docnum:
                lengths.append(0)
        for kept in self._columns.values():
            if len(kept) <= docnum:
                kept.append(0)  # the column's default, as NumericColumn writes it
        perdoc.finish_doc()
        self._doc_postings.append(len(self._term_of) - before)
        self._docnum += 1
        if len(self._term_of) >= self.limit:
            self._close_segment()

    def _first_seen(self, fd: _Field, cache: dict[str, _Added], value: str) -> int:
        """_analysed for a value not in the field's cache (add_document looks it up and
        counts the lookup), which keeps the postings it added."""
        at = len(self._term_of)
        assert fd.tokens is not None  # a field with a cache has them
        length = self._analysed(fd, fd.tokens(value))
        if fd.lookups >= CACHE_TRIAL and fd.hits * 4 < fd.lookups:
            fd.cache = None  # its values do not repeat: the cache would only cost
            return length
        if len(cache) >= CACHED_VALUES:
            cache.clear()
        cache[value] = (self._term_of[at:], self._freq[at:], self._weight[at:], length)
        return length

    def _analysed(self, fd: _Field, words: list[str]) -> int:
        """Append a field's postings from its terms in token order; returns the field
        length (its tokens; its distinct terms for Existence, whose frequency is 1)."""
        n = len(words)
        if n == 1:  # an id, a keyword, a one-word value: the same as below, appended
            self._term_of.append(fd.words[words[0]])
            self._freq.append(1)
            self._weight.append(fd.boost)
            if fd.carries == BYTES:
                self._values.append(self._one_position(fd, fd.first))
                if fd.positions:
                    self._positions.append(fd.first)
            return 1
        if not n:
            return 0
        number_of = fd.words.__getitem__  # numbers a word new to the segment (_Words)
        first = fd.first
        if len(set(words)) == n:  # each term once (most posts, lists of keywords)
            self._term_of.extend(map(number_of, words))
            self._freq.extend(_ONES[:n] if n <= _MANY else [1] * n)
            boost = fd.boost
            self._weight.extend(_ONES_F[:n] if boost == 1.0 and n <= _MANY else [boost] * n)
            if fd.carries == BYTES:  # one position each: first, first + 1, ...
                end = first + n
                if end <= len(_ONE_POSITION):
                    self._values.extend(_ONE_POSITION[first:end])
                else:
                    encode = fd.field.format.encode
                    self._values.extend(encode([p]) for p in range(first, end))
                if fd.positions:
                    self._positions.extend(range(first, end))
            return n
        terms: dict[str, list[int]] = {}
        for pos, word in enumerate(words, first):
            found = terms.get(word)
            if found is None:
                terms[word] = [pos]
            else:
                found.append(pos)
        added = list(map(number_of, terms))
        self._term_of.extend(added)
        if fd.carries == NO_VALUE:  # Existence: each term once, weighted by the boost
            count = len(added)
            self._freq.extend([1] * count)
            self._weight.extend([fd.boost] * count)
            return count  # Existence's frequency is 1 a term
        counts = [len(p) for p in terms.values()]
        self._freq.extend(counts)
        boost = fd.boost
        self._weight.extend(counts if boost == 1.0 else [c * boost for c in counts])
        if fd.carries == BYTES:  # Positions.encode, from the table for one small position
            table, size, encode = _ONE_POSITION, len(_ONE_POSITION), fd.field.format.encode
            self._values.extend(
                table[p[0]] if len(p) == 1 and p[0] < size else encode(p) for p in terms.values()
            )
            if fd.positions:
                self._positions.extend(chain.from_iterable(terms.values()))
        return n

    @staticmethod
    def _one_position(fd: _Field, position: int) -> bytes:
        """A posting's value for one position (from the table when it is in it)."""
        if position < len(_ONE_POSITION):
            return _ONE_POSITION[position]
        encoded: bytes = fd.field.format.encode([position])
        return encoded

    def _indexed(self, fd: _Field, postings: Any) -> int:
        """Append a field's postings from Whoosh's `field.index`; returns the field length."""
        carries = fd.carries == BYTES
        length = 0
        for btext, tfreq, tweight, vbytes in postings:
            self._term_of.append(fd.words.number(btext))
            self._weight.append(tweight)
            self._freq.append(tfreq)
            if carries:
                self._values.append(vbytes)
                if fd.positions:
                    self._positions.extend(fd.field.format.decode_positions(vbytes))
            length += tfreq
        return length

    def delete_document(self, docnum: int) -> None:
        """Delete a document of the index's committed segments (marked in its segment, as
        Whoosh's writer marks it: this commit's table of contents records it)."""
        if not 0 <= docnum < self._committed:
            raise IndexError(f"no committed document {docnum} to delete")
        self.files.writer.delete_document(docnum)

    def commit(self) -> None:
        try:
            if self._segment is not None:
                self._close_segment()
            self.files.commit()
        except BaseException:
            self.cancel()
            raise
        self.is_closed = True

    def cancel(self) -> None:
        """Remove what was written; once only (a failed commit has cancelled already, and
        the caller's cancel must not hide the commit's error behind Whoosh's "closed")."""
        if self.is_closed:
            return
        self.is_closed = True
        self.files.cancel()
        for folder in self._sidecars:
            shutil.rmtree(folder, ignore_errors=True)

    # -- writing a segment's postings --------------------------------------------------------
    def _close_segment(self) -> None:
        assert self._segment is not None
        segment, perdoc, fieldwriter = self._segment
        lengths = {name: [length_to_byte(x) for x in v] for name, v in self._lengths.items()}
        self._postings(TermWriter(fieldwriter), str(segment.segment_id()), lengths)
        for name in self._opened:
            kept = self._columns[name]
            write_whole_column(perdoc, name, np.frombuffer(kept, kept.typecode), kept.typecode)
        for name in self._opened_lengths:
            total = sum(self._lengths[name])
            write_lengths(perdoc, name, np.array(lengths[name], np.uint8), total)
        self.files.close(segment, perdoc, fieldwriter, self._docnum)
        self._segment = None
        self._reset()

    def _postings(self, terms: TermWriter, seg: str, lengths: dict[str, list[int]]) -> None:
        """Every term's postings, terms in (field name, text) order, documents ascending;
        and the segment's sidecar. `lengths`: each scorable field's length bytes."""
        texts = self._term_text
        if not texts:
            self._sidecar(seg, [], [], None, None, None, None, lengths)
            return
        # term numbers in (field, text) order: fields are numbered in name order, and
        # each field's texts sort as bytes (cheaper than sorting the (number, text) pairs)
        ordered = [
            number
            for fd in sorted(self._fields.values(), key=lambda fd: fd.number)
            for number in map(fd.terms.__getitem__, sorted(fd.terms))
        ]
        assert len(ordered) == len(texts)
        rank = np.empty(len(texts), np.int32)
        rank[ordered] = np.arange(len(texts), dtype=np.int32)
        term_of = np.frombuffer(self._term_of, np.int32)
        term_rank = rank[term_of]
        del rank
        # documents stay ascending in a term; 4 bytes a posting (the peak is at this close)
        order = np.argsort(term_rank, kind="stable").astype(np.int32)
        counts = np.bincount(term_rank, minlength=len(texts))
        del term_rank
        ends = np.cumsum(counts).tolist()
        per_doc = np.frombuffer(self._doc_postings, np.int32)
        docs = np.repeat(np.arange(len(per_doc), dtype=np.int32), per_doc)[order]
        weights = np.frombuffer(self._weight, np.float32)[order]
        freqs = np.frombuffer(self._freq, np.int32)[order]
        # where each posting's value is in _values (BYTES fields' postings), in sorted order
        fields_by_number, term_field = self._by_number, self._term_field
        carries = self._by_field(lambda fd: fd.carries == BYTES)
        value_index = np.cumsum(carries[term_of], dtype=np.int32)
        value_index -= 1
        value_index = value_index[order]
        del carries
        self._sidecar(seg, ordered, ends, order, term_of, docs, (weights, freqs), lengths)
        del order, term_of
        values = np.empty(len(self._values), object)  # fancy-indexed a chunk at a time
        values[:] = self._values
        self._values = []  # held by `values` now
        quantised = {
            name: np.array(LENGTH_OF_BYTE, np.int64)[np.array(v, np.uint8)] if v else None
            for name, v in lengths.items()
        }
        current = None
        start = chunk_at = chunk_end = 0
        ids_l: list[int] = []
        gaps_l: list[int] = []
        weights_l: list[float] = []
        values_l: list[bytes] = []
        lengths_l: dict[str, list[int]] = {}  # a scorable field's length of each posting
        freqs_b = b""
        for number_of_term, end in zip(ordered, ends, strict=True):
            if end > chunk_end:  # the next postings as lists (memory stays bounded)
                chunk_at, chunk_end = start, max(end, start + CHUNK)
                chunk_docs = docs[chunk_at:chunk_end]
                ids_l = chunk_docs.tolist()
                gaps_l = np.diff(chunk_docs, prepend=0).tolist()  # within a term: id gaps
                weights_l = weights[chunk_at:chunk_end].tolist()
                # a posting without a value has the index of the one before (or -1): unused
                values_l = values[value_index[chunk_at:chunk_end]].tolist() if len(values) else []
                freqs_b = freqs[chunk_at:chunk_end].astype(">u4").tobytes()  # pack_uint each
                lengths_l = {
                    name: column[chunk_docs].tolist()
                    for name, column in quantised.items()
                    if column is not None
                }
            fd = fields_by_number[term_field[number_of_term]]
            btext = texts[number_of_term]
            if fd is not current:
                if current is not None:
                    terms.finish_field()
                terms.start_field(fd.name, fd.field)
                current = fd
            a, b = start - chunk_at, end - chunk_at
            start = end
            if b - a == 1:  # most terms (each item's key, rare words): no slices
                if fd.carries == BYTES:
                    value = values_l[a]
                elif fd.carries == FREQUENCY:
                    value = freqs_b[a * 4 : a * 4 + 4]
                else:
                    value = b""
                length = None
                if fd.scorable:
                    length = lengths_l[fd.name][a] if fd.name in lengths_l else 0
                terms.add_one(btext, ids_l[a], weights_l[a], value, length)
                continue
            ids = ids_l[a:b]
            if fd.carries == BYTES:
                term_values: Any = values_l[a:b]
            elif fd.carries == FREQUENCY:
                term_values = freqs_b[a * 4 : b * 4]
            else:
                term_values = None
            term_lengths = None
            if fd.scorable:
                term_lengths = lengths_l[fd.name][a:b] if fd.name in lengths_l else [0] * (b - a)
            terms.add(btext, ids, weights_l[a:b], term_values, term_lengths, gaps_l[a:b])
        if current is not None:
            terms.finish_field()
        terms.flush()

    def _by_field(self, what: Callable[[_Field], bool]) -> np.ndarray:
        """`what` of each term's field, by term number."""
        table = np.zeros(max(self._by_number) + 1, bool)
        for number, fd in self._by_number.items():
            table[number] = what(fd)
        return table[np.frombuffer(self._term_field, np.uint16)]

    # -- the segment's sidecar ---------------------------------------------------------------
    def _sidecar(
        self,
        seg: str,
        ordered: list[int],
        ends: list[int],
        order: np.ndarray | None,
        term_of: np.ndarray | None,
        docs: np.ndarray | None,
        sorted_values: tuple[np.ndarray, np.ndarray] | None,
        lengths: dict[str, list[int]],
    ) -> None:
        """Write the segment's sidecar as sidecars.write_segment would from the segment's
        files: its frequent terms' postings from the sorted arrays (`order`: each sorted
        posting's place as added; `term_of`: each added posting's term), its columns from
        the values kept while documents were added."""
        if self._zones is None or self._docnum < sidecars.MIN_POSTINGS:
            return
        frequent = sidecars.FrequentTerms()
        if ordered and order is not None and docs is not None and sorted_values is not None:
            weights, freqs = sorted_values
            found: dict[str, list[tuple[str, int, int]]] = {}
            starts = [0, *ends[:-1]]
            fields_by_number = self._by_number
            least = sidecars.frequent_from(self._docnum)
            for rank in np.flatnonzero(np.diff([0, *ends]) >= least).tolist():
                term = ordered[rank]
                fd = fields_by_number[self._term_field[term]]
                btext = self._term_text[term]
                if fd.sidecar:
                    found.setdefault(fd.name, []).append(
                        (btext.decode("utf-8"), starts[rank], ends[rank])
                    )
            at = (
                self._position_starts(term_of)
                if any(self._fields[name].positions for name in found)
                else None
            )
            for name in sidecars.FIELDS:
                keep = self._fields[name].positions if name in self._fields else False
                for text, a, b in found.get(name, ()):
                    counts = positions = None
                    if keep and at is not None:
                        counts = freqs[a:b]
                        positions = self._gather_positions(at[order[a:b]], counts)
                    frequent.add(name, text, docs[a:b], weights[a:b], counts, positions)
        docnums = self._docnum
        text_lengths = lengths.get(f.TEXT)
        columns = segment_columns(
            np.array(self._columns[f.CREATED], np.int64),
            np.array(self._columns[f.ACCOUNT_NUM], np.int64),
            np.array(self._columns[f.KIND_NUM], np.uint8),
            np.array(text_lengths, np.uint8) if text_lengths else np.zeros(docnums, np.uint8),
            self._zones,
        )
        folder = sidecars.segment_folder(Path(self.files.writer.storage.folder), seg)
        self._sidecars.append(folder)
        sidecars.write_sidecar(folder, frequent, columns, self._zones)

    def _position_starts(self, term_of: np.ndarray | None) -> np.ndarray:
        """Where each added posting's positions start in _positions (postings of fields
        that keep no positions have none)."""
        assert term_of is not None
        keeps = self._by_field(lambda fd: fd.positions)
        counts = np.where(keeps[term_of], np.frombuffer(self._freq, np.int32), 0)
        # 4 bytes a posting where the positions allow (memory at a segment's close)
        dtype = np.int32 if len(self._positions) < 2**31 else np.int64
        starts: np.ndarray = np.cumsum(counts, dtype=dtype)
        np.subtract(starts, counts, out=starts)
        return starts

    def _gather_positions(self, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The positions of postings starting at `starts`, `counts` each, joined."""
        total = int(counts.sum())
        ends = np.cumsum(counts, dtype=np.int64)
        index = np.repeat(starts - (ends - counts), counts) + np.arange(total, dtype=np.int64)
        return np.frombuffer(self._positions, np.int32)[index]
