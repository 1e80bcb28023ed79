"""Read an import source's files safely, whether a ZIP or an unpacked folder.

A ZIP is checked before anything is read: no absolute or `..` paths (zip slip), declared sizes
within bounds (decompression bombs), and while reading, the bytes actually inflated are
counted so a lying header cannot get past the limits.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from archiver.errors import ArchiveFormatError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_total: int = 200 * 1024**3  # uncompressed bytes in one archive
    max_member: int = 20 * 1024**3
    max_ratio: int = 200  # inflation ratio allowed for members over 1 MiB
    ratio_floor: int = 1024**2


def _check_name(name: str, where: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (name[1:2] == ":"):
        raise ArchiveFormatError(f"{where}: unsafe path {name!r} in archive (refusing to import)")


class SourceFiles:
    """The files of an import source by '/'-separated relative name."""

    label: str

    def names(self) -> list[str]:
        raise NotImplementedError

    def open(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        with self.open(name) as fh:
            return fh.read()

    def close(self) -> None:
        pass


class FolderFiles(SourceFiles):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.label = str(root)
        self._names = sorted(
            p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()
        )
        self._set = set(self._names)

    def names(self) -> list[str]:
        return self._names

    def exists(self, name: str) -> bool:
        return name in self._set

    def _path(self, name: str) -> Path:
        _check_name(name, self.label)
        return self.root / name

    def open(self, name: str) -> BinaryIO:
        return open(self._path(name), "rb")  # noqa: SIM115 - caller closes


class _BoundedReader:
    """Wraps a ZIP member stream and enforces the real (inflated) size."""

    def __init__(self, raw: IO[bytes], name: str, label: str, budget: int) -> None:
        self._raw, self._name, self._label, self._budget = raw, name, label, budget
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._raw.read(n)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ArchiveFormatError(f"{self._label}: {self._name} is damaged ({exc})") from None
        self.consumed += len(data)
        if self.consumed > self._budget:
            raise ArchiveFormatError(
                f"{self._label}: {self._name} inflates beyond its declared size "
                "(decompression bomb?); refusing to import"
            )
        return data

    def __enter__(self) -> _BoundedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()


class ZipFiles(SourceFiles):
    def __init__(self, path: str | os.PathLike[str], limits: Limits = Limits()) -> None:
        self.label = os.path.basename(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ArchiveFormatError(
                f"{self.label}: not a valid ZIP file (damaged or truncated)"
            ) from None
        except OSError as exc:
            raise ArchiveFormatError(f"{self.label}: cannot read ({exc.strerror})") from None
        self._infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in self._zip.infolist():
            _check_name(info.filename, self.label)
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ArchiveFormatError(f"{self.label}: {info.filename} is encrypted")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.max_member or (
                info.file_size > limits.ratio_floor and ratio > limits.max_ratio
            ):
                raise ArchiveFormatError(
                    f"{self.label}: {info.filename} would inflate to {info.file_size} bytes "
                    f"(ratio {ratio:.0f}:1; decompression bomb?); refusing to import"
                )
            self._infos[info.filename] = info
        if total > limits.max_total:
            raise ArchiveFormatError(
                f"{self.label}: archive would inflate to {total} bytes, over the "
                f"{limits.max_total}-byte limit; refusing to import"
            )

    def names(self) -> list[str]:
        return sorted(self._infos)

    def exists(self, name: str) -> bool:
        return name in self._infos

    def open(self, name: str) -> BinaryIO:
        info = self._infos.get(name)
        if info is None:
            raise ArchiveFormatError(f"{self.label}: {name} is missing")
        try:
            raw = self._zip.open(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ArchiveFormatError(f"{self.label}: {name} is damaged ({exc})") from None
        return _BoundedReader(raw, name, self.label, info.file_size)  # type: ignore[return-value]

    def close(self) -> None:
        self._zip.close()


def open_source(path: str | os.PathLike[str]) -> SourceFiles:
    """A folder or a ZIP file; anything else is a clear error."""
    if os.path.isdir(path):
        return FolderFiles(path)
    if not zipfile.is_zipfile(path):
        raise ArchiveFormatError(
            f"{os.path.basename(path)}: not a ZIP archive, a folder or twarc JSONL"
        )
    return ZipFiles(path)


def strip_root(files: SourceFiles) -> str:
    """An archive unpacked into a top folder ('twitter-2023.../data/...'): that folder's prefix."""
    names = files.names()
    markers = ("data/manifest.js", "account.js", "tweet.js", "tweets.csv", "data/js/tweet_index.js")
    for marker in markers:
        for name in names:
            if name == marker:
                return ""
            if name.endswith("/" + marker) and name.count("/") == marker.count("/") + 1:
                return name[: -len(marker)]
    return ""
