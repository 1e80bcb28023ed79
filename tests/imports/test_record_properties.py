"""Property tests: arbitrary JSON shapes into every importer's record functions. The answer
is a record (one the store can write) or the project's own ArchiveFormatError, never
another exception. Keys are drawn mostly from the field names the importers read, so the
shapes reach deep into the code; fixed seed (derandomize), bounded examples."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.errors import ArchiveFormatError
from archiver.imports import records, xarchive
from archiver.imports.fields import REQUIRED_ID, _fits, _report
from archiver.imports.twarc import _checked, _page_shape
from archiver.xapi_records import records_from_page
from storage.records import content_hash, dumps

PROPERTY = settings(
    max_examples=100,
    derandomize=True,  # the same examples every run: a fixed seed
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
OWNER = {"id": "5", "username": "x", "name": "X"}
# the names the importers read (records.py, xarchive.py, twarc.py, xapi_records.py)
KEYS = """tweet id id_str full_text text entities urls url expanded_url hashtags user_mentions
screen_name media extended_entities media_url_https media_url type video_info variants
content_type bitrate edit_info initial edit editTweetIds initialTweetId editControlInitial
in_reply_to_status_id_str in_reply_to_status_id retweeted_status source_status_id_str
is_quote_status favorite_count retweet_count created_at lang deleted_at like tweetId fullText
expandedUrl follower following accountId userLink dmConversation messages messageCreate
welcomeMessageCreate senderId recipientId createdAt mediaUrls conversationId account profile
description bio website avatarMediaUrl headerMediaUrl noteTweet core data includes users
tweets posts media_key author_id referenced_tweets attachments media_keys note_tweet
public_metrics __twarc retrieved_at errors detail title username name mentions tag author
in_reply_to_user preview_image_url alt_text bit_rate sender_id dm_conversation_id owner_id
member_count follower_count edit_history_tweet_ids conversation_id""".split()  # noqa: SIM905
TIMES = st.sampled_from(
    ["Fri Mar 06 13:02:05 +0000 2026", "2024-01-01T00:00:00.000Z", "1420070400000", "soon", ""]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | TIMES
    | st.sampled_from(["/2/users/5/tweets", "/2/users/5/followers", "/2/dm_events", "video"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=6)
    ),
    max_leaves=25,
)
OBJECTS = st.dictionaries(st.sampled_from(KEYS), JSON, max_size=8)


def _writable(record: dict[str, Any]) -> None:
    assert isinstance(record, dict) and record["id"]
    dumps(record)  # the store can write it
    content_hash(record)  # and tell versions apart


def _either(build, *args: Any) -> None:
    try:
        out = build(*args)
    except ArchiveFormatError:
        return
    for record in out if isinstance(out, list) else [out]:
        _writable(record)


@PROPERTY
@given(OBJECTS | JSON, st.none() | OBJECTS)
def test_tweet_record(entry, note):
    _either(lambda: records.tweet_record(entry, OWNER, None, note=note))


@PROPERTY
@given(OBJECTS | JSON)
def test_like_follower_dm_records(entry):
    _either(records.like_record, entry, OWNER, None)
    _either(records.relation_record, entry, "follower", OWNER, None)
    _either(records.dm_records, entry, OWNER, None)


@PROPERTY
@given(OBJECTS | JSON, OBJECTS | JSON)
def test_profile_record(account, profile):
    _either(records.profile_record, account, profile, OWNER, None)


@PROPERTY
@given(OBJECTS)
def test_manifest_and_note_index(manifest):
    with contextlib.suppress(ArchiveFormatError):
        xarchive._manifest_types(xarchive.Obj(manifest, "manifest"))
    notes = xarchive._NoteIndex()
    with contextlib.suppress(ArchiveFormatError):
        notes.add(manifest)
        notes.match(manifest)


@PROPERTY
@given(OBJECTS)
def test_twarc_pages(obj):
    try:
        page, endpoint, captured = _checked(obj, "x.jsonl", 1)
        out = list(
            records_from_page(
                page,
                endpoint=endpoint,
                account="x",
                account_id="5",
                source="twarc",
                captured_at=captured,
            )
        )
    except ArchiveFormatError:
        return
    for record in out:
        _writable(record)


def test_the_strategies_reach_records():
    """The property tests are only worth something if many examples become records."""
    made = 0

    @settings(max_examples=100, derandomize=True, deadline=None, database=None)
    @given(OBJECTS)
    def count(entry):
        nonlocal made
        try:
            records.tweet_record({"tweet": {**entry, "id": "1"}}, OWNER, None)
            made += 1
        except ArchiveFormatError:
            pass

    count()
    assert made > 15
    assert orjson.dumps(made)


@PROPERTY
@given(OBJECTS | JSON, st.sampled_from(["/2/users/5/tweets", "/2/users/5/followers", "/2/dm"]))
def test_the_quick_shape_check_agrees_with_the_one_that_names_the_field(value, endpoint):
    """`check_shape` answers with `_fits` and walks `_report` only to name a bad field."""
    for shape in (_page_shape(endpoint), _page_shape(endpoint)["data"], [REQUIRED_ID]):
        assert _fits(value, shape) == _reported_fit(value, shape)


def _reported_fit(value: Any, shape: Any) -> bool:
    """Whether the check that names the bad field finds none."""
    try:
        _report(value, shape, "entry")
    except ArchiveFormatError:
        return False
    return True


# a shape nested deeper than one compiled function holds (fields._MAX_DEPTH): the deep part
# is a function of its own, with the same answers
DEEP: Any = REQUIRED_ID
for _ in range(30):
    DEEP = {"data": [DEEP], "text": "text"}


def _deep(leaf: Any, depth: int = 30) -> Any:
    return leaf if depth == 0 else {"data": [_deep(leaf, depth - 1)], "text": "t"}


@PROPERTY
@given(SCALARS, st.integers(min_value=0, max_value=30))
def test_a_deep_shape_is_checked_as_the_one_that_names_the_field_checks_it(leaf, depth):
    value = _deep(leaf, depth)
    reported = _reported_fit(value, DEEP)
    assert _fits(value, DEEP) == reported
    is_id = isinstance(leaf, str | int) and not isinstance(leaf, bool)
    assert reported == (depth == 30 and is_id)
