"""Each operator of the query language, on a small archive of two accounts."""

from __future__ import annotations

import pytest

from archiver.index import SearchArgumentError

from .conftest import FIRE, POLICE, deletion, post

PHOTO = [{"key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"}]
VIDEO = [{"key": "7_1", "type": "video", "url": "https://video.twimg.com/v.mp4"}]


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """Built once for the module: the tests only read it."""
    from archiver.archive import Archive
    from archiver.config import Config, StorageConfig
    from archiver.index import Index

    from .conftest import Runs

    tmp = tmp_path_factory.mktemp("operators")
    archive = Archive(Config(storage=StorageConfig(path=str(tmp / "store"))))
    runs = Runs(archive)
    police = [
        post(
            101,
            "Officers attended a collision on the A40 #RoadSafety",
            hashtags=["RoadSafety"],
            created_at="2024-01-10T08:00:00.000Z",
            lang="en",
            media=PHOTO,
            urls=["https://www.example.gov.uk/news/a40"],
        ),
        post(
            102,
            "@alice thanks, we have passed this on",
            kind="reply",
            in_reply_to_id="900",
            mentions=["alice"],
            created_at="2024-01-31T23:59:59.000Z",
            conversation_id="900",
        ),
        post(
            103,
            "Read our appeal @bob",
            kind="quote",
            mentions=["bob"],
            created_at="2024-02-01T00:00:00.000Z",
        ),
        post(
            104,
            "RT @FireService: Smoke alarms save lives",
            kind="repost",
            created_at="2023-12-31T12:00:00.000Z",
        ),
        post(
            105,
            "@ExampleshirePolice my car was stolen",
            kind="mention",
            author="alice",
            mentions=["ExampleshirePolice"],
            created_at="2024-02-15T10:00:00.000Z",
        ),
        post(
            106,
            "Great work by the team",
            kind="like",
            author="someone",
            created_at="2022-05-01T10:00:00.000Z",
        ),
        post(
            107,
            "Please call me back about the incident",
            kind="dm",
            author="carol",
            created_at="2024-03-01T10:00:00.000Z",
        ),
        post(108, None, kind="follower", author="davesmith", name="Dave Smith", created_at=None),
        post(109, "Wrong information posted here", created_at="2024-01-05T10:00:00.000Z"),
    ]
    fire = [
        post(
            201,
            "Smoke alarms save lives #FireSafety",
            account=FIRE,
            hashtags=["FireSafety"],
            media=VIDEO,
            created_at="2024-01-20T10:00:00.000Z",
            lang="cy",
        ),
        post(
            202,
            "Crews are at the scene in Oxford",
            account=FIRE,
            created_at="2024-01-21T10:00:00.000Z",
            edit_history_ids=["202"],
        ),
    ]
    first = runs.commit(police, kind="import")
    runs.commit(fire, account=FIRE, kind="import")
    edit = post(
        203,
        "Crews are at the scene in Abingdon",
        account=FIRE,
        created_at="2024-01-21T10:05:00.000Z",
        edit_history_ids=["202", "203"],
    )
    runs.commit([edit], account=FIRE)
    runs.commit([], events=[deletion("109")])
    idx = Index(tmp / "index")
    idx.update(archive)
    yield idx, first.run_id
    idx.close()


def found(searched, q, **filters):
    idx, _ = searched
    return sorted(idx.iter_ids(q, **filters))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("from:alice", ["105"]),
        ("from:@ExampleshirePolice", ["101", "102", "103", "104", "109"]),
        ("from:davesmith", ["108"]),
        ("to:alice", ["102"]),
        ("@alice", ["102"]),
        ("mention:bob", ["103"]),
        ("#roadsafety", ["101"]),
        ("#RoadSafety", ["101"]),
        ("hashtag:firesafety", ["201"]),
        ("account:ExampleshireFire", ["201", "202"]),
        ("account:2002", ["201", "202"]),
        ("account:@exampleshirefire smoke", ["201"]),
        ("kind:reply", ["102"]),
        ("kind:retweet", ["104"]),
        ("kind:follower", ["108"]),
        ("kind:dm", ["107"]),
        ("kind:like", ["106"]),
        ("since:2024-01-31 until:2024-02-01", ["102"]),
        ("since:2024-02-01 kind:quote", ["103"]),
        ("until:2024-01-01", ["104", "106"]),
        ("has:media", ["101", "201"]),
        ("has:images", ["101"]),
        ("has:video", ["201"]),
        ("has:links", ["101"]),
        ("is:deleted", ["109"]),
        ("is:edited", ["202"]),
        ("is:reply", ["102"]),
        ("is:quote", ["103"]),
        ("lang:cy", ["201"]),
        ("url:example.gov.uk", ["101"]),
        ("url:www.example.gov.uk", ["101"]),
        ("id:203", ["202"]),
        ("conversation:900", ["102"]),
        ("pass*", ["102"]),
        ("smoke alarms OR crews", ["104", "201"]),
        ("(smoke OR crews) account:ExampleshireFire", ["201", "202"]),
        ("smoke -firesafety", ["104"]),
        ("smoke NOT #FireSafety", ["104"]),
        ('"save lives" -kind:repost', ["201"]),
        ('-"save lives" since:2024-01-01 until:2024-01-25', ["101", "109", "202"]),
        ("oxford", ["202"]),  # an earlier version's words stay searchable
        ("abingdon", ["202"]),
        ("dave", ["108"]),  # a follower is found by name
        ("AND", []),
    ],
)
def test_operator(searched, q, expected):
    assert found(searched, q) == expected


def test_run_operator_finds_what_a_run_captured(searched):
    _, run_id = searched
    assert found(searched, f"run:{run_id}") == [str(i) for i in range(101, 110)]


def test_filters_given_beside_the_query(searched):
    assert found(searched, "", account="@ExampleshireFire", kind="posts") == ["201", "202"]
    assert found(searched, "", since="2024-01-31", until="2024-02-02") == ["102", "103"]
    assert found(searched, "smoke", account="ExampleshirePolice") == ["104"]


def test_an_edited_post_shows_its_latest_text(searched):
    idx, _ = searched
    [hit] = idx.search("oxford").hits
    assert (hit.id, hit.text, hit.edited) == ("202", "Crews are at the scene in Abingdon", True)


def test_a_deleted_post_says_when_it_was_seen_gone(searched):
    idx, _ = searched
    [hit] = idx.search("wrong information").hits
    assert (hit.deleted, hit.deleted_at) == (True, "2024-03-01T12:00:00Z")


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            {"kind": "banana"},
            "unknown kind 'banana' (kinds: post, reply, repost, quote, mention, "
            "like, bookmark, dm, follower, following, list, list_member, profile, block)",
        ),
        ({"since": "last week"}, "since needs a date as YYYY-MM-DD, got 'last week'"),
        ({"until": "2024-02-30"}, "until needs a date as YYYY-MM-DD, got '2024-02-30'"),
        ({"sort": "oldest"}, "sort must be one of relevance, date, got 'oldest'"),
        ({"page": 0}, "page must be 1 or more, got 0"),
    ],
)
def test_bad_filters_are_refused_with_a_reason(searched, filters, message):
    idx, _ = searched
    with pytest.raises(SearchArgumentError) as exc:
        idx.search("smoke", **filters)
    assert str(exc.value) == message


def test_the_account_facts_show_the_current_handle(searched):
    idx, _ = searched
    result = idx.search("smoke")
    assert result.facets["account"] == {"ExampleshireFire": 1, "ExampleshirePolice": 1}
    assert POLICE[1] in {h.account for h in result.hits}
