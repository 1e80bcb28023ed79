"""The one owner of timestamps: every format the sources use parsed, and the ISO 8601 UTC
forms the archive writes ("2026-03-06T13:02:05.123456Z"; records use milliseconds).

A leaf module (standard library only), so storage/ may use it without knowing the archiver.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_DAYS = frozenset(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
# the two forms nearly every record has, read by slicing (strptime costs ~30 us a call,
# a third of a post's import): "Fri Mar 06 13:02:05 +0000 2026" and "2022-10-03T17:57:11.000Z"
_ARCHIVE_FORM = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \+0000 \d{4}")
_ISO_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z")


def _common_form(text: str) -> dt.datetime | None:
    """The two common forms exactly as strptime reads them (None: not one of them, or not a
    real date, which strptime then reports)."""
    try:
        if len(text) == 30 and _ARCHIVE_FORM.fullmatch(text):
            month = _MONTHS.get(text[4:7])
            if month is None or text[:3] not in _DAYS:
                return None
            day, clock, year = int(text[8:10]), text[11:19], int(text[26:])
        elif _ISO_FORM.fullmatch(text):
            year, month, day, clock = int(text[:4]), int(text[5:7]), int(text[8:10]), text[11:19]
        else:
            return None
        micro = int(text[20:23]) * 1000 if len(text) == 24 and text[19] == "." else 0
        hour, minute, second = int(clock[:2]), int(clock[3:5]), int(clock[6:8])
        return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC)
    except ValueError:
        return None


def parse_time(value: str | int | None) -> dt.datetime | None:
    """A timestamp from any source (including 2018's epoch-millisecond strings), or None."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    common = _common_form(text)
    if common is not None:
        return common
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


# -- times as people read them ------------------------------------------------------------
# Records, manifests and the JSON API keep UTC ISO 8601 (above). Everything a person reads
# (pages, CSV, printable listings, custody statements, CLI tables) shows the local time of
# `ui.timezone`, DST-correct, through these functions and nothing else; where the text is
# evidence (item pages, evidence bundles) UTC stands beside it.
DISPLAY_TIMEZONE = "Europe/London"


@functools.lru_cache(maxsize=16)
def display_zone(name: str = DISPLAY_TIMEZONE) -> ZoneInfo:
    """The zone by IANA name; ValueError naming it when the system has no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name, e.g. Europe/London)") from None


def _aware(value: str | int | dt.datetime | None) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        return parse_time(value)
    except ValueError:
        return None


def local_time(
    value: str | int | dt.datetime | None,
    zone: str = DISPLAY_TIMEZONE,
    *,
    seconds: bool = False,
    unknown: str = "unknown",
) -> str:
    """'6 Mar 2026 13:02 GMT', '1 Jul 2026 09:15 BST': a time as a person in `zone` reads it."""
    ts = _aware(value)
    if ts is None:
        return unknown if value in (None, "") else str(value)
    local = ts.astimezone(display_zone(zone))
    clock = "%H:%M:%S" if seconds else "%H:%M"
    return f"{local.day} {local:%b %Y} {local.strftime(clock)} {local.tzname()}"


def utc_text(value: str | int | dt.datetime | None, *, seconds: bool = True) -> str:
    """'2026-03-06 13:02:05 UTC': the evidential form shown beside a local time."""
    ts = _aware(value)
    if ts is None:
        return "unknown"
    return ts.astimezone(dt.UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    )


def evidence_time(value: str | int | dt.datetime | None, zone: str = DISPLAY_TIMEZONE) -> str:
    """'1 Jul 2026 09:15:02 BST (2026-07-01 08:15:02 UTC)': local time with UTC beside it."""
    if _aware(value) is None:
        return local_time(value, zone)
    return f"{local_time(value, zone, seconds=True)} ({utc_text(value)})"


def local_date(value: str | int | dt.datetime | None, zone: str = DISPLAY_TIMEZONE) -> str:
    """'2026-03-06': the day (in `zone`) a time falls on, for tables and facets."""
    ts = _aware(value)
    return ts.astimezone(display_zone(zone)).strftime("%Y-%m-%d") if ts else ""


def day_start(day: dt.date, zone: str = DISPLAY_TIMEZONE) -> dt.datetime:
    """The UTC instant a day begins in `zone` (date filters read days there: since:, --from,
    the search form). Midnight exists on every day in Europe/London (DST moves 01:00)."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=display_zone(zone))
    return local.astimezone(dt.UTC)
