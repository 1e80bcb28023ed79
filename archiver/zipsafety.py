"""The one owner of ZIP safety: which member names, sizes and inflation ratios are refused,
and a reader that counts the bytes actually inflated so a lying header cannot get past.

Imports (X archives) and `verify-bundle` (our own bundles) both check through here; each
wraps `UnsafeZip` in its own error with its own wording around the same reason.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

CHUNK = 1 << 20
_INFLATE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


class UnsafeZip(Exception):
    """A ZIP (or one member) that must not be read; the message says why, without a path."""


class DamagedZip(Exception):
    """A member that cannot be inflated (CRC mismatch, truncated stream)."""

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"{member} is damaged ({reason})")
        self.member, self.reason = member, reason


# turns this module's errors into the caller's own (an import's, a bundle check's)
Translate = Callable[[Exception], Exception]


@dataclass(frozen=True)
class Limits:
    max_total: int = 200 * 1024**3  # uncompressed bytes in one archive
    max_member: int = 20 * 1024**3
    max_ratio: int = 200  # inflation ratio allowed for members over ratio_floor
    ratio_floor: int = 1024**2


LIMITS = Limits()


def check_name(name: str) -> None:
    """No absolute paths, drive letters or `..` (zip slip), whichever slash the ZIP uses."""
    # a name without `..`, a backslash, a leading slash or a drive is safe without a path
    # object (a ZIP of 5,563 media files: 0.08 CPU-s of them, each name checked twice)
    if ".." not in name and "\\" not in name and name[:1] != "/" and name[1:2] != ":":
        return
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or name[1:2] == ":":
        raise UnsafeZip(f"unsafe path {name!r}")


def check_member(info: zipfile.ZipInfo, limits: Limits = LIMITS) -> None:
    """One member's name, type and declared size."""
    check_name(info.filename)
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        raise UnsafeZip(f"symbolic link {info.filename!r}")
    if info.flag_bits & 0x1:
        raise UnsafeZip(f"{info.filename} is encrypted")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.max_member or (
        info.file_size > limits.ratio_floor and ratio > limits.max_ratio
    ):
        raise UnsafeZip(
            f"{info.filename} would inflate to {info.file_size} bytes "
            f"(ratio {ratio:.0f}:1; decompression bomb?)"
        )


def check_members(infos: Iterable[zipfile.ZipInfo], limits: Limits = LIMITS) -> None:
    """Every member, then the total the archive declares."""
    total = 0
    for info in infos:
        check_member(info, limits)
        total += info.file_size
    if total > limits.max_total:
        raise UnsafeZip(
            f"archive would inflate to {total} bytes, over the {limits.max_total}-byte limit"
        )


class BoundedReader:
    """A member's stream that refuses to inflate past its declared size."""

    def __init__(self, raw: IO[bytes], info: zipfile.ZipInfo, translate: Translate) -> None:
        self._raw, self._info, self._translate = raw, info, translate
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._raw.read(n)
        except _INFLATE_ERRORS as exc:
            raise self._translate(DamagedZip(self._info.filename, str(exc))) from None
        self.consumed += len(data)
        if self.consumed > self._info.file_size:
            raise self._translate(
                UnsafeZip(
                    f"{self._info.filename} inflates beyond its declared size (decompression bomb?)"
                )
            )
        return data

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> BoundedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _same(exc: Exception) -> Exception:
    return exc


def open_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, translate: Translate = _same
) -> BoundedReader:
    """A member to read (check_members first); errors come out through `translate`."""
    try:
        return BoundedReader(zf.open(info), info, translate)
    except _INFLATE_ERRORS as exc:
        raise translate(DamagedZip(info.filename, str(exc))) from None
