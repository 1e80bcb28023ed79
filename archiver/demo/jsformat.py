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
import re
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


def _jackson(value: Any, depth: int = 0) -> str:
    pad = "  " * depth
    if isinstance(value, dict):
        if not value:
            return "{ }"
        items = (
            f"{pad}  {orjson.dumps(k).decode()} : {_jackson(v, depth + 1)}"
            for k, v in value.items()
        )
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        return "[ " + ", ".join(_jackson(v, depth) for v in value) + " ]" if value else "[ ]"
    return orjson.dumps(value).decode()


def manifest_bytes(config: dict[str, Any]) -> bytes:
    return ("window.__THAR_CONFIG = " + _jackson(config)).encode()
