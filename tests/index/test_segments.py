"""Segments written from arrays (segments.SegmentBuilder) are the files Whoosh's own
single-process writer makes from the same documents, byte for byte; split into several
segments they hold the same postings, stored fields and columns."""

from __future__ import annotations

import functools
import importlib.util
import io
import pickle
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from whoosh.filedb import filetables
from whoosh.filedb.structfile import StructFile

from archiver.index import schema as f
from archiver.index import segments, sidecars, whoosh_internals
from archiver.index.items import IndexedItem, project
from archiver.index.segments import SegmentBuilder
from archiver.index.whoosh_internals import CODEC, file_storage

from .conftest import post

WORDS = ["road", "closed", "Appeal", "witness", "the", "to", "not", "café", "naïve", "东京"]


def _documents(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """Index documents as IndexedItem makes them: repeated words (positions past 255 and
    past the one-position table), empty and wordless texts, hashtags, urls, ids."""
    docs = []
    for i in range(n):
        length = 5000 if i == n // 2 else rng.choice([0, 1, 3, 12, 40, 300])
        words = [rng.choice(WORDS) for _ in range(length)] or ["!!!"] * rng.randint(0, 1)
        record = post(
            1000 + i,
            " ".join(words),
            hashtags=rng.sample(["appeal", "Road", "x"], rng.randint(0, 2)),
            mentions=["someone"] if rng.random() < 0.3 else [],
            urls=[f"https://www.example.org/a{i}"] if rng.random() < 0.3 else [],
            lang=rng.choice(["en", None]),
            conversation_id=str(1000 + rng.randint(0, i)),
        )
        item = IndexedItem(f"{1000 + i}/tweets/1001", "ExampleshirePolice")
        item.add(project(record, f"2024060{i % 9 + 1}T000000Z"))
        docs.append(item.document())
    docs.append({f.KEY: f.META_KEY, f.STATE: b'{"format": 4}'})
    return docs


def _whoosh_index(path: Path, docs: list[dict[str, Any]]) -> Any:
    path.mkdir()
    ix = file_storage(str(path)).create_index(f.build_schema())
    writer = ix.writer(codec=CODEC)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return ix


def _built_index(path: Path, docs: list[dict[str, Any]], per_segment: int = 0) -> Any:
    path.mkdir()
    ix = file_storage(str(path)).create_index(f.build_schema())
    builder = SegmentBuilder(ix, timeout=0, postings_per_segment=per_segment)
    for doc in docs:
        builder.add_document(**doc)
    builder.commit()
    return ix


def _segment_files(ix: Any) -> list[dict[str, bytes]]:
    """Each segment's files by name (its id taken out), read from its compound file."""
    out = []
    for segment in ix._segments():
        compound = segment.open_compound_file(ix.storage)
        seg_id = segment.segment_id()
        out.append(
            {
                name.replace(seg_id, "SEG"): bytes(compound.open_file(name).read())
                for name in compound.list()
            }
        )
        compound.close()
    return out


def _logical(ix: Any) -> dict[str, Any]:
    """Every term's postings (global docnums, weights, values), stored fields, columns."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        terms = {}
        for fieldname, text in reader.all_terms():
            m = reader.postings(fieldname, text)
            postings = []
            while m.is_active():
                # no value: None from a block, "" from a term's inlined posting
                postings.append((m.id(), m.weight(), m.value() or None))
                m.next()
            info = reader.term_info(fieldname, text)
            stats = (info.weight(), info.doc_frequency(), info.max_weight())
            terms[(fieldname, text)] = (stats, postings)
        stored = [searcher.stored_fields(d) for d in range(reader.doc_count_all())]
        columns = {
            name: list(reader.column_reader(name))
            for name in (f.CREATED, f.ACCOUNT_NUM, f.KIND_NUM)
        }
        lengths = [reader.doc_field_length(d, f.TEXT) for d in range(reader.doc_count_all())]
        total = reader.field_length(f.TEXT)
    return {"terms": terms, "stored": stored, "columns": columns, "lengths": lengths, "t": total}


def test_the_same_files_as_whooshs_writer(tmp_path):
    docs = _documents(random.Random(3), 400)
    whoosh = _segment_files(_whoosh_index(tmp_path / "whoosh", docs))
    built = _segment_files(_built_index(tmp_path / "built", docs))
    assert len(built) == len(whoosh) == 1
    assert built[0].keys() == whoosh[0].keys()
    for name in whoosh[0]:
        assert built[0][name] == whoosh[0][name], name


def test_the_same_files_written_in_small_pieces(tmp_path, monkeypatch):
    """Terms are written in batches and the sorted postings read a chunk at a time: with
    tiny batches and chunks (a term across chunks, a flush after every term) the files
    are still Whoosh's."""
    monkeypatch.setattr(whoosh_internals, "_FLUSH_BYTES", 64)
    monkeypatch.setattr(segments, "CHUNK", 5)
    docs = _documents(random.Random(7), 120)
    whoosh = _segment_files(_whoosh_index(tmp_path / "whoosh", docs))
    assert _segment_files(_built_index(tmp_path / "built", docs)) == whoosh


@pytest.mark.parametrize("cached, trial", [(3, 20), (segments.CACHED_VALUES, 2048)])
def test_repeated_values_added_from_the_cache_give_whooshs_files(
    tmp_path, monkeypatch, cached, trial
):
    """A field whose values repeat adds them from its cache of what each value added:
    with a cache cleared every few values and a short trial (after which a field whose
    values do not repeat stops caching), the files are still Whoosh's."""
    monkeypatch.setattr(segments, "CACHED_VALUES", cached)
    monkeypatch.setattr(segments, "CACHE_TRIAL", trial)
    docs = _documents(random.Random(11), 400)
    whoosh = _segment_files(_whoosh_index(tmp_path / "whoosh", docs))
    (tmp_path / "built").mkdir()
    ix = file_storage(str(tmp_path / "built")).create_index(f.build_schema())
    builder = SegmentBuilder(ix, timeout=0)
    for doc in docs:
        builder.add_document(**doc)
    fields = builder._fields
    assert fields[f.KEY].cache is None  # unique by the schema
    assert fields[f.TEXT].cache is None  # positions: analysed each time
    assert fields[f.ACCOUNT].hits >= 300  # one account
    # nine runs in turn: each is found again in a cache of more than nine values; in one of
    # three (cleared when full), never
    assert fields[f.RUN].hits >= 300 if cached > 9 else fields[f.RUN].cache is None
    if trial < 400:
        assert fields[f.URLS].cache is None  # no url twice: dropped after the trial
    else:
        assert fields[f.URLS].cache is not None and fields[f.URLS].hits == 0
    builder.commit()
    assert _segment_files(ix) == whoosh


def test_several_segments_hold_what_one_does(tmp_path):
    docs = _documents(random.Random(5), 300)
    whoosh = _whoosh_index(tmp_path / "whoosh", docs)
    built = _built_index(tmp_path / "built", docs, per_segment=800)
    assert len(built._segments()) > 2
    assert _logical(built) == _logical(whoosh)


def _inlined(ix: Any) -> tuple[int, int]:
    """(one-posting terms, those inlined in their term info) over every segment."""
    ones = inlined = 0
    for reader, _ in ix.reader().leaf_readers():
        for fieldname, text in reader.all_terms():
            info = reader.term_info(fieldname, text)
            if info.doc_frequency() == 1:
                ones += 1
                inlined += info.is_inlined()
    return ones, inlined


def test_one_posting_terms_are_inlined_and_merged_as_they_were(tmp_path):
    """Each item's key, rare words: the posting in the term info (ArchiveCodec's postings
    writer, and the builder alike), read back, and copied by Whoosh's merge."""
    docs = _documents(random.Random(6), 300)
    whoosh = _whoosh_index(tmp_path / "whoosh", docs)
    built = _built_index(tmp_path / "built", docs, per_segment=800)
    for ix in (whoosh, built):
        ones, inlined = _inlined(ix)
        assert ones > len(docs) and inlined == ones  # at least every key
    before = _logical(built)
    assert before == _logical(whoosh)
    with built.writer(codec=CODEC) as writer:
        writer.optimize = True  # every segment merged into one by Whoosh's writer
    assert len(built._segments()) == 1
    after = _logical(built)
    # Whoosh's merge sums the documents' length bytes (lossy) into the field's total
    assert after.pop("t") != 0 and before.pop("t") != 0
    assert after == before
    ones, inlined = _inlined(built)
    assert inlined == ones > len(docs)
    with built.searcher() as searcher:
        key = docs[7][f.KEY]
        assert searcher.document_number(**{f.KEY: key}) == 7


@given(
    ids=st.lists(st.integers(0, 2**32 - 2), min_size=1, max_size=3),
    weight=st.floats(0, 1e6, width=32),
    value=st.binary(max_size=20),
)
def test_an_inlined_posting_pickles_small_and_loads_back(ids, weight, value):
    postings = (tuple(ids), (weight,) * len(ids), (value,) * len(ids))
    data = whoosh_internals.compact_pickle(postings)
    assert pickle.loads(data) == postings  # noqa: S301 - made just above
    if len(ids) == 1 and ids[0] < 2**31 and not value:  # an item's key (docnums fit 31 bits)
        assert len(data) <= 23  # protocol 2 with memo: 54


@functools.cache
def _pristine_filetables() -> Any:
    """A fresh copy of Whoosh's filetables module, without the patches."""
    spec = importlib.util.find_spec("whoosh.filedb.filetables")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@given(keys=st.lists(st.binary(max_size=40), max_size=600, unique=True))
@settings(max_examples=60)
def test_term_dictionary_hash_tables_are_whooshs(keys):
    """The hash tables written whole (and keys hashed from the md5 digest) are the bytes
    Whoosh's own HashWriter writes for the same keys: collisions, empty buckets and all."""
    pristine = _pristine_filetables()
    assert filetables.HashWriter._write_hashes.__module__ == whoosh_internals.__name__
    written = []
    for module in (filetables, pristine):
        dbfile = StructFile(io.BytesIO())
        writer = module.HashWriter(dbfile)
        for key in keys:
            assert whoosh_internals.md5_low32(key) == pristine.md5_hash(key)
            writer.add(key, key[:3])
        writer._write_hashes()
        written.append(dbfile.file.getvalue())
    assert written[0] == written[1]


@given(value=st.text(alphabet=st.sampled_from("aB é1_.*-'.. \n東"), max_size=40))
@settings(max_examples=400)
def test_each_fields_terms_are_its_analyzers(value):
    """term_words gives each field's analyzer's terms, in token order, for any value."""
    schema = f.build_schema()
    for name in schema.names():
        field = schema[name]
        words = whoosh_internals.term_words(field) if field.indexed else None
        if words is not None:
            tokens = [t.text for t in field.analyzer(value, mode="index")]
            assert words[0](value) == tokens, name


def test_columns_and_lengths_written_whole_are_whooshs(tmp_path):
    """Numeric columns and text lengths are written whole at the end of a segment: with
    values missing, 0 or negative anywhere (first, between, last) and documents without
    text first, the files and field length totals are Whoosh's."""
    rng = random.Random(11)
    docs = []
    for i in range(60):
        doc: dict[str, Any] = {f.KEY: f"{i}/tweets/1", f.STATE: b"[]"}
        if i > 3 and rng.random() < 0.7:
            doc[f.TEXT] = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9)))
        for name, values in (
            (f.CREATED, [0, 1, 1 << 52]),
            (f.ACCOUNT_NUM, [0, -(1 << 62), 7]),
            (f.KIND_NUM, [0, 3, 255]),
        ):
            if 5 < i < 55 and rng.random() < 0.8:
                doc[name] = rng.choice(values)
        docs.append(doc)
    whoosh = _whoosh_index(tmp_path / "whoosh", docs)
    built = _built_index(tmp_path / "built", docs)
    assert _segment_files(built) == _segment_files(whoosh)
    assert _logical(built) == _logical(whoosh)


@seed(20261201)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.text(alphabet=st.sampled_from("ab cé1.'-*_\n東"), max_size=60), min_size=1, max_size=12
    )
)
def test_any_text_gives_whooshs_files(tmp_path_factory, texts):
    docs = [
        {f.KEY: f"{i}/tweets/1", f.TEXT: t, f.IS: "edited" if i % 2 else "", f.STATE: b"[]"}
        for i, t in enumerate(texts)
    ]
    docs = [{k: v for k, v in d.items() if v != ""} for d in docs]
    root = tmp_path_factory.mktemp("any")
    assert _segment_files(_built_index(root / "b", docs)) == _segment_files(
        _whoosh_index(root / "w", docs)
    )


def test_a_cancelled_build_leaves_no_segment(tmp_path, monkeypatch):
    monkeypatch.setattr(sidecars, "MIN_POSTINGS", 2)
    ix = file_storage(str(tmp_path)).create_index(f.build_schema())
    builder = SegmentBuilder(ix, timeout=0, postings_per_segment=50, sidecar_zones=("UTC",))
    for doc in _documents(random.Random(1), 40):
        builder.add_document(**doc)
    assert any((tmp_path / sidecars.DIRNAME).iterdir())  # the closed segments' sidecars
    builder.cancel()
    assert ix.doc_count_all() == 0
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".seg", ".trm", ".pst")]
    assert not any((tmp_path / sidecars.DIRNAME).iterdir())
    with pytest.raises(IndexError):  # nothing committed: nothing to delete
        builder.delete_document(0)


def test_a_late_round_written_as_a_segment_is_whooshs_delete_and_add(tmp_path):
    """A build's late round: a builder on the committed index deletes documents of its
    segments and adds their replacements as a new segment; the index then holds what
    Whoosh's writer makes of the same deletions and additions (no merge)."""
    docs = _documents(random.Random(13), 120)
    replaced = [0, 5, 6, 77, 119]
    again = [dict(docs[n], **{f.TEXT: f"again {n}"}) for n in replaced]
    whoosh = _whoosh_index(tmp_path / "whoosh", docs)
    writer = whoosh.writer(codec=CODEC)
    built = _built_index(tmp_path / "built", docs)
    builder = SegmentBuilder(built, timeout=0)
    for n, doc in zip(replaced, again, strict=True):
        writer.delete_document(n)
        builder.delete_document(n)
        writer.add_document(**doc)
        builder.add_document(**doc)
    with pytest.raises(IndexError):  # the new segment's own documents are not committed
        builder.delete_document(len(docs))
    writer.commit(merge=False)
    builder.commit()
    assert len(built._segments()) == len(whoosh._segments()) == 2
    assert _logical(built) == _logical(whoosh)
    with built.searcher() as searcher:
        assert searcher.doc_count() == len(docs)
        assert [d for d in range(len(docs)) if not searcher.reader().is_deleted(d)] == [
            d for d in range(len(docs)) if d not in replaced
        ]
