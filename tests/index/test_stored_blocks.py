"""Stored fields in blocks (stored_blocks.py, whoosh_internals.ArchiveCodec): every value
reads back as written, through Whoosh's writer, its merges and the segment builder; segments
of Whoosh's own codec (older indexes) are read and merged as before."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import fields as wf
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import RamStorage
from whoosh.writing import CLEAR

from archiver.index import whoosh_internals
from archiver.index.stored_blocks import StoredBlockError, StoredBlocksColumn
from archiver.index.whoosh_internals import CODEC, file_storage

values = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["key", "state", "other"]),
        st.one_of(st.text(max_size=30), st.binary(max_size=60), st.integers()),
        min_size=1,
    ),
)


def _column(rows: list[Any], doccount: int, block_docs: int) -> tuple[Any, bytes]:
    """Write `rows` (None: no value, as Whoosh leaves a document without stored fields)
    into a column; return a reader and the column's bytes."""
    storage = RamStorage()
    out = storage.create_file("col")
    writer = StoredBlocksColumn(block_docs=block_docs).writer(out)
    for docnum, value in enumerate(rows):
        if value is not None:
            writer.add(docnum, value)
    writer.finish(doccount)
    out.close()
    data = bytes(storage.open_file("col").read())
    column = StoredBlocksColumn().reader(storage.open_file("col"), 0, len(data), doccount)
    return column, data


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(values, max_size=200),
    tail=st.integers(0, 70),
    block_docs=st.integers(1, 9),
    order=st.randoms(use_true_random=False),
)
def test_every_value_reads_back_in_any_order(
    rows: list[Any], tail: int, block_docs: int, order: random.Random
) -> None:
    doccount = len(rows) + tail  # documents after the last value have none
    expected = rows + [None] * tail
    reader, _ = _column(rows, doccount, block_docs)
    assert len(reader) == doccount
    assert list(reader) == expected
    docnums = list(range(doccount))
    order.shuffle(docnums)  # more blocks than the reader keeps decoded
    for docnum in docnums:
        assert reader[docnum] == expected[docnum]


def test_a_value_changed_by_its_reader_is_not_changed_in_the_column() -> None:
    reader, _ = _column([{"key": "a", "state": b"s"}], 1, 4)
    reader[0]["key"] = "changed"
    assert reader[0] == {"key": "a", "state": b"s"}


def test_the_writer_keeps_a_copy_of_a_value_its_caller_clears() -> None:
    storage = RamStorage()
    out = storage.create_file("col")
    writer = StoredBlocksColumn(block_docs=4).writer(out)
    value = {"key": "a"}
    writer.add(0, value)
    value.clear()  # what W3PerDocWriter.finish_doc does once the value is added
    writer.finish(1)
    out.close()
    data = storage.open_file("col").read()
    assert StoredBlocksColumn().reader(storage.open_file("col"), 0, len(data), 1)[0] == {"key": "a"}


def test_a_document_number_outside_the_column_is_an_index_error() -> None:
    reader, _ = _column([{"key": "a"}], 3, 2)
    assert reader[2] is None
    with pytest.raises(IndexError):
        reader[3]
    with pytest.raises(IndexError):
        reader[-1]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],  # truncated
        lambda data: data[:5],  # shorter than its trailer
        lambda data: data[:-12] + b"XXXX" + data[-8:],  # another magic
        lambda data: data[:-8] + b"\x01\x00\x00\x00" + data[-4:],  # blocks short of the docs
        lambda data: b"\x00" + data,  # the blocks and the table disagree
        lambda data: b"",
    ],
)
def test_a_damaged_column_is_refused_in_one_error(damage: Any) -> None:
    _, data = _column([{"key": str(i)} for i in range(10)], 10, 4)
    bad = damage(data)
    storage = RamStorage()
    with storage.create_file("col") as out:
        out.write(bad)
    with pytest.raises(StoredBlockError):
        StoredBlocksColumn().reader(storage.open_file("col"), 0, len(bad), 10)


# -- through Whoosh ---------------------------------------------------------------------------
def _schema() -> wf.Schema:
    return wf.Schema(key=wf.ID(unique=True, stored=True), text=wf.TEXT(), state=wf.STORED())


def _doc(i: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": f"k{i}", "text": f"word{i % 7} common"}
    if i % 5:  # some documents store only their key
        doc["state"] = b'{"v": [%d], "a": "ExampleshirePolice"}' % i
    return doc


def _stored(ix: Any) -> dict[str, dict[str, Any]]:
    with ix.searcher() as searcher:
        return {d["key"]: d for d in searcher.all_stored_fields()}


def _codecs(ix: Any) -> set[type]:
    return {type(segment.codec()) for segment in ix._segments()}


def test_whoosh_writes_merges_and_reads_blocks(tmp_path: Path) -> None:
    ix = file_storage(str(tmp_path)).create_index(_schema())
    expected: dict[str, dict[str, Any]] = {}
    for commit in range(12):  # Whoosh's MERGE_SMALL merges the small segments on the way
        writer = ix.writer(codec=CODEC)
        for i in range(commit * 150, commit * 150 + 150):
            writer.add_document(**_doc(i))
            expected[f"k{i}"] = {k: v for k, v in _doc(i).items() if k != "text"}
        if commit % 3 == 2:  # replacing documents leaves deletions for the merge to drop
            for i in range(0, commit * 150, 97):
                writer.update_document(key=f"k{i}", text="replaced", state=b"new %d" % i)
                expected[f"k{i}"] = {"key": f"k{i}", "state": b"new %d" % i}
        writer.commit()
    assert _codecs(ix) == {whoosh_internals.ArchiveCodec}
    assert _stored(ix) == expected
    with ix.writer(codec=CODEC) as writer:
        writer.optimize = True  # one segment, every row copied by a merge
    assert len(ix._segments()) == 1
    assert _stored(ix) == expected


def test_an_index_of_whooshs_own_codec_is_read_and_merged_into_blocks(tmp_path: Path) -> None:
    ix = file_storage(str(tmp_path)).create_index(_schema())
    with ix.writer(codec=W3Codec()) as writer:  # as indexes before this codec were written
        for i in range(300):
            writer.add_document(**_doc(i))
    with ix.writer(codec=CODEC) as writer:
        for i in range(300, 400):
            writer.add_document(**_doc(i))
    assert _codecs(ix) == {W3Codec, whoosh_internals.ArchiveCodec}
    expected = {f"k{i}": {k: v for k, v in _doc(i).items() if k != "text"} for i in range(400)}
    assert _stored(ix) == expected
    with ix.writer(codec=CODEC) as writer:
        writer.optimize = True
    assert _codecs(ix) == {whoosh_internals.ArchiveCodec}
    assert _stored(ix) == expected
    with ix.writer(codec=CODEC) as writer:
        writer.mergetype = CLEAR  # an emptied index still opens
    assert _stored(ix) == {}


def test_blocks_are_much_smaller_than_a_document_at_a_time(tmp_path: Path) -> None:
    """Whoosh's own column against this one on states of the index's shape (the 1M figures
    are in ops/docs/search.md): neighbours share an account, runs and wording."""
    rng = random.Random(3)
    words = ["road", "closed", "appeal", "witness", "officers", "attended", "thank", "you"]
    docs = [
        {
            "key": f"{10**18 + i}/tweets/1001",
            "state": (
                b'["v1","ExampleshirePolice",[["%d",%d,"%s",[],null,0,0]],null,["20240601T000000Z"]]'
                % (10**18 + i, 1717200000 + 60 * i, " ".join(rng.choices(words, k=12)).encode())
            ),
        }
        for i in range(3000)
    ]
    sizes = {}
    for name, codec in (("whoosh", W3Codec()), ("blocks", CODEC)):
        folder = tmp_path / name
        folder.mkdir()
        ix = file_storage(str(folder)).create_index(_schema())
        with ix.writer(codec=codec) as writer:
            for doc in docs:
                writer.add_document(**doc)
        assert _stored(ix) == {d["key"]: d for d in docs}
        sizes[name] = sum(p.stat().st_size for p in folder.iterdir())
    assert sizes["blocks"] < 0.6 * sizes["whoosh"], sizes
