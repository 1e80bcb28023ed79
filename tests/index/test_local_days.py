"""Date filters read days as people in ui.timezone do: a post at 23:30 UTC on 30 June is on
1 July in London (BST), one at 23:30 UTC on 30 December is still 30 December (GMT)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.index.columns import month_numbers
from archiver.index.schema import TIE_BITS

from .conftest import post


@pytest.fixture
def index_with_night_posts(runs, archive, index):
    runs.commit(
        [
            post(1, "summer night", created_at="2026-06-30T23:30:00.000Z"),  # 00:30 BST 1 July
            post(2, "winter night", created_at="2026-12-30T23:30:00.000Z"),  # 23:30 GMT
            post(3, "spring forward", created_at="2026-03-29T00:30:00.000Z"),  # 00:30 GMT
            post(4, "spring forward", created_at="2026-03-29T01:30:00.000Z"),  # 02:30 BST
        ],
        kind="import",
    )
    index.update(archive)
    return index


def found(index, q: str, zone: str = "Europe/London", **filters) -> list[str]:
    return sorted(h.id for h in index.search(q, per_page=50, zone=zone, **filters).hits)


@pytest.mark.parametrize(
    ("query", "london", "utc"),
    [
        ("night since:2026-07-01", ["1", "2"], ["2"]),
        ("night until:2026-07-01", [], ["1"]),
        ("night since:2026-12-30 until:2026-12-31", ["2"], ["2"]),
        ("spring since:2026-03-29 until:2026-03-30", ["3", "4"], ["3", "4"]),
    ],
)
def test_since_and_until_read_days_in_the_display_zone(index_with_night_posts, query, london, utc):
    assert found(index_with_night_posts, query) == london
    assert found(index_with_night_posts, query, zone="UTC") == utc


def test_the_filters_of_the_form_and_cli_read_days_there_too(index_with_night_posts):
    idx = index_with_night_posts
    assert found(idx, "night", since="2026-07-01", until="2026-07-02") == ["1"]
    assert found(idx, "night", zone="UTC", since="2026-07-01", until="2026-07-02") == []


def test_the_month_and_year_facets_count_months_in_the_display_zone(runs, archive, index):
    runs.commit(
        [
            post(1, "night", created_at="2026-03-31T23:30:00.000Z"),  # 00:30 BST 1 April
            post(2, "night", created_at="2026-12-31T23:30:00.000Z"),  # 23:30 GMT 31 December
            post(3, "night", created_at="2025-12-31T23:59:59.000Z"),  # 2025 in both
            post(4, "night", created_at="2026-06-30T23:00:00.000Z"),  # 00:00 BST 1 July
        ],
        kind="import",
    )
    index.update(archive)
    london = index.search("night", zone="Europe/London").facets
    assert london["month"] == {"2026-12": 1, "2026-07": 1, "2026-04": 1, "2025-12": 1}
    assert london["year"] == {"2026": 3, "2025": 1}
    utc = index.search("night", zone="UTC").facets
    assert utc["month"] == {"2026-12": 1, "2026-06": 1, "2026-03": 1, "2025-12": 1}
    # a month facet's days (what the UI's facet link filters on) hold what it counted
    april = index.search("night", zone="Europe/London", since="2026-04-01", until="2026-05-01")
    assert [h.id for h in april.hits] == ["1"]


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=2**32), min_size=1, max_size=40),
    st.sampled_from(
        [
            "UTC",
            "Europe/London",
            "America/New_York",
            "Asia/Kolkata",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
        ]
    ),
)
def test_month_numbers_are_the_months_zoneinfo_gives(seconds, zone):
    """Month numbers are computed from a table of only the months the values span: every
    value, whatever its zone's offset, falls in the month zoneinfo puts it in."""
    created = np.array([s << TIE_BITS if s else 0 for s in seconds], dtype=np.int64)
    tz = ZoneInfo(zone)
    expected = []
    for s in seconds:
        local = dt.datetime.fromtimestamp(s, tz) if s else None
        # 0 is undated: the last hours of 1969 in a zone behind UTC count as 1970-01
        expected.append(0 if local is None else max(1, (local.year - 1970) * 12 + local.month))
    assert month_numbers(created, zone).tolist() == expected
