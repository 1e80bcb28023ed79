"""The one owner of timestamps: every format the sources use parsed, and the ISO 8601 UTC
forms the archive writes ("2026-03-06T13:02:05.123456Z"; records use milliseconds).

A leaf module (standard library only), so storage/ may use it without knowing the archiver.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

_FORMATS = (
    "%a %b %d %H:%M:%S %z %Y",  # archive tweets: "Fri Mar 06 13:02:05 +0000 2026"
    "%Y-%m-%d %H:%M:%S %z",  # classic archive: "2015-11-01 08:00:22 +0000"
    "%Y-%m-%dT%H:%M:%S.%f%z",  # API v2 / archive ISO: "2022-10-03T17:57:11.000Z"
    "%Y-%m-%dT%H:%M:%S%z",
)

Timespec = Literal["seconds", "milliseconds", "microseconds"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def isoformat(ts: dt.datetime, timespec: Timespec = "microseconds") -> str:
    """ISO 8601 in UTC with a "Z": what manifests, logs and export records say."""
    return ts.astimezone(dt.UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_iso(text: str) -> dt.datetime:
    """An ISO 8601 timestamp this archive wrote (a "Z" or an offset; naive means UTC)."""
    ts = dt.datetime.fromisoformat(text)
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)


def parse_time(value: str | int | None) -> dt.datetime | None:
    """A timestamp from any source (including 2018's epoch-millisecond strings), or None."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    text = text.replace("Z", "+0000") if text.endswith("Z") else text
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).astimezone(dt.UTC)
        except ValueError:
            continue
    raise ValueError(f"unrecognised timestamp {value!r}")


def iso(value: str | int | None) -> str | None:
    """A source's timestamp as the records store it (milliseconds), or None."""
    ts = parse_time(value)
    return isoformat(ts, "milliseconds") if ts else None
