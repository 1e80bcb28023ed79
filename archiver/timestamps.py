"""Every timestamp format the sources use, turned into one ISO 8601 UTC form."""

from __future__ import annotations

import datetime as dt

_FORMATS = (
    "%a %b %d %H:%M:%S %z %Y",  # archive tweets: "Fri Mar 06 13:02:05 +0000 2026"
    "%Y-%m-%d %H:%M:%S %z",  # classic archive: "2015-11-01 08:00:22 +0000"
    "%Y-%m-%dT%H:%M:%S.%f%z",  # API v2 / archive ISO: "2022-10-03T17:57:11.000Z"
    "%Y-%m-%dT%H:%M:%S%z",
)


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
    ts = parse_time(value)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z" if ts else None
