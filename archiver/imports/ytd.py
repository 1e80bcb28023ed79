"""The official archive's `.js` data files: `window.YTD.<name>.partN = <JSON array>`.

Formatting changed over the years (compact up to 2021, expanded since 2022), so the file is not
parsed line by line: everything up to the first `=` is the prefix, the rest is JSON.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
import orjson

from archiver.errors import ArchiveFormatError

# the assignment every data file starts with, in each era
_PREFIX = re.compile(
    r"^\s*(window\.YTD\.[A-Za-z0-9_]+\.part\d+|window\.__THAR_CONFIG"
    r"|var [A-Za-z_]+|Grailbird\.data\.[A-Za-z0-9_]+)\s*=\s*"
)


_HEAD = 4096
_TAIL = 16  # bytes held back so a trailing ';' can be dropped at the end


class _Body:
    """A data file's JSON body as a stream: UTF-8 is checked on the way (with the offset of a
    bad byte) and a trailing ';' is dropped, so ijson sees plain JSON."""

    def __init__(self, fh: BinaryIO, first: bytes, offset: int, where: str) -> None:
        self._fh, self._where = fh, where
        self._pending, self._offset = first, offset
        self._tail = b""
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._eof = False

    def _check(self, chunk: bytes, final: bool = False) -> None:
        held = len(self._decoder.getstate()[0])
        try:
            self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start]
            at = self._offset - held + exc.start
            raise ArchiveFormatError(
                f"{self._where}: not UTF-8 text (byte 0x{bad:02x} at offset {at})"
            ) from None
        self._offset += len(chunk)

    def read(self, n: int = 1 << 16) -> bytes:
        if n == 0:  # ijson probes read(0) to learn bytes from str
            return b""
        while not self._eof:
            chunk, self._pending = self._pending or self._fh.read(n), b""
            if not chunk:
                self._eof = True
                self._check(b"", final=True)
                tail, self._tail = self._tail.rstrip(), b""
                return tail[:-1] if tail.endswith(b";") else tail
            self._check(chunk)
            buf = self._tail + chunk
            out, self._tail = buf[:-_TAIL], buf[-_TAIL:]
            if out:
                return out
        return b""


def iter_js(fh: BinaryIO, where: str, expect: str | None = None) -> Iterator[Any]:
    """Stream the entries of a `window.YTD.x.partN = [...]` file one by one (flat memory)."""
    head = fh.read(_HEAD)
    eq = head.find(b"=")
    text = head[: eq if eq >= 0 else 300].decode("utf-8", "replace")
    match = _PREFIX.match(text + "=") if eq >= 0 else None
    if match is None:
        raise ArchiveFormatError(
            f"{where}: not an archive data file (starts {text.lstrip()[:40]!r})"
        )
    prefix = match.group(1)
    if expect and not prefix.startswith(expect):
        raise ArchiveFormatError(f"{where}: expected {expect!r}, found {prefix!r}")
    start = head[eq + 1 :].lstrip()[:1]
    if start and start != b"[":
        # entries are a list; ijson would find no items in anything else and say nothing
        got = {b"{": "an object", b'"': "text"}.get(start, "a single value")
        raise ArchiveFormatError(f"{where}: expected a list of entries, got {got}")
    body = _Body(fh, head[eq + 1 :], eq + 1, where)
    count = 0
    try:
        for item in ijson.items(body, "item", use_float=True):
            count += 1
            yield item
    except ijson.JSONError as exc:
        reason = str(exc).splitlines()[0].strip() or "malformed"
        raise ArchiveFormatError(f"{where}: invalid JSON after entry {count} ({reason})") from None


def decode_text(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArchiveFormatError(
            f"{where}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def parse_js(data: bytes, where: str, expect: str | None = None) -> Any:
    """Parse a data file; `expect` is the prefix it must start with (e.g. 'window.YTD.tweets')."""
    text = decode_text(data, where)
    match = _PREFIX.match(text[:300])
    if match is None:
        start = text.lstrip()[:40]
        raise ArchiveFormatError(f"{where}: not an archive data file (starts {start!r})")
    prefix = match.group(1)
    if expect and not prefix.startswith(expect):
        raise ArchiveFormatError(f"{where}: expected {expect!r}, found {prefix!r}")
    body = text[text.index("=") + 1 :].strip()
    if body.endswith(";"):
        body = body[:-1]
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        line = body.count("\n", 0, exc.pos) + 1
        raise ArchiveFormatError(f"{where}: invalid JSON near line {line} ({exc.msg})") from None


def global_name(file_name: str) -> str:
    """'data/direct-messages-group.js' -> 'window.YTD.direct_messages_group' (part stripped)."""
    base = file_name.rsplit("/", 1)[-1].removesuffix(".js")
    base = re.sub(r"-part\d+$", "", base)
    return "window.YTD." + base.replace("-", "_")
