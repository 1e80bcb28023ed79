"""Time in the demo: when things happen, and the snowflake ids X derives from those times.

The force posts between 07:00 and 23:00. The years the demo covers are laid end to end as
those waking hours only, then cut into equal windows, one per timeline slot; everything a slot
holds (a post, the public's replies, the force's answer) happens inside its window, so
walking the slots backwards walks the whole timeline newest first without sorting.
"""

from __future__ import annotations

import datetime as dt
import random

from archiver.timestamps import isoformat

TWITTER_EPOCH_MS = 1288834974657
_DAY_START = 7 * 3600
_AWAKE = 16 * 3600  # seconds of each day in which things happen


def snowflake(rng: random.Random, when: dt.datetime) -> int:
    """An id as X mints them: milliseconds since X's epoch, then 22 bits of machine/sequence."""
    ms = int(when.timestamp() * 1000) - TWITTER_EPOCH_MS
    if ms < 0:
        raise ValueError(f"no snowflake ids before November 2010 ({when:%Y-%m-%d})")
    return (ms << 22) | rng.getrandbits(22)


def snowflake_time(tweet_id: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(((tweet_id >> 22) + TWITTER_EPOCH_MS) / 1000, dt.UTC)


class Clock:
    """Maps slot positions onto real times across `years` starting 1 January `start_year`."""

    def __init__(self, start_year: int, years: int, slots: int) -> None:
        self.start = dt.datetime(start_year, 1, 1, tzinfo=dt.UTC)
        self.end = dt.datetime(start_year + years, 1, 1, tzinfo=dt.UTC)
        self.days = (self.end - self.start).days
        self.span = self.days * _AWAKE
        self.window = self.span / slots

    def at(self, offset: float) -> dt.datetime:
        """The moment `offset` awake-seconds after the start (to the millisecond)."""
        offset = min(max(offset, 0.0), self.span - 0.001)
        day, second = divmod(offset, _AWAKE)
        ms = int((_DAY_START + second) * 1000)
        return self.start + dt.timedelta(days=int(day), milliseconds=ms)

    def in_window(self, slot: int, fraction: float) -> dt.datetime:
        """A moment `fraction` (0..1) of the way through `slot`'s window."""
        return self.at((slot + fraction) * self.window)

    def anywhere(self, fraction: float) -> dt.datetime:
        return self.at(fraction * self.span)


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def x_time(when: dt.datetime) -> str:
    """The archive's created_at: "Fri Mar 06 13:02:05 +0000 2026" (English whatever the
    locale, as X writes it)."""
    day, month = _WEEKDAYS[when.weekday()], _MONTHS[when.month - 1]
    return f"{day} {month} {when:%d %H:%M:%S} +0000 {when.year}"


def iso_ms(when: dt.datetime) -> str:
    """ISO 8601 with milliseconds, as the archive's createdAt fields and DMs write it."""
    return isoformat(when, "milliseconds")


def iso_s(when: dt.datetime) -> str:
    """ISO 8601 to the second with ".000Z", as API v2 and editableUntil write it."""
    return isoformat(when.replace(microsecond=0), "milliseconds")
