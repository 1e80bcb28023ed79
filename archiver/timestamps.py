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
_MONTH_DIGITS = {name: f"{number:02d}" for number, name in enumerate(_MONTH_NAMES, 1)}
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# the two forms nearly every record has, read by one regular expression each (strptime costs
# ~30 us a call, a third of a post's import): "Fri Mar 06 13:02:05 +0000 2026" and
# "2022-10-03T17:57:11.000Z". Ranges are checked as datetime checks them; ASCII digits only
# (strptime also reads other scripts' digits: those take the slow way, to the same answer)
_DAY = "(0[1-9]|[12][0-9]|3[01])"
_CLOCK = "((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])"
_WEEKDAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_ARCHIVE_FORM = re.compile(
    f"{_WEEKDAY} ({'|'.join(_MONTH_NAMES)}) {_DAY} {_CLOCK} \\+0000 ([0-9]{{4}})"
)
_ISO_FORM = re.compile(f"([0-9]{{4}})-(0[1-9]|1[0-2])-{_DAY}T{_CLOCK}(?:\\.([0-9]{{3}}))?Z")


def _common_parts(text: str) -> tuple[str, str, str, str, str] | None:
    """(year, month, day, hh:mm:ss, milliseconds) as text, of the two common forms (None: not
    one of them, or not a real date, which strptime then reports)."""
    match = _ARCHIVE_FORM.fullmatch(text)
    if match is not None:
        name, day, clock, year = match.groups()
        month, milli = _MONTH_DIGITS[name], "000"
    else:
        match = _ISO_FORM.fullmatch(text)
        if match is None:
            return None
        year, month, day, clock, milli = match.groups()
    if year == "0000":
        return None
    if day > "28":
        number, whole = int(month), int(year)
        leap = number == 2 and whole % 4 == 0 and (whole % 100 != 0 or whole % 400 == 0)
        if int(day) > _DAYS_IN_MONTH[number - 1] + leap:
            return None
    return year, month, day, clock, milli or "000"


def _common_form(text: str) -> dt.datetime | None:
    """The two common forms exactly as strptime reads them (None: see `_common_parts`)."""
    parts = _common_parts(text)
    if parts is None:
        return None
    year, month, day, clock, milli = parts
    hour, minute, second = int(clock[:2]), int(clock[3:5]), int(clock[6:])
    return dt.datetime(
        int(year), int(month), int(day), hour, minute, second, int(milli) * 1000, tzinfo=dt.UTC
    )


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
    if type(value) is str and (parts := _common_parts(value)) is not None:
        # written from the parts: a datetime and its isoformat cost more than the parsing
        year, month, day, clock, milli = parts
        return f"{year}-{month}-{day}T{clock}.{milli}Z"
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
