"""Normalising repository records: any shape a hostile repository holds is a record or one
FieldError naming the field, never another exception (property-based, fixed seed)."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.imports.fields import FieldError
from archiver.platforms.bluesky.records import normalise
from archiver.platforms.bluesky.repo import RepoRecord

OWNER = {"id": "bluesky:did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "username": "x.example", "name": ""}
COLLECTIONS = [
    "app.bsky.feed.post",
    "app.bsky.feed.repost",
    "app.bsky.feed.like",
    "app.bsky.graph.follow",
    "app.bsky.graph.block",
    "app.bsky.graph.list",
    "app.bsky.graph.listitem",
    "app.bsky.actor.profile",
    "com.example.other",
]
scalars = st.none() | st.booleans() | st.integers(-5, 2**40) | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "uri",
                    "did",
                    "$type",
                    "index",
                    "byteStart",
                    "features",
                    "tag",
                    "ref",
                    "$link",
                    "image",
                    "images",
                    "record",
                    "media",
                    "external",
                    "parent",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "text": values,
        "createdAt": st.sampled_from(["2025-01-01T00:00:00.000Z", "yesterday", ""]) | values,
        "facets": values,
        "reply": values,
        "embed": values,
        "langs": values,
        "tags": values,
        "subject": values,
        "name": values,
        "list": values,
        "displayName": values,
        "description": values,
        "avatar": values,
    },
)


@settings(max_examples=80, derandomize=True, deadline=None)
@given(collection=st.sampled_from(COLLECTIONS), value=fields)
def test_any_record_shape_is_a_record_or_one_field_error(collection, value):
    rec = RepoRecord(
        collection,
        "3kaaaaaaaaaaa",
        "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5kpqcsgz7soqaie",
        {"$type": collection, **value},
    )
    try:
        _, out = normalise(rec, OWNER, "2026-01-01T00:00:00.000Z")
    except FieldError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("record ")
        return
    orjson.dumps(out)  # JSON-safe, whatever the record held
    assert out["platform"] == "bluesky" and out["account_id"] == OWNER["id"]
