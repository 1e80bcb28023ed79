"""archiver.timestamps: the one owner of the ISO 8601 forms the archive writes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.timestamps import _FORMATS, _common_form, iso, isoformat, parse_iso, parse_time

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


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(
    st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.sampled_from(
        [
            "%a %b %d %H:%M:%S +0000 %Y",
            "%Y-%m-%dT%H:%M:%S.{ms}Z",
            "%Y-%m-%dT%H:%M:%SZ",
            "%Y-%m-%dT%H:%M:%S.{ms}+0000",
            "%a %b %d %H:%M:%S +0000 %Y|lower",
        ]
    ),
)
def test_the_fast_common_forms_read_as_strptime_does(moment, form):
    form, _, case = form.partition("|")
    text = moment.strftime(form).replace("{ms}", f"{moment.microsecond // 1000:03d}")
    text = text.lower() if case else text  # strptime reads names in any case
    fast = _common_form(text)
    slow = None
    for fmt in _FORMATS:
        try:
            slow = dt.datetime.strptime(text.replace("Z", "+0000"), fmt).astimezone(dt.UTC)
            break
        except ValueError:
            continue
    assert slow is not None
    assert fast is None or fast == slow
    assert parse_time(text) == slow
    assert iso(text) == isoformat(slow, "milliseconds")  # the record form, by slicing


@pytest.mark.parametrize(
    "text",
    [
        "Fri Feb 30 13:02:05 +0000 2026",
        "2026-02-30T13:02:05Z",
        "2026-13-01T00:00:00Z",
        "Sun Feb 29 00:00:00 +0000 2026",
        "2100-02-29T00:00:00Z",  # not a leap year
        "2026-01-01T23:59:60Z",
        "2026-01-01T24:00:00.000Z",
        "0000-01-01T00:00:00Z",
    ],
)
def test_a_date_that_does_not_exist_is_still_unrecognised(text):
    with pytest.raises(ValueError, match="unrecognised timestamp"):
        parse_time(text)
    with pytest.raises(ValueError, match="unrecognised timestamp"):
        iso(text)


def test_leap_days_and_other_scripts_digits_read_as_strptime_reads_them():
    assert iso("2000-02-29T12:00:00Z") == "2000-02-29T12:00:00.000Z"
    assert iso("Thu Feb 29 01:02:03 +0000 2024") == "2024-02-29T01:02:03.000Z"
    assert iso("\u0662\u0660\u0662\u0664-01-02T03:04:05Z") == "2024-01-02T03:04:05.000Z"
