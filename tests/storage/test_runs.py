"""Runs commit atomically, carry SHA-256 manifests, and are never overwritten."""

from __future__ import annotations

import gzip
import hashlib
import io

import pytest

from archiver.archive import Archive
from archiver.config import Config
from storage import runs as runs_module
from storage.errors import ObjectExists, StorageError
from storage.local import LocalStore
from storage.records import new_record
from storage.runs import (
    RunWriter,
    find_records,
    iter_records,
    list_runs,
    uncommitted_objects,
    verify_run,
)
from storage.store import read_bytes
from storage.view import current_view


def post(pid: str, text: str, **kw) -> dict:
    return new_record(
        id=pid,
        kind="post",
        account="ExampleshirePolice",
        account_id="42",
        text=text,
        source="x-api-v2",
        **kw,
    )


def writer(store, **kw) -> RunWriter:
    return RunWriter(
        store,
        account_id="42",
        account="ExampleshirePolice",
        kind="full",
        source="x-api-v2",
        tool_version="test",
        **kw,
    )


def test_a_committed_run_lists_its_objects_with_hashes(any_store):
    with writer(any_store) as run:
        for i in range(250):
            run.write(post(str(1000 + i), f"post {i}"))
        run.add_bytes("pages/0001.json", b'{"data": []}')
        manifest = run.commit(cursors={"tweets": "1249"})
    [stored] = list_runs(any_store, "42")
    assert stored == manifest
    assert stored.counts == {"tweets": 250}
    assert {o.key for o in stored.objects} == {"tweets.jsonl.gz", "files/pages/0001.json"}
    assert all(len(o.sha256) == 64 for o in stored.objects)
    assert [r["id"] for r in iter_records(any_store, stored, "tweets")][:2] == ["1000", "1001"]
    assert verify_run(any_store, stored) == []


@pytest.mark.parametrize("chunk", [1, 7, 100, 1 << 20])
def test_records_read_in_chunks_of_any_size_are_every_record(local_store, monkeypatch, chunk):
    """Records split across read chunks, a chunk ending on a newline, and a text with
    escaped newlines and other line breaks all read back as written, in order."""
    texts = ["a", "line one\nline two", "\u2028 and \r\n", "é" * 300, ""]
    with writer(local_store) as run:
        for i in range(40):
            run.write(post(str(1000 + i), texts[i % len(texts)] + str(i)))
        manifest = run.commit()
    monkeypatch.setattr(runs_module, "READ_CHUNK", chunk)
    read = list(iter_records(local_store, manifest, "tweets"))
    assert [(r["id"], r["text"]) for r in read] == [
        (str(1000 + i), texts[i % len(texts)] + str(i)) for i in range(40)
    ]


def test_an_exception_inside_a_run_leaves_nothing(any_store):
    with pytest.raises(RuntimeError), writer(any_store) as run:
        run.write(post("1", "never committed"))
        raise RuntimeError("source broke")
    assert list(any_store.list("accounts/")) == []


class FailingStore(LocalStore):
    """A real local store whose disk 'fills up' after a number of writes."""

    def __init__(self, root, fail_after: int) -> None:
        super().__init__(root)
        self.writes_left = fail_after

    def put_file(self, key, path, *, overwrite=False, sha256=None, handed_over=False):
        if self.writes_left == 0:
            raise StorageError("disk full")
        self.writes_left -= 1
        super().put_file(key, path, overwrite=overwrite, sha256=sha256, handed_over=handed_over)


def test_a_failure_during_commit_leaves_no_run_and_no_stray_objects(tmp_path):
    store = FailingStore(tmp_path / "s", fail_after=1)
    run = writer(store)
    run.write(post("1", "a"))
    run.write(new_record(id="7", kind="like", account_id="42", source="x-api-v2"))
    with pytest.raises(StorageError, match="disk full"):
        run.commit()
    assert list_runs(store, "42") == []
    assert list(store.list("accounts/")) == []


def test_committed_objects_are_never_overwritten(local_store):
    with writer(local_store, run_id="20260101T000000000000Z-aaaaaa") as run:
        run.write(post("1", "a"))
        run.commit()
    with (
        pytest.raises(ObjectExists),
        writer(local_store, run_id="20260101T000000000000Z-aaaaaa") as run,
    ):
        run.write(post("1", "b"))
        run.commit()
    [m] = list_runs(local_store)
    assert next(iter_records(local_store, m, "tweets"))["text"] == "a"


def test_verify_names_an_altered_and_a_missing_object(local_store, tmp_path):
    with writer(local_store) as run:
        run.write(post("1", "a"))
        run.add_bytes("pages/1.json", b"{}")
        manifest = run.commit()
    root = local_store.root / manifest.prefix
    data = bytearray((root / "tweets.jsonl.gz").read_bytes())
    data[-5] ^= 0xFF
    (root / "tweets.jsonl.gz").write_bytes(bytes(data))
    (root / "files/pages/1.json").unlink()
    problems = sorted(str(p) for p in verify_run(local_store, manifest))
    assert problems == [
        f"altered: {manifest.prefix}tweets.jsonl.gz (run {manifest.run_id})",
        f"missing: {manifest.prefix}files/pages/1.json (run {manifest.run_id})",
    ]


def test_same_records_give_the_same_bytes(tmp_path):
    blobs = []
    for n in range(2):
        store = LocalStore(tmp_path / str(n))
        with writer(store, run_id="20260101T000000000000Z-aaaaaa") as run:
            run.write(post("1", "a", captured_at="2026-01-01T00:00:00.000Z"))
            m = run.commit()
        blobs.append((store.root / m.prefix / "tweets.jsonl.gz").read_bytes())
    assert blobs[0] == blobs[1]
    assert gzip.decompress(blobs[0]).count(b"\n") == 1


def test_a_killed_run_is_garbage_not_a_run(local_store):
    # what a kill -9 during upload leaves: objects without a manifest
    local_store.put_bytes("accounts/42/runs/20260101T000000000000Z-dead00/tweets.jsonl.gz", b"x")
    assert list_runs(local_store) == []
    assert uncommitted_objects(local_store) == [
        "accounts/42/runs/20260101T000000000000Z-dead00/tweets.jsonl.gz"
    ]


def test_current_view_merges_versions_and_deletions(local_store):
    with writer(local_store) as run:
        run.write(
            post("10", "Road closed on the A1", edit_history_ids=["10"], metrics={"like_count": 1})
        )
        run.write(post("20", "Appeal for witnesses"))
        run.commit()
    with writer(local_store) as run:
        run.write(
            post("10", "Road closed on the A1", edit_history_ids=["10"], metrics={"like_count": 9})
        )
        run.write(post("11", "Road closed on the A1 northbound", edit_history_ids=["10", "11"]))
        run.write(
            {
                "type": "deleted",
                "collection": "tweets",
                "id": "20",
                "at": "2026-02-01T00:00:00.000Z",
            },
            "events",
        )
        run.commit()
    items = {i.key: i for i in current_view(local_store, "42")}
    assert [v["text"] for v in items["10"].versions] == [
        "Road closed on the A1",
        "Road closed on the A1 northbound",
    ]
    assert items["10"].versions[0]["metrics"] == {
        "like_count": 9
    }  # metrics refreshed, not a version
    assert items["10"].edited and not items["10"].deleted_at
    assert items["20"].deleted_at == "2026-02-01T00:00:00.000Z"


def test_archive_lists_accounts_by_their_latest_username(tmp_path):
    store = LocalStore(tmp_path / "s")
    with writer(store) as run:
        run.write(post("1", "a"))
        run.commit()
    archive = Archive(Config(), store=store)
    assert [(a.account_id, a.username) for a in archive.accounts()] == [
        ("42", "ExampleshirePolice")
    ]
    assert archive.resolve_account("@exampleshirepolice").account_id == "42"


def test_gc_removes_old_uncommitted_objects_and_keeps_runs(local_store):
    import datetime as dt

    with writer(local_store) as run:
        run.write(post("1", "kept"))
        kept = run.commit()
    old = "accounts/42/runs/20200101T000000000000Z-dead00/tweets.jsonl.gz"
    young = f"accounts/42/runs/{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-live00/tweets.jsonl.gz"
    local_store.put_bytes(old, b"x")
    local_store.put_bytes(young, b"x")
    archive = Archive(Config(), store=local_store)
    assert archive.collect_garbage() == [old]
    assert local_store.exists(young)
    assert list_runs(local_store) == [kept]


@pytest.mark.parametrize(
    "damage",
    ["header", "block", "crc", "truncated"],
)
def test_a_damaged_records_object_is_one_storage_error_naming_it(local_store, damage):
    """Whichever inflater notices (a bad header, a bad deflate block, a bad CRC, a cut
    member), reading a damaged object is a StorageError that names it, never the inflate
    library's own exception (the UI shows StorageErrors as a page, the CLI as one line)."""
    with writer(local_store) as run:
        for i in range(300):
            run.write(post(str(1000 + i), f"post {i} " + "words " * i))
        manifest = run.commit()
    path = local_store.root / manifest.prefix / "tweets.jsonl.gz"
    data = bytearray(path.read_bytes())
    if damage == "header":
        data[0] ^= 0xFF
    elif damage == "block":
        data[10:40] = b"\xff" * 30
    elif damage == "crc":
        data[-6] ^= 0xFF
    else:
        del data[len(data) // 2 :]
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=r"tweets\.jsonl\.gz in .* is damaged"):
        list(iter_records(local_store, manifest, "tweets"))
    with pytest.raises(StorageError, match="is damaged"):
        list(find_records(local_store, manifest, "tweets", {"1100"}))


def test_a_streamed_file_is_kept_with_its_hash_on_either_store(any_store):
    """A run's streamed file (an archive's media) reaches the manifest with its size and
    SHA-256 on both backends: a local store writes it in place, S3 uploads it at commit."""
    data = b"\xff\xd8" + bytes(range(256)) * 40
    with writer(any_store) as run:
        run.write(post("1", "with a photo"))
        run.add_file("data/tweets_media/1-a.jpg", io.BytesIO(data))
        run.add_file("data/tweets_media/1-a.jpg", io.BytesIO(b"again"))  # kept once
        run.add_bytes("data/manifest.js", b"window.__THAR_CONFIG = {}")
        manifest = run.commit()
    assert [o.key for o in manifest.objects] == [
        "tweets.jsonl.gz",
        "files/data/manifest.js",
        "files/data/tweets_media/1-a.jpg",
    ]
    photo = manifest.objects[2]
    assert (photo.size, photo.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert read_bytes(any_store, manifest.prefix + photo.key) == data
    assert verify_run(any_store, manifest) == []
    assert uncommitted_objects(any_store) == []


def test_a_file_written_in_place_is_an_uncommitted_object_until_the_manifest(local_store):
    """What a kill -9 before the manifest leaves of a file written in place: an object of a
    run without a manifest, which no reader counts and `archiver gc` removes."""
    run = writer(local_store)
    run.write(post("1", "a"))
    run.add_file("data/tweets_media/1-a.jpg", io.BytesIO(b"photo"))
    key = f"accounts/42/runs/{run.run_id}/files/data/tweets_media/1-a.jpg"
    assert read_bytes(local_store, key) == b"photo"
    assert list_runs(local_store) == []
    assert uncommitted_objects(local_store) == [key]
    run.commit()
    assert uncommitted_objects(local_store) == []
    run.abort()  # after a commit: removes nothing
    assert read_bytes(local_store, key) == b"photo"


def test_an_aborted_run_removes_the_files_it_wrote_in_place(local_store):
    with pytest.raises(RuntimeError), writer(local_store) as run:
        run.add_file("data/tweets_media/1-a.jpg", io.BytesIO(b"photo"))
        run.write(post("1", "a"))
        raise RuntimeError("source broke")
    assert list(local_store.list("accounts/")) == []
    # the disk fills at commit: the in-place files go with the staged ones
    store = FailingStore(local_store.root, fail_after=0)
    run = writer(store)
    run.write(post("1", "a"))
    run.add_file("data/tweets_media/1-a.jpg", io.BytesIO(b"photo"))
    with pytest.raises(StorageError, match="disk full"):
        run.commit()
    assert list(store.list("accounts/")) == []


class LostManifestStore(LocalStore):
    """A real local store whose manifest write reports a failure after it wrote it, and
    which cannot then be read back: whether the run committed cannot be told."""

    def put_bytes(self, key, data, *, overwrite=False):
        super().put_bytes(key, data, overwrite=overwrite)
        if key.endswith("/manifest.json"):
            raise StorageError("connection reset")

    def digest(self, key):
        raise StorageError("unreadable")


def test_a_run_that_may_have_committed_keeps_its_files_written_in_place(tmp_path):
    store = LostManifestStore(tmp_path / "store")
    run = writer(store)
    run.write(post("1", "a"))
    run.add_file("data/tweets_media/1-a.jpg", io.BytesIO(b"photo"))
    with pytest.raises(StorageError, match="may have committed"):
        run.commit()
    [manifest] = list_runs(store)
    assert verify_run(LocalStore(tmp_path / "store"), manifest) == []
