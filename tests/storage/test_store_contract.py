"""One contract, both backends: the local directory store and S3 (moto's server over HTTP)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess

import pytest

from storage import local
from storage.errors import NotFound, ObjectExists
from storage.local import LocalStore
from storage.s3 import S3Store
from storage.store import read_bytes


def test_put_get_head_exists(any_store):
    any_store.put_bytes("a/b/c.txt", b"hello")
    assert read_bytes(any_store, "a/b/c.txt") == b"hello"
    assert any_store.head("a/b/c.txt").size == 5
    assert any_store.exists("a/b/c.txt")
    assert not any_store.exists("a/b/missing.txt")


def test_missing_object_is_not_found(any_store):
    with pytest.raises(NotFound, match="no such object: nope/x"):
        any_store.open("nope/x")
    with pytest.raises(NotFound):
        any_store.head("nope/x")


def test_writes_never_overwrite(any_store, tmp_path):
    any_store.put_bytes("k", b"first")
    with pytest.raises(ObjectExists, match="object already exists: k"):
        any_store.put_bytes("k", b"second")
    src = tmp_path / "f"
    src.write_bytes(b"file")
    with pytest.raises(ObjectExists):
        any_store.put_file("k", str(src))
    assert read_bytes(any_store, "k") == b"first"


def test_listing_returns_every_key_past_one_page(any_store):
    # S3 pages listings at 1,000 keys: a listing that reads one page loses the rest. The
    # same contract at 10 keys a page (S3Store's page_size) needs 25 keys, not 1,105.
    keys = [f"many/{i:05d}" for i in range(25)]
    if isinstance(any_store, S3Store):
        any_store = S3Store(any_store.client, any_store.bucket, "archive", page_size=10)
    for key in keys:
        any_store.put_bytes(key, b"x")
    any_store.put_bytes("other/1", b"x")
    if not isinstance(any_store, S3Store):
        assert list(any_store.list("many/")) == keys
        return
    pages: list[int] = []  # botocore's own event hook: the requests as sent, nothing patched

    def count(params, **_):
        pages.append(params["MaxKeys"])

    any_store.client.meta.events.register("before-parameter-build.s3.ListObjectsV2", count)
    try:
        assert list(any_store.list("many/")) == keys
    finally:
        any_store.client.meta.events.unregister("before-parameter-build.s3.ListObjectsV2", count)
    assert pages == [10, 10, 10]


def test_put_file_streams_a_large_object(any_store, tmp_path):
    src = tmp_path / "big"
    src.write_bytes(b"0123456789" * 700_000)  # 7 MB
    any_store.put_file("big/object", str(src))
    assert any_store.head("big/object").size == 7_000_000
    with any_store.open("big/object") as fh:
        assert fh.read(10) == b"0123456789"


def test_local_store_refuses_keys_outside_its_root(tmp_path):
    store = LocalStore(tmp_path / "root")
    with pytest.raises(Exception, match="escapes the store"):
        store.put_bytes("../outside", b"x")
    assert not (tmp_path / "outside").exists()


def test_a_handed_over_file_is_stored_create_only(any_store, tmp_path):
    """A staged run file handed over (never written again) is kept as it was, create-only,
    the staged copy removable; the local store links it instead of copying."""
    staged = tmp_path / "staged"
    staged.write_bytes(b"media bytes")
    any_store.put_file("run/files/m.jpg", str(staged), handed_over=True)
    any_store.put_file("run/files/m.jpg", str(staged), handed_over=True)  # a retry: the same
    other = tmp_path / "other"
    other.write_bytes(b"other bytes")
    with pytest.raises(ObjectExists):
        any_store.put_file("run/files/m.jpg", str(other), handed_over=True)
    staged.unlink()
    assert read_bytes(any_store, "run/files/m.jpg") == b"media bytes"


def test_local_store_resolves_a_linked_name_whole(tmp_path):
    """Folders are resolved once; a key whose name is a symbolic link out of the store is
    still refused, even after its folder was resolved for another key."""
    store = LocalStore(tmp_path / "root")
    store.put_bytes("a/inside", b"x")
    (tmp_path / "outside").write_bytes(b"secret")
    (tmp_path / "root" / "a" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(Exception, match="escapes the store"):
        store.open("a/link")
    assert read_bytes(store, "a/inside") == b"x"


class _Broken(io.BytesIO):
    """A source that breaks after its first chunk (a damaged ZIP member mid-inflate)."""

    def read(self, n: int | None = -1) -> bytes:
        if self.tell():
            raise OSError("member broke mid-way")
        return super().read(n)


def test_a_new_object_is_written_in_place_create_only(tmp_path):
    """write_new: the bytes in place, their size and SHA-256 from the one pass; an existing
    name (a symbolic link too) is refused and left as it was; a failing source leaves
    nothing behind; each name is fsynced by the next sync()."""
    store = LocalStore(tmp_path / "root")
    data = b"media " * 300_000  # more than one chunk
    assert store.write_new("run/files/a/m.jpg", io.BytesIO(data)) == (
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert read_bytes(store, "run/files/a/m.jpg") == data
    assert store.write_new("run/files/a/n.jpg", io.BytesIO(b""))[0] == 0  # same folder, made
    with pytest.raises(ObjectExists):
        store.write_new("run/files/a/m.jpg", io.BytesIO(b"other"))
    assert read_bytes(store, "run/files/a/m.jpg") == data
    (tmp_path / "outside").write_bytes(b"secret")
    (tmp_path / "root/run/files/a/link").symlink_to(tmp_path / "outside")
    with pytest.raises(ObjectExists):
        store.write_new("run/files/a/link", io.BytesIO(b"overwrite?"))
    assert (tmp_path / "outside").read_bytes() == b"secret"
    with pytest.raises(OSError, match="broke"):
        store.write_new("run/files/a/broken.jpg", _Broken(b"x" * (3 << 20)))
    assert not (tmp_path / "root/run/files/a/broken.jpg").exists()
    shutil.rmtree(tmp_path / "root/run/files/b", ignore_errors=True)
    store.write_new("run/files/b/1.jpg", io.BytesIO(b"1"))
    shutil.rmtree(tmp_path / "root/run/files/b")  # a folder removed by hand is made again
    store.write_new("run/files/b/2.jpg", io.BytesIO(b"2"))
    assert read_bytes(store, "run/files/b/2.jpg") == b"2"
    with pytest.raises(Exception, match="escapes the store"):
        store.write_new("../outside2", io.BytesIO(b"x"))
    assert not (tmp_path / "outside2").exists()
    assert sorted(store._unsynced) == sorted(
        [
            *(str(tmp_path / "root/run/files/a" / n) for n in ("m.jpg", "n.jpg")),
            *(str(tmp_path / "root/run/files/b" / n) for n in ("1.jpg", "2.jpg")),
        ]
    )
    store.sync()
    assert store._unsynced == []


def test_a_sync_of_many_files_syncs_each_file_system_they_are_on(tmp_path):
    """Thousands of files (an archive's media) are made durable by one syncfs per file
    system they are on, a store's folder mounted elsewhere included; a folder removed since
    is skipped; a few files keep their own fsyncs."""
    store = LocalStore(tmp_path / "root")
    mount = tmp_path / "root/run/files/mounted"
    mount.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    try:
        for i in range(local._SYNCFS_FROM):
            store.write_new(f"run/files/{'mounted' if i % 2 else 'here'}/{i}.jpg", io.BytesIO(b"x"))
        store.write_new("run/files/gone/1.jpg", io.BytesIO(b"x"))
        shutil.rmtree(tmp_path / "root/run/files/gone")
        folders = {os.path.dirname(p) for p in store._unsynced}
        devices = local._one_folder_per_device(folders)
        assert len(devices) == (2 if mounted.returncode == 0 else 1)
        assert {os.stat(f).st_dev for f in devices} == {
            os.stat(tmp_path / "root").st_dev,
            os.stat(mount).st_dev,
        }
        store.sync()
        assert store._unsynced == []
        assert read_bytes(store, "run/files/mounted/1.jpg") == b"x"
        if mounted.returncode == 0 and local._SYNCFS_REPORTS:
            assert local._syncfs_is_durable(str(mount))  # tmpfs: listed
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def test_syncfs_only_where_it_makes_files_durable(tmp_path):
    """syncfs is trusted on the file systems whose syncfs writes every file out (ext4, xfs,
    btrfs, tmpfs...), not elsewhere (ramfs here, FUSE in the field): there each file is
    fsynced, and a sync of many files still completes."""
    assert not local._syncfs_is_durable("/proc/self")
    other = tmp_path / "root/run/files/ramfs"
    other.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "ramfs", "ramfs", str(other)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a ramfs here: {mounted.stderr.decode().strip()}")
    try:
        assert not local._syncfs_is_durable(str(other / "deeper"))
        store = LocalStore(tmp_path / "root")
        for i in range(local._SYNCFS_FROM + 1):
            store.write_new(f"run/files/{'ramfs' if i % 2 else 'here'}/{i}.jpg", io.BytesIO(b"x"))
        store.sync()
        assert store._unsynced == []
        assert read_bytes(store, "run/files/ramfs/1.jpg") == b"x"
    finally:
        subprocess.run(["umount", "-l", str(other)], check=False)
