"""The compact stored state of an indexed item reads back exactly as it was built."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.index import items
from archiver.index.items import IndexedItem, decode_state, encode_state, project
from storage.records import new_record

KEY = "1757000000000000001/tweets/42"


def _record(i: str, **fields):
    base = {
        "id": i,
        "kind": "post",
        "account": "Police",
        "account_id": "42",
        "author": {"id": "42", "username": "Police", "name": "Police"},
        "created_at": "2024-01-31T08:00:00.000Z",
        "captured_at": "2024-01-31T08:00:00.000Z",
        "text": "Witness appeal",
        "edit_history_ids": [i],
        "source": "x-archive",
    }
    return new_record(**{**base, **fields})


def test_an_edited_deleted_item_reads_back_and_is_smaller_than_json():
    item = IndexedItem(KEY, "Police")
    chain = ["1757000000000000001", "1757000000000000002"]
    item.add(project(_record(chain[0], edit_history_ids=chain[:1]), "20240131T0800Z-aaaaaa"))
    item.add(
        project(
            _record(
                chain[1],
                text="Witness appeal: updated",
                edit_history_ids=chain,
                captured_at="2024-02-01T00:00:00.000Z",
            ),
            "20240201T0000Z-bbbbbb",
        )
    )
    item.delete("2024-03-01T00:00:00.000Z")
    plain = {"a": item.account, "v": item.versions, "d": item.deleted_at, "r": item.runs}
    assert decode_state(KEY, item.stored()) == plain
    assert len(item.stored()) < len(orjson.dumps(plain)) * 0.7
    again = IndexedItem.from_stored(KEY, item.stored())
    assert (again.versions, again.runs, again.deleted_at) == (
        item.versions,
        item.runs,
        item.deleted_at,
    )


def test_a_state_written_as_plain_json_still_reads():
    item = IndexedItem(KEY, "Police")
    item.add(project(_record("1757000000000000001"), "r1"))
    plain = orjson.dumps({"a": "Police", "v": item.versions, "d": None, "r": item.runs})
    assert IndexedItem.from_stored(KEY, plain).versions == item.versions


TEXT = st.text(max_size=8) | st.sampled_from(["Police", "42", "1757000000000000001", "r1", ""])
AUTHOR = st.dictionaries(
    st.sampled_from(["id", "username", "name", "x"]), st.none() | TEXT | st.integers(-3, 3)
)
VALUE = (
    st.none()
    | TEXT
    | st.integers(-3, 3)
    | st.booleans()
    | st.lists(TEXT | st.integers(0, 2), max_size=2)
    | AUTHOR
)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(sorted(project(_record("1"), "r"))), VALUE),
        min_size=1,
        max_size=3,
    ),
    st.lists(st.sampled_from(["r1", "r2", "Police", "0"]), max_size=3),
    st.none() | TEXT,
    st.none() | st.lists(st.none() | TEXT, min_size=2, max_size=2),
)
def test_any_state_reads_back_equal(changes, runs, account, member):
    """Whatever the values (numbers where text belongs, the key's own ids, runs the item
    does not list, authors of other shapes), the stored form reads back equal: compact
    where it can be, else JSON (a state of project()'s shape is not read back to check)."""
    versions = []
    for change in changes:
        version = project(_record("1757000000000000001"), "r1")
        version.update(change)
        versions.append(version)
    state = {"a": account, "v": versions, "d": None, "r": runs}
    if member is not None:
        state["m"] = member
    assert decode_state(KEY, encode_state(KEY, state)) == state
    # the straight path for project()'s shape gives the row the loop for any shape gives
    item_id, _, account_id = items.split_key(KEY)
    values = [item_id, account or "", account_id]
    context = {v: i for i, v in reversed(list(enumerate(values))) if v}
    for version in versions:
        assert items._row(version, context, runs) == items._row_of_any(version, context, runs)


@pytest.mark.parametrize(
    "change",
    [
        {"author": {"id": 2}},  # a number where the key's texts are numbered
        {"author": {"id": None, "username": "Police"}},
        {"author": {"id": "42", "nickname": "P"}},
        {"author": ["42", "Police", "Police"]},
        {"run_id": "42"},  # the account id: its number would read as a run
        {"captured_at": "Police"},  # the handle: its number would read as "as created"
        {"edit_history_ids": "42"},
        {"hashtags": [1, "a"]},
        {"lang": 1.5},
        {"media": ["photo", None]},
    ],
)
def test_a_state_of_another_shape_reads_back_equal(change):
    version = {**project(_record("1757000000000000001"), "r1"), **change}
    state = {"a": "Police", "v": [version], "d": None, "r": ["r1"]}
    assert decode_state(KEY, encode_state(KEY, state)) == {**state, "v": [version]}


def test_a_state_of_the_common_shape_is_not_read_back_to_check(monkeypatch):
    item = IndexedItem(KEY, "Police")
    item.add(project(_record("1757000000000000001"), "r1"))
    item.add(project(_record("1757000000000000001", text="edited"), "r2"))
    expected = decode_state(KEY, item.stored())

    def no_read_back(key: str, data: bytes) -> None:
        raise AssertionError("read back")

    monkeypatch.setattr(items, "decode_state", no_read_back)
    stored = item.stored()
    monkeypatch.undo()
    assert decode_state(KEY, stored) == expected


def test_an_id_with_slashes_and_another_platform_read_back():
    key = "at://did:plc:abc/app.bsky.feed.post/3kx/posts/bluesky:did:plc:abc"
    version = {**project(_record("1757000000000000001"), "r1"), "platform": "bluesky"}
    version["id"] = "at://did:plc:abc/app.bsky.feed.post/3kx"
    state = {"a": "abc.bsky.social", "v": [version], "d": None, "r": ["r1"]}
    assert decode_state(key, encode_state(key, state)) == state


def test_an_edited_status_that_keeps_its_id_shows_its_latest_edit():
    # a Mastodon edit keeps the status URI: the edit's own time orders versions, whichever
    # run (or order) brought them
    uri = "https://police.example/users/police/statuses/1"
    key = f"{uri}/tweets/mastodon:police@police.example"
    item = IndexedItem(key, "police@police.example")
    common = {
        "source": "mastodon-api",
        "account_id": "mastodon:police@police.example",
        "edit_history_ids": [],
    }
    later = _record(
        uri,
        text="Road open again",
        created_at="2024-02-01T09:00:00.000Z",
        captured_at="2024-02-01T10:00:00.000Z",
        **common,
    )
    first = _record(
        uri,
        text="Road closed",
        created_at="2024-02-01T08:00:00.000Z",
        captured_at="2024-02-02T10:00:00.000Z",
        **common,
    )
    item.add(project(later, "20240201T1000Z-aaaaaa"))
    item.add(project(first, "20240202T1000Z-bbbbbb"))
    assert item.latest["text"] == "Road open again"
