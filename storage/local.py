"""The embedded default: objects as files under one directory, written atomically."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from hashlib import sha256
from pathlib import Path
from typing import BinaryIO

from storage.errors import NoSpace, NotFound, ObjectExists, StorageError
from storage.store import ObjectInfo, sha256_file


class LocalStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.description = f"local directory {self.root}"
        self._unsynced: list[str] = []  # written by put_file, not yet fsynced
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._folders: dict[str, Path] = {}  # key folder -> its resolved path
        self._made: set[str] = set()  # folders write_new made or found (a mkdir per file before)

    def _resolve(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if path != self.root and self.root not in path.parents:
            raise StorageError(f"key escapes the store: {key!r}")
        return path

    def _path(self, key: str) -> Path:
        folder, _, name = key.rpartition("/")
        if name in ("", ".", ".."):
            return self._resolve(key)
        # a name that is a symbolic link is resolved whole, as before
        path = self._folder(folder) / name
        return self._resolve(key) if os.path.islink(path) else path

    def _folder(self, folder: str) -> Path:
        # a run's media are thousands of keys in a few folders: resolving each key whole (a
        # stat per component) was a third of storing a small file, so folders are resolved
        # once
        parent = self._folders.get(folder)
        if parent is None:
            parent = self._resolve(folder) if folder else self.root
            if len(self._folders) > 4096:
                self._folders.clear()
            self._folders[folder] = parent
        return parent

    def _write(
        self,
        key: str,
        fill: Callable[[BinaryIO], object],
        overwrite: bool,
        durable: bool,
        digest: Callable[[], str],
    ) -> None:
        path = self._path(key)
        try:
            self._write_file(key, path, fill, overwrite, durable, digest)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise NoSpace(str(self.root)) from None
            raise StorageError(
                f"cannot write {key} to {self.description}: {exc.strerror or exc}"
            ) from None

    def _write_file(
        self,
        key: str,
        path: Path,
        fill: Callable[[BinaryIO], object],
        overwrite: bool,
        durable: bool,
        digest: Callable[[], str],
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
                if durable:
                    out.flush()
                    os.fsync(out.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                # link() fails if the target exists: an atomic "create only"
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    # the same bytes already there (a retried write) are a success
                    if sha256_file(path) != digest():
                        raise ObjectExists(f"object already exists: {key}") from None
                    return
            if durable:
                _fsync(str(path.parent))  # the new name, too, must survive a crash
            else:
                with self._lock:
                    self._unsynced.append(str(path))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def sync(self) -> None:
        """fsync every file written by put_file since the last sync, and their folders."""
        # put_file skips fsync and a run syncs once before its manifest; the fsyncs run in
        # parallel so the file system commits them together (860 media files: 3.3 s one by
        # one here, 0.05 s in parallel). os.sync() would also flush other processes' writes.
        # one sync at a time: a sync that finds the list empty while another is still
        # fsyncing must not return before the files written before it are durable
        with self._sync_lock:
            with self._lock:
                paths, self._unsynced = self._unsynced, []
            folders = {os.path.dirname(p) for p in paths}
            try:
                # thousands of small files (an archive's media): one syncfs of their file
                # system writes them out together, inode blocks once each, where a fsync per
                # file wrote its inode's block each time (5,557 media files: 0.4-0.6 CPU-s
                # and 2.7-3.7 s of fsyncs, 0.003 CPU-s and 0.3 s of syncfs). It also writes
                # out other processes' files there, so a few files (a UI's audit events)
                # keep their own fsyncs
                devices = _one_folder_per_device(folders) if len(paths) >= _SYNCFS_FROM else []
                if devices and all(_syncfs_is_durable(folder) for folder in devices):
                    for folder in devices:
                        _syncfs_folder(folder)
                    return
                every = [*paths, *folders]
                # a share of the files per thread, not a task per file: the tasks' hand-offs
                # cost as much CPU as the fsyncs (5,557 media files: 0.8 CPU-s, 0.4 in shares)
                shares = [every[i::_FSYNC_THREADS] for i in range(min(len(every), _FSYNC_THREADS))]
                list(_fsync_pool().map(_fsync_all, shares))
            except OSError as exc:
                with self._lock:  # not durable: a later sync tries them again
                    self._unsynced[:0] = paths
                if exc.errno == errno.ENOSPC:
                    raise NoSpace(str(self.root)) from None
                raise StorageError(
                    f"cannot make writes durable in {self.description}: {exc.strerror or exc}"
                ) from None

    def put_file(
        self,
        key: str,
        path: str,
        *,
        overwrite: bool = False,
        sha256: str | None = None,
        handed_over: bool = False,
    ) -> None:
        if handed_over and not overwrite and self._link(key, path, sha256):
            return

        def fill(out: BinaryIO) -> None:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)

        self._write(key, fill, overwrite, False, lambda: sha256 or sha256_file(path))

    def _link(self, key: str, path: str, sha256: str | None) -> bool:
        """A handed-over file linked into place (create-only, atomic, no copy); False when
        it cannot be (another file system), so the caller copies."""
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o600)  # what a copied object gets (mkstemp's mode)
            os.link(path, target)
        except FileExistsError:
            if sha256_file(target) != (sha256 or sha256_file(path)):
                raise ObjectExists(f"object already exists: {key}") from None
            return True
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise NoSpace(str(self.root)) from None
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                return False
            raise StorageError(
                f"cannot write {key} to {self.description}: {exc.strerror or exc}"
            ) from None
        with self._lock:
            self._unsynced.append(str(target))
        return True

    def write_new(self, key: str, src: BinaryIO) -> tuple[int, str]:
        """Write a stream as a new object in its place, hashing it as it is written: (size,
        SHA-256). Create-only (O_EXCL: an existing name, a symbolic link too, is
        ObjectExists and is left alone); durable once `sync()` returns; a failure removes
        what was written. Only for a run's files under its own prefix before its manifest,
        which no reader takes for part of the archive until the manifest lists them: a kill
        leaves garbage of an uncommitted run (`archiver gc`), never a committed object. One
        open, write and close a file, where staging it and linking it into place cost a
        mkdir, a chmod, a link and an unlink more (5,557 media files: ~0.6 CPU-s)."""
        folder, _, name = key.rpartition("/")
        if name in ("", ".", ".."):
            raise StorageError(f"not an object key: {key!r}")
        # the folder resolved (and checked) once; no lstat of the name: O_EXCL refuses a link
        parent = str(self._folder(folder))
        path = os.path.join(parent, name)
        try:
            if parent not in self._made:
                os.makedirs(parent, exist_ok=True)
                self._made.add(parent)
            try:
                fd = os.open(path, _NEW, 0o600)  # the mode a staged, linked object had
            except FileNotFoundError:  # the folder was removed since (by hand)
                os.makedirs(parent, exist_ok=True)
                fd = os.open(path, _NEW, 0o600)
        except FileExistsError:
            raise ObjectExists(f"object already exists: {key}") from None
        except OSError as exc:
            raise self._error(key, exc) from None
        digest, size, closed = sha256(), 0, False
        try:
            while chunk := src.read(_CHUNK):  # the source's own errors pass through as they are
                digest.update(chunk)  # large chunks: hashlib releases the GIL for them
                size += len(chunk)
                view = memoryview(chunk)
                try:
                    while view:
                        view = view[os.write(fd, view) :]
                except OSError as exc:
                    raise self._error(key, exc) from None
            closed = True
            try:
                os.close(fd)  # a failing close has released the descriptor, too
            except OSError as exc:
                raise self._error(key, exc) from None
        except BaseException:
            if not closed:
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        with self._lock:
            self._unsynced.append(path)
        return size, digest.hexdigest()

    def _error(self, key: str, exc: OSError) -> StorageError:
        if exc.errno == errno.ENOSPC:
            return NoSpace(str(self.root))
        return StorageError(f"cannot write {key} to {self.description}: {exc.strerror or exc}")

    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        self._write(
            key, lambda out: out.write(data), overwrite, True, lambda: sha256(data).hexdigest()
        )

    def digest(self, key: str) -> str:
        try:
            return sha256_file(self._path(key))
        except FileNotFoundError:
            raise NotFound(f"no such object: {key}") from None

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")  # noqa: SIM115 - caller closes
        except FileNotFoundError:
            raise NotFound(f"no such object: {key}") from None

    def head(self, key: str) -> ObjectInfo:
        try:
            return ObjectInfo(key, self._path(key).stat().st_size)
        except FileNotFoundError:
            raise NotFound(f"no such object: {key}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        if not base.is_dir():
            return
        keys: list[str] = []
        for dirpath, dirs, filenames in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(".")]  # .staging, never keys
            rel = Path(dirpath).relative_to(self.root).as_posix()
            keys.extend(
                f"{rel}/{name}" if rel != "." else name
                for name in filenames
                if not name.startswith(".tmp-")
            )
        yield from sorted(k for k in keys if k.startswith(prefix))

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()


_FSYNC_THREADS = 32  # fsyncs in flight at once, so the file system commits them together
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _fsync_pool() -> ThreadPoolExecutor:
    """One pool for every sync of the process: starting 32 threads per sync cost more than
    the fsyncs when a busy UI syncs its audit events many times a second."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=_FSYNC_THREADS, thread_name_prefix="fsync")
        return _POOL


_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


_CHUNK = 1 << 20


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's syncfs(2) (Linux), or None where there is none: then files are fsynced."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_SYNCFS = _load_syncfs()
_SYNCFS_FROM = 256  # files in one sync from which their file system is synced whole
# file systems whose syncfs writes out every dirty file and waits, as a fsync of each would
# (a FUSE mount's may not reach its backend); Linux 5.8+ reports write-back errors to it
_SYNCFS_TYPES = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "tmpfs"})
_release = re.match(r"(\d+)\.(\d+)", platform.release()) if sys.platform == "linux" else None
_SYNCFS_REPORTS = _release is not None and (int(_release[1]), int(_release[2])) >= (5, 8)


def _syncfs_is_durable(folder: str) -> bool:
    """syncfs makes the folder's files durable: Linux 5.8+ and a file system listed above
    (the one mounted deepest over the folder's real path)."""
    if _SYNCFS is None or not _SYNCFS_REPORTS:
        return False
    path = os.path.realpath(folder)
    deepest, fstype = "", ""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split() for line in fh]
    except OSError:
        return False
    for fields in mounts:
        if len(fields) < 3:
            continue
        # the mount table escapes spaces, tabs, newlines and backslashes in octal
        mount = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[1])
        inside = mount == "/" or path == mount or path.startswith(mount + "/")
        if inside and len(mount) >= len(deepest):
            deepest, fstype = mount, fields[2]
    return fstype in _SYNCFS_TYPES


def _one_folder_per_device(folders: set[str]) -> list[str]:
    """A folder of each file system the folders are on (a store may span mounts)."""
    devices: dict[int, str] = {}
    for folder in sorted(folders):
        with contextlib.suppress(FileNotFoundError):  # removed since: nothing to sync there
            devices.setdefault(os.stat(folder).st_dev, folder)
    return list(devices.values())


def _syncfs_folder(folder: str) -> None:
    assert _SYNCFS is not None
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        # Linux reports a write-back error of the file system's files since it was last
        # seen (5.8+), as fsync does for a file's
        if _SYNCFS(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), folder)
    finally:
        os.close(fd)


def _fsync_all(paths: list[str]) -> None:
    for path in paths:
        _fsync(path)


def _fsync(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
