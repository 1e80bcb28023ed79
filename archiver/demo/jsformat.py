"""The bytes of the official archive's `.js` files, written exactly as X writes them since
2022 (checked byte for byte against real archives in the tests):

- data files: `window.YTD.<name>.partN = [` then entries pretty-printed with two-space indents,
  `" : "` between key and value, `[ ]` / `{ }` for empty containers, no trailing newline;
- `data/manifest.js`: `window.__THAR_CONFIG = {...}` in Jackson's default pretty printer style,
  where arrays stay on one line (`"files" : [ {`).

Entries are serialised by orjson in batches and reshaped with plain byte replacements, so a
100,000-post tweets.js streams out at close to orjson speed.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import IO, Any

import orjson

# `"key": ` at the start of a line (orjson escapes every quote inside strings, so a string
# value can never match this)
_KEY = re.compile(rb'^( *"[^"\\\n]*"): ', re.M)
# an empty array or object as a whole value at the end of a line
_EMPTY = re.compile(rb'(" : |^ *)(\[\]|\{\})(,?)$', re.M)
_BATCH = 500


def _x_style(data: bytes) -> bytes:
    """orjson's `"key": value` -> X's `"key" : value`, `[]` -> `[ ]`, `{}` -> `{ }`."""
    if b'\\" : ' in data:  # a string holds `" : `: only the line-anchored regexes can tell
        data = _KEY.sub(rb"\1 : ", data)
        return _EMPTY.sub(lambda m: m[1] + (b"[ ]" if m[2] == b"[]" else b"{ }") + m[3], data)
    # Inside strings every quote is escaped, so an unescaped `": ` ends a key; the escaped
    # ones (text containing `": `) are put back by the second replace. Four C-speed passes.
    data = data.replace(b'": ', b'" : ').replace(b'\\" : ', b'\\": ')
    return data.replace(b'" : []', b'" : [ ]').replace(b'" : {}', b'" : { }')


class YtdWriter:
    """Streams one data file: `add` entries, then `close` (which writes the closing bracket)."""

    def __init__(self, fh: IO[bytes], global_name: str) -> None:
        self.fh = fh
        self.count = 0  # entries added so far
        self._written = 0
        self._batch: list[Any] = []
        fh.write(f"window.{global_name} =".encode())

    def add(self, entry: Any) -> None:
        self._batch.append(entry)
        self.count += 1
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        body = _x_style(orjson.dumps(self._batch, option=orjson.OPT_INDENT_2))
        # "[\n  {...},\n  {...}\n]" -> the entries alone, joined to earlier batches by ",\n"
        self.fh.write((b" [\n" if self._written == 0 else b",\n") + body[2:-2])
        self._written += len(self._batch)
        self._batch = []

    def close(self) -> int:
        self._flush()
        self.fh.write(b" [ ]" if self.count == 0 else b"\n]")
        return self.count


def ytd_bytes(global_name: str, entries: list[Any]) -> bytes:
    """A whole small data file at once."""
    buf = io.BytesIO()
    writer = YtdWriter(buf, global_name)
    for entry in entries:
        writer.add(entry)
    writer.close()
    return buf.getvalue()


def _plain(text: str) -> str:
    return orjson.dumps(text).decode()


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _astral_escaped(text: str) -> str:
    """2018's writer: characters beyond the BMP (emoji) as upper-case surrogate escapes,
    everything else (curly quotes, hearts) as UTF-8."""

    def pair(m: re.Match[str]) -> str:
        code = ord(m[0]) - 0x10000
        return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"

    return _ASTRAL.sub(pair, _plain(text))


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")


def grailbird_string(text: str) -> str:
    """The classic archive's strings: ASCII only (upper-case \\uXXXX), `/` as `\\/` and
    `<` `>` as \\u003C \\u003E, so the files could be inlined in a web page."""
    out = json.dumps(text, ensure_ascii=True)
    out = _UNICODE_ESCAPE.sub(lambda m: "\\u" + m[1].upper(), out)
    return out.replace("/", "\\/").replace("<", "\\u003C").replace(">", "\\u003E")


def jackson(value: Any, depth: int = 0, string: Callable[[str], str] = _plain) -> str:
    """Jackson's default pretty printer: objects one key a line, arrays on one line."""
    pad = "  " * depth
    if isinstance(value, str):
        return string(value)
    if isinstance(value, dict):
        if not value:
            return "{ }"
        items = (f"{pad}  {string(k)} : {jackson(v, depth + 1, string)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(jackson(v, depth, string) for v in value) + " ]"
    return orjson.dumps(value).decode()


def compact_ytd_bytes(global_name: str, entries: list[Any], *, escape_astral: bool) -> bytes:
    """A data file as X wrote them up to 2021 (`= [ {` / `}, {` / `} ]`); the 2018 writer
    also escaped emoji (`escape_astral`)."""
    string = _astral_escaped if escape_astral else _plain
    return f"window.{global_name} = {jackson(entries, 0, string)}".encode()


def manifest_bytes(config: dict[str, Any]) -> bytes:
    return ("window.__THAR_CONFIG = " + jackson(config)).encode()
