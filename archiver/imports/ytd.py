"""The official archive's `.js` data files: `window.YTD.<name>.partN = <JSON array>`.

Formatting changed over the years (compact up to 2021, expanded since 2022), so the file is not
parsed line by line: everything up to the first `=` is the prefix, the rest is JSON.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from archiver.errors import ArchiveFormatError

# the assignment every data file starts with, in each era
_PREFIX = re.compile(
    r"^\s*(window\.YTD\.[A-Za-z0-9_]+\.part\d+|window\.__THAR_CONFIG"
    r"|var [A-Za-z_]+|Grailbird\.data\.[A-Za-z0-9_]+)\s*=\s*"
)


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
