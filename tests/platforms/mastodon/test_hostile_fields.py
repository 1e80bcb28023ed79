"""Wrong types anywhere: any JSON value in any field of a served Status or an archived
activity is a record or a FieldError naming the field, never another exception."""

from __future__ import annotations

import copy
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.demo.mastodon import MastodonArchive, status_id
from archiver.imports.fields import FieldError
from archiver.platforms.mastodon.archive import _Context
from archiver.platforms.mastodon.statuses import Owner, account_record, status_record

from .mastodon_double import MastodonDouble

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
_DOUBLE = MastodonDouble(statuses=12)
_DOUBLE.host, _DOUBLE.url = "h.example", "https://h.example"
_DOUBLE.build()
STATUS = next(s for s in _DOUBLE.timeline if s["media_attachments"] and s["mentions"] == [])
OWNER = Owner("mastodon:force@h.example", "force@h.example", "Force", "h.example")

_ARCHIVE = MastodonArchive("force", "h.example", "Force")
_WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_ARCHIVE.status(status_id(_WHEN, 1), "<p>x</p>", _WHEN, photos=1, hashtags=("a",))
ACTIVITY = _ARCHIVE.activities[0]


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


def _replaced(doc: dict, path: tuple, value: object) -> dict:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@settings(max_examples=40, derandomize=True, deadline=None)
@given(path=st.sampled_from(_paths(STATUS)), value=JSON)
def test_a_served_status_with_any_value_anywhere(path, value):
    try:
        rec = status_record(OWNER, _replaced(STATUS, path, value), "2026-01-01T00:00:00.000Z")
    except FieldError:
        return
    assert rec["id"] and rec["kind"]


@settings(max_examples=40, derandomize=True, deadline=None)
@given(path=st.sampled_from(_paths(STATUS["account"])), value=JSON)
def test_a_served_account_with_any_value_anywhere(path, value):
    try:
        rec = account_record(OWNER, _replaced(STATUS["account"], path, value), "follower", "")
    except FieldError:
        return
    assert rec["id"]


@settings(max_examples=40, derandomize=True, deadline=None)
@given(path=st.sampled_from(_paths(ACTIVITY)), value=JSON)
def test_an_archived_activity_with_any_value_anywhere(path, value):
    ctx = _Context(
        {"id": "mastodon:force@h.example", "username": "force@h.example", "name": "Force"},
        "force@h.example",
        _ARCHIVE.actor_id,
        f"{_ARCHIVE.actor_id}/followers",
    )
    try:
        ctx.activity(_replaced(ACTIVITY, path, value))
    except FieldError:
        return
