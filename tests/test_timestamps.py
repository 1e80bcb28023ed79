"""archiver.timestamps: the one owner of the ISO 8601 forms the archive writes."""

from __future__ import annotations

import datetime as dt

import pytest

from archiver.timestamps import iso, isoformat, parse_iso, parse_time

MOMENT = dt.datetime(2026, 3, 6, 13, 2, 5, 123456, tzinfo=dt.UTC)


def test_isoformat_is_utc_with_a_z_at_each_precision():
    assert isoformat(MOMENT) == "2026-03-06T13:02:05.123456Z"
    assert isoformat(MOMENT, "milliseconds") == "2026-03-06T13:02:05.123Z"
    assert isoformat(MOMENT, "seconds") == "2026-03-06T13:02:05Z"
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert isoformat(MOMENT.astimezone(plus_one)) == "2026-03-06T13:02:05.123456Z"


@pytest.mark.parametrize(
    "source",
    [
        "Fri Mar 06 13:02:05 +0000 2026",
        "2026-03-06 13:02:05 +0000",
        "2026-03-06T13:02:05.000Z",
        "2026-03-06T13:02:05Z",
        "1772802125000",
        1772802125000,
    ],
)
def test_every_source_format_normalises_to_one_record_form(source):
    assert iso(source) == "2026-03-06T13:02:05.000Z"


def test_what_the_archive_writes_reads_back():
    assert parse_iso(isoformat(MOMENT)) == MOMENT
    assert parse_iso("2026-03-06T13:02:05") == MOMENT.replace(microsecond=0)  # naive is UTC
    assert iso(None) is None and parse_time("") is None
    with pytest.raises(ValueError, match="unrecognised timestamp"):
        parse_time("last Tuesday")
