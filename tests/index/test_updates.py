"""The index follows storage run by run: new items, edits, deletions; a rebuild gives the
same answers; a crash or a concurrent reader never sees a broken index."""

from __future__ import annotations

import errno
import gc
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.archive import Archive
from archiver.config import Config, StorageConfig
from archiver.index import Index, IndexBusy, IndexFormatError, segments, whoosh_internals
from archiver.index import writing as index_writing

from .conftest import (
    FIRE,
    POLICE,
    Runs,
    commit_with_a_record_without_id,
    deletion,
    ids,
    item_words,
    post,
    view_items,
)

WORDS = [
    "appeal",
    "collision",
    "burglary",
    "arrest",
    "witness",
    "road",
    "closed",
    "station",
    "patrol",
    "community",
    "officers",
    "missing",
    "found",
    "vehicle",
    "stolen",
    "fire",
    "smoke",
    "alarm",
    "crews",
    "incident",
]


def synthetic_posts(rng: random.Random, start: int, count: int, account=POLICE):
    return [
        post(
            start + i,
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))),
            account=account,
            created_at=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00.000Z",
        )
        for i in range(count)
    ]


def answers(index: Index) -> dict:
    """Everything a person could compare: totals, facets, ids, date order."""
    out = {}
    for q in [
        "",
        *WORDS[:8],
        "appeal OR arrest",
        "road -closed",
        '"road closed"',
        "is:deleted",
        "is:edited",
        "account:ExampleshireFire",
        "since:2024-06-01",
    ]:
        result = index.search(q, sort="date", per_page=100)
        out[q] = (
            result.total,
            result.facets,
            sorted(index.iter_ids(q)),
            [h.id for h in result.hits],
        )
    return out


def test_new_runs_are_added_without_a_rebuild(archive, runs, index):
    runs.commit([post(1, "Missing person found safe")], kind="import")
    assert index.update(archive) == 1
    runs.commit([post(2, "Another missing person appeal")])
    assert index.update(archive) == 1
    assert index.update(archive) == 0  # nothing new: nothing done
    assert sorted(index.iter_ids("missing")) == ["1", "2"]
    assert index.doc_count() == 2
    assert len(index.indexed_runs()) == 2


def test_an_edit_replaces_the_item_and_keeps_its_old_words(archive, runs, index):
    runs.commit([post(10, "Road closed at Station Street")], kind="import")
    index.update(archive)
    runs.commit([post(11, "Road closed at Station Road", edit_history_ids=["10", "11"])])
    index.update(archive)
    assert index.doc_count() == 1
    [hit] = index.search("street").hits
    assert (hit.id, hit.text, hit.edited) == ("10", "Road closed at Station Road", True)
    assert sorted(index.iter_ids("is:edited")) == ["10"]


def test_the_same_post_captured_again_changes_nothing_visible(archive, runs, index):
    runs.commit([post(10, "Road closed")], kind="import")
    index.update(archive)
    runs.commit([post(10, "Road closed", metrics={"like_count": 9})])
    index.update(archive)
    [hit] = index.search("road").hits
    assert (hit.edited, index.doc_count()) == (False, 1)


@pytest.mark.parametrize("how", ["record", "event", "event naming the edit"])
def test_a_deletion_is_reflected(archive, runs, index, how):
    runs.commit(
        [
            post(20, "Wrong number posted"),
            post(21, "Wrong number, corrected", edit_history_ids=["20", "21"]),
        ]
    )
    index.update(archive)
    if how == "record":
        gone = post(
            21,
            "Wrong number, corrected",
            edit_history_ids=["20", "21"],
            deleted_at="2024-05-01T00:00:00Z",
        )
        runs.commit([gone])
    else:
        runs.commit(
            [], events=[deletion("20" if how == "event" else "21", at="2024-05-01T00:00:00Z")]
        )
    index.update(archive)
    [hit] = index.search("wrong").hits
    assert (hit.deleted, hit.deleted_at) == (True, "2024-05-01T00:00:00Z")
    assert sorted(index.iter_ids("is:deleted")) == ["20"]


def test_a_deletion_seen_before_its_post_applies_when_the_post_arrives(archive, runs, index):
    runs.commit([], events=[deletion("30")])
    index.update(archive)
    runs.commit([post(30, "Posted and removed")], kind="import")
    index.update(archive)
    assert sorted(index.iter_ids("is:deleted")) == ["30"]


def test_incremental_updates_and_a_rebuild_give_the_same_answers(archive, runs, tmp_path):
    rng = random.Random(11)
    incremental = Index(tmp_path / "incremental")
    runs.commit(synthetic_posts(rng, 1000, 300), kind="import")
    incremental.update(archive)
    runs.commit(synthetic_posts(rng, 2000, 100, account=FIRE), account=FIRE, kind="import")
    incremental.update(archive)
    edits = [
        post(1000 + i, f"{rng.choice(WORDS)} edited", created_at="2024-07-01T10:00:00.000Z")
        for i in range(0, 40, 4)
    ]
    for i, rec in enumerate(edits):  # a later version of each, in the same chain
        rec["id"], rec["edit_history_ids"] = str(5000 + i), [rec["id"], str(5000 + i)]
    runs.commit(
        edits + synthetic_posts(rng, 3000, 50),
        events=[deletion(str(1000 + i)) for i in range(1, 60, 6)],
    )
    incremental.update(archive)
    rebuilt = Index(tmp_path / "rebuilt")
    rebuilt.rebuild(archive)
    assert answers(rebuilt) == answers(incremental)
    items = view_items(archive)
    assert rebuilt.doc_count() == len(items) == 450
    assert sorted(rebuilt.iter_ids("appeal")) == ids(i for i in items if "appeal" in item_words(i))
    assert sorted(rebuilt.iter_ids("is:deleted")) == ids(i for i in items if i.deleted_at)


def test_records_for_items_already_written_in_the_same_pass_are_applied_after_it(
    archive, runs, index, monkeypatch
):
    # small batches: the edits of the second run meet posts already handed to the writer
    monkeypatch.setattr(index_writing, "BATCH_ITEMS", 50)
    rng = random.Random(3)
    runs.commit(synthetic_posts(rng, 1000, 200), kind="import")
    edits = [
        post(9000 + i, "appeal updated", edit_history_ids=[str(1000 + i), str(9000 + i)])
        for i in range(0, 200, 10)
    ]
    runs.commit(edits, events=[deletion("1005")])
    index.update(archive)
    assert index.last_update.rounds == 2
    assert index.doc_count() == 200
    items = view_items(archive)
    assert sorted(index.iter_ids("updated")) == ids(i for i in items if i.edited)
    assert sorted(index.iter_ids("is:deleted")) == ["1005"]


def test_the_rebuild_swaps_in_a_new_index_that_open_readers_then_see(archive, runs, index):
    runs.commit([post(1, "Before the rebuild")], kind="import")
    index.update(archive)
    reader = Index(index.path)  # another process's view: the UI, say
    assert reader.search("before").total == 1
    runs.commit([post(2, "After the rebuild")])
    index.rebuild(archive)
    assert reader.search("rebuild").total == 2
    assert not [p for p in index.path.parent.iterdir() if p.name.startswith(".index.")]


CRASHING_UPDATE = textwrap.dedent("""
    import os, sys, time
    from archiver.archive import Archive
    from archiver.config import Config, StorageConfig
    from archiver.index import Index
    store, index_path, ready = sys.argv[1:4]

    def progress(done, total):
        if done >= 2000:  # well into the pass: documents are with the writer, not committed
            open(ready, "w").close()
            time.sleep(60)

    Index(index_path).update(Archive(Config(storage=StorageConfig(path=store))),
                             progress=progress)
""")


def test_a_crash_mid_update_leaves_the_last_commit_and_the_next_update_catches_up(
    archive, runs, index, tmp_path
):
    rng = random.Random(5)
    runs.commit(synthetic_posts(rng, 1000, 100), kind="import")
    index.update(archive)
    before = answers(index)
    runs.commit(synthetic_posts(rng, 5000, 3000))
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CRASHING_UPDATE,
            str(tmp_path / "store"),
            str(index.path),
            str(ready),
        ],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)  # a real crash: no cleanup, the lock dies with it
        proc.wait()
    assert answers(index) == before  # usable, and as it was at its last commit
    assert index.update(archive) == 1  # the lock died with the process
    items = view_items(archive)
    assert index.doc_count() == len(items) == 3100
    assert sorted(index.iter_ids("appeal")) == ids(i for i in items if "appeal" in item_words(i))


def test_a_reader_during_a_write_sees_the_old_or_the_new_index_never_an_error(archive, runs, index):
    rng = random.Random(8)
    runs.commit(synthetic_posts(rng, 1000, 500), kind="import")
    index.update(archive)
    runs.commit(synthetic_posts(rng, 5000, 4000))
    reader = Index(index.path)
    totals, errors = set(), []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                totals.add(reader.search("", facets=True).total)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        index.update(archive)
    finally:
        done.set()
        thread.join()
    assert errors == []
    assert totals <= {500, 4500} and 500 in totals
    assert reader.search("").total == 4500


def test_a_second_writer_waits_then_gives_up_with_a_clear_message(
    archive, runs, index, monkeypatch
):
    monkeypatch.setattr(index_writing, "LOCK_WAIT", 0.2)
    runs.commit([post(1, "Queued")], kind="import")
    writer = index._ix.writer()
    try:
        with pytest.raises(IndexBusy) as exc:
            Index(index.path).update(archive)
    finally:
        writer.cancel()
    assert str(exc.value) == (
        f"the search index at {index.path} is being updated by another process; "
        "try again when it has finished"
    )
    assert index.update(archive) == 1


def test_an_index_with_another_schema_asks_for_a_rebuild(tmp_path):
    from whoosh import fields
    from whoosh import index as windex

    path = tmp_path / "old-index"
    path.mkdir()
    windex.create_in(str(path), fields.Schema(text=fields.TEXT()))
    with pytest.raises(IndexFormatError) as exc:
        Index(path)
    assert str(exc.value) == (
        f"the search index at {path} was built by another version of the archiver; "
        "run `archiver index --rebuild`"
    )


def test_an_archive_on_s3_is_indexed_the_same_way(s3_store, tmp_path):
    archive = Archive(Config(storage=StorageConfig(path=str(tmp_path / "unused"))), store=s3_store)
    Runs(archive).commit(
        [post(1, "Stored in a bucket"), post(2, "Also in the bucket")], kind="import"
    )
    index = Index(tmp_path / "index")
    assert index.update(archive) == 1
    assert sorted(index.iter_ids("bucket")) == ["1", "2"]


def test_a_record_without_an_id_is_skipped_with_a_warning(archive, index, caplog):
    commit_with_a_record_without_id(archive, 1)
    index.update(archive)
    assert sorted(index.iter_ids("")) == ["1"]
    assert "skipped a tweets record without id or kind" in caplog.text


def test_a_rebuild_clears_what_killed_rebuilds_left(archive, runs, index):
    runs.commit([post(1, "Anything")], kind="import")
    parent = index.path.parent
    old, killed, running = (
        parent / ".index.old-1",
        parent / ".index.rebuild-2",
        parent / ".index.rebuild-3",
    )
    for path in (old, killed, running):
        path.mkdir()
    os.utime(killed, (time.time() - 7 * 3600,) * 2)
    index.rebuild(archive)
    assert (old.exists(), killed.exists(), running.exists()) == (False, False, True)


@settings(max_examples=50, deadline=None)
@given(st.sets(st.text(max_size=40), max_size=300), st.sets(st.text(max_size=40), max_size=300))
def test_keys_written_are_always_seen_and_others_rarely(written, others):
    """The filter of keys written in a pass: never a miss (a record of an item already
    written would be lost to the late round); a false positive only costs a late merge."""
    seen = index_writing.SeenKeys(len(written))
    keys = list(written)
    half = len(keys) // 2
    seen.add_all(keys[:half])  # in two batches, as a session's flushes add them
    seen.add_all(keys[half:])
    assert all(key in seen for key in written)
    unseen = others - written
    assert sum(key in seen for key in unseen) <= max(3, len(unseen) // 100)


def test_a_full_disk_during_a_rebuild_says_so_and_leaves_the_index_as_it_was(
    archive, runs, index, monkeypatch
):
    """The disk fills while a segment is written: the rebuild fails with that error (not
    Whoosh's "writer is closed" from cancelling twice), the index answers as before, and
    the next rebuild completes."""
    runs.commit([post(1000 + i, f"appeal {i}") for i in range(30)])
    index.rebuild(archive)
    runs.commit([post(2000 + i, f"witness {i}") for i in range(30)])
    real_flush = whoosh_internals.TermWriter.flush

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(whoosh_internals.TermWriter, "flush", full)
    with pytest.raises(OSError, match="No space left"):
        index.rebuild(archive)
    assert index.doc_count() == 30 and sorted(index.iter_ids("witness")) == []
    monkeypatch.setattr(whoosh_internals.TermWriter, "flush", real_flush)
    index.rebuild(archive)
    assert index.doc_count() == 60


def test_a_build_from_nothing_pauses_the_collector_and_restores_it(
    archive, runs, index, monkeypatch
):
    """The cyclic collector is off while segments are built (rebuild, first update), back
    on afterwards, also when the build fails; an update of a built index leaves it on."""
    runs.commit([post(1000 + i, f"appeal {i}") for i in range(20)])
    seen: list[bool] = []
    real_add = segments.SegmentBuilder.add_document

    def add_document(self, **fields):
        seen.append(gc.isenabled())
        real_add(self, **fields)

    monkeypatch.setattr(segments.SegmentBuilder, "add_document", add_document)
    index.rebuild(archive)
    assert seen and not any(seen) and gc.isenabled()

    def broken(self, **fields):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(segments.SegmentBuilder, "add_document", broken)
    with pytest.raises(OSError, match="I/O error"):
        index.rebuild(archive)
    assert gc.isenabled()
    monkeypatch.undo()
    enabled: list[bool] = []
    real_flush = index_writing.Session.flush

    def flush(self):
        enabled.append(gc.isenabled())
        real_flush(self)

    monkeypatch.setattr(index_writing.Session, "flush", flush)
    runs.commit([post(3000, "witness")])
    index.update(archive)
    assert enabled and all(enabled) and index.doc_count() == 21
