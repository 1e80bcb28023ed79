"""Deterministic output files for the demo: the same input gives the same bytes.

Files are staged beside their target and only renamed into place when complete, so a failed
or interrupted run never leaves a half-written ZIP or JSONL where the quick start expects one.
The ZIP has sorted entries, one fixed timestamp and fixed attributes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from archiver.demo.timeline import DemoDataError


def check_target(target: Path, overwrite: bool, what: str) -> None:
    """Refuse a folder or (unless `overwrite`) an existing file; create missing parents."""
    if target.is_dir():
        raise DemoDataError(f"{target} is a folder; give the path of the {what} to write")
    if target.exists() and not overwrite:
        raise DemoDataError(f"{target} already exists; pass --force to replace it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoDataError(f"cannot create {target.parent}: {exc.strerror}") from None


@contextmanager
def replaced_when_done(target: Path) -> Iterator[Path]:
    """A path beside `target` to write; renamed onto `target` if the block succeeds."""
    partial = target.with_name(target.name + ".part")
    try:
        yield partial
        os.replace(partial, target)
    except OSError as exc:  # a full disk, a vanished folder: one line, nothing left behind
        raise DemoDataError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


@dataclass
class Staging:
    """The ZIP's entries while they are written: big files on disk, small ones in memory."""

    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)

    def open(self, name: str) -> IO[bytes]:
        path = self.folder / f"{len(self.files):04d}.js"
        self.files[name] = path
        return path.open("wb")

    def put(self, name: str, data: bytes) -> None:
        self.blobs[name] = data

    def names(self) -> list[str]:
        return sorted([*self.files, *self.blobs])

    def size(self, name: str) -> int:
        return len(self.blobs[name]) if name in self.blobs else self.files[name].stat().st_size

    def pack(self, out: Path, when: dt.datetime) -> None:
        """Write every entry, sorted by name, deflated, all dated `when`."""
        with zipfile.ZipFile(out, "w") as zf:
            for name in self.names():
                if name in self.blobs:
                    data = self.blobs[name]
                    zf.writestr(_zip_info(name, when, len(data)), data)
                    continue
                source = self.files[name]
                info = _zip_info(name, when, source.stat().st_size)
                with source.open("rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)


@contextmanager
def staging_beside(target: Path) -> Iterator[Staging]:
    """A staging folder next to `target` (same disk, so renames are cheap), removed after."""
    try:
        staging = tempfile.TemporaryDirectory(prefix=".demo-staging-", dir=target.parent)
    except OSError as exc:
        raise DemoDataError(f"cannot write beside {target}: {exc.strerror or exc}") from None
    with staging as folder:
        yield Staging(Path(folder))


def _zip_info(name: str, when: dt.datetime, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever the platform, so the bytes are the same
    info.external_attr = 0o644 << 16
    info.file_size = size  # lets zipfile choose ZIP64 up front for members over 2 GiB
    return info
