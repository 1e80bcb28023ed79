"""`archiver followers review`: the follower review's JSON contract, serial followers,
spoofers among followers and mentioners, changes since the last completed review, CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from storage.local import LocalStore
from storage.records import new_record
from storage.runs import RunWriter
from storage.view import EVENTS

POLICE, POLICE_ID = "ExampleshirePolice", "1200000000000000001"


def user(uid: str, username: str, name: str, followers: int, following: int, kind: str) -> dict:
    return new_record(
        id=uid,
        kind=kind,
        account=POLICE,
        account_id=POLICE_ID,
        author={"id": uid, "username": username, "name": name},
        metrics={"followers_count": followers, "following_count": following},
        source="x-api-v2",
    )


def run_of(store, records, events=()):
    with RunWriter(
        store,
        account_id=POLICE_ID,
        account=POLICE,
        kind="full",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        for rec in records:
            run.write(rec)
        for event in events:
            run.write(event, EVENTS)
        return run.commit()


@pytest.fixture
def archive_cli(tmp_path):
    store = LocalStore(tmp_path / "store")
    profile = new_record(
        id=POLICE_ID,
        kind="profile",
        account=POLICE,
        account_id=POLICE_ID,
        author={"id": POLICE_ID, "username": POLICE, "name": "Exampleshire Police"},
        source="x-api-v2",
    )
    run_of(
        store,
        [
            profile,
            user("11", "jo_public", "Jo Public", 120, 80, "follower"),
            user("12", "followbot", "Follow Back 100%", 40, 4800, "follower"),
            user("13", "ExampleshirePo1ice", "Exampleshire Police", 3, 50, "follower"),
            user("14", "ExampleshireFire", "Exampleshire Fire", 9000, 300, "follower"),
            user("14", "ExampleshireFire", "Exampleshire Fire", 9000, 300, "following"),
            user("15", "NationalPolice", "National Police", 50000, 200, "following"),
            new_record(
                id="9001",
                kind="mention",
                account=POLICE,
                account_id=POLICE_ID,
                author={"id": "16", "username": "Exampleshire_Police", "name": "Help desk"},
                text=f"@{POLICE} DM us your bank details",
                in_reply_to_id="8001",
                source="x-api-v2",
            ),
        ],
        events=[
            {
                "type": "follower_gained",
                "user_id": "12",
                "username": "followbot",
                "at": "2026-06-02T09:00:00.000000Z",
            },
            {
                "type": "follower_lost",
                "user_id": "17",
                "username": "gone_away",
                "at": "2026-06-02T09:00:00.000000Z",
                "last_seen": "2026-05-01T09:00:00.000000Z",
            },
        ],
    )
    path = tmp_path / "archiver.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "store"}"\n[index]\npath = "{tmp_path / "index"}"\n'
    )

    def run(*args):
        return CliRunner().invoke(cli, ["--config", str(path), "followers", "review", *args])

    return run


def test_the_review_json_is_the_documented_contract(archive_cli):
    result = archive_cli("--account", POLICE, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {
        "account",
        "followers",
        "following",
        "gained",
        "lost",
        "serial_followers",
        "possible_spoofs",
        "not_following_back",
        "not_followed_back",
    }
    assert (doc["account"], doc["followers"], doc["following"]) == (POLICE, 4, 2)
    for u in doc["gained"] + doc["serial_followers"] + doc["not_followed_back"]:
        assert {"id", "username", "name", "followers_count", "following_count"} <= set(u)
    assert [u["username"] for u in doc["serial_followers"]] == ["followbot"]
    spoofs = {u["username"]: u for u in doc["possible_spoofs"]}
    assert set(spoofs) == {"ExampleshirePo1ice", "Exampleshire_Police"}
    assert spoofs["ExampleshirePo1ice"]["imitates"] == POLICE
    assert any("display name" in w for w in spoofs["ExampleshirePo1ice"]["why"])
    assert spoofs["Exampleshire_Police"]["seen_as"] == "replier"
    assert [u["username"] for u in doc["gained"]] == ["followbot"]
    (lost,) = doc["lost"]
    assert (lost["id"], lost["username"], lost["followers_count"]) == ("17", "gone_away", None)
    assert lost["last_seen"] == "2026-05-01T09:00:00.000000Z"
    assert [u["username"] for u in doc["not_following_back"]] == ["NationalPolice"]
    assert "ExampleshireFire" not in [u["username"] for u in doc["not_followed_back"]]


def test_a_review_marked_done_is_where_the_next_one_starts(archive_cli):
    done = archive_cli("--done")
    assert done.exit_code == 0, done.output
    assert "review marked done by cli:" in done.stderr
    doc = json.loads(archive_cli("--json").stdout)
    assert doc["last_review"]["by"].startswith("cli:")
    assert doc["since"] == doc["last_review"]["at"]
    assert doc["gained"] == [] and doc["lost"] == []  # nothing changed since
    again = json.loads(archive_cli("--json", "--since", "2026-06-01").stdout)
    assert [u["username"] for u in again["gained"]] == ["followbot"]


def test_the_csv_is_for_the_communications_team(archive_cli):
    result = archive_cli("--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["section"] for r in rows} >= {"gained", "lost", "serial_followers", "possible_spoofs"}
    spoof = next(r for r in rows if r["username"] == "ExampleshirePo1ice")
    assert spoof["imitates"] == POLICE and spoof["why"]


def test_bad_input_is_one_line(archive_cli):
    result = archive_cli("--since", "last tuesday")
    assert result.exit_code == 1
    assert result.stderr == "error: --since needs a day as YYYY-MM-DD, got 'last tuesday'\n"


# -- gains and losses from the follower lists (snapshots): archives, twarc2 walks, two runs --
@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    """Three archives of the demo account a year apart, and its twarc2 followers a month after
    the newest."""
    from archiver.demo import write_demo_archive
    from archiver.demo.network import write_demo_network_jsonl

    folder = tmp_path_factory.mktemp("lists")
    zips = [
        write_demo_archive(folder / f"archive-{y}.zip", posts=120, years=y).path for y in (4, 5, 6)
    ]
    later = write_demo_network_jsonl(folder / "followers.jsonl", "followers", posts=120, years=6)
    return zips, later


def _ids(zip_path) -> set[str]:
    import zipfile

    with zipfile.ZipFile(zip_path) as zf:
        text = zf.read("data/follower.js").decode()
    return {e["follower"]["accountId"] for e in json.loads(text.split("=", 1)[1])}


def _archive(tmp_path):
    from archiver.archive import Archive
    from archiver.config import Config, IndexConfig, StorageConfig

    return Archive(
        Config(
            storage=StorageConfig(path=str(tmp_path / "store")),
            index=IndexConfig(path=str(tmp_path / "index")),
        )
    )


def test_a_twarc2_followers_walk_is_a_list_with_names_counts_and_changes(lists, tmp_path):
    from archiver import memberships
    from archiver.followers import review
    from archiver.imports import import_path
    from archiver.timestamps import parse_time

    zips, later = lists
    archive = _archive(tmp_path)
    import_path(archive, str(zips[2]))
    result = import_path(archive, str(later.path), account=POLICE)
    assert result.written["events"] > 0 and not result.warnings
    ref = archive.accounts()[0]
    tl = memberships.timeline(archive.store, ref.account_id, "followers")
    assert [s.source for s in tl.snapshots] == ["x-archive", "twarc"]
    assert parse_time(tl.snapshots[1].at) == later.retrieved_at.replace(microsecond=0)
    doc = review(archive, ref).to_dict()
    before = _ids(zips[2])
    now = {u["id"] for u in review(archive, ref).followers}
    assert doc["followers"] == later.users == len(now)
    assert {u["id"] for u in doc["gained"]} == now - before
    assert {u["id"] for u in doc["lost"]} == before - now
    assert all(u["at"] == tl.snapshots[1].at for u in doc["gained"] + doc["lost"])
    assert all(u["name"] and u["followers_count"] is not None for u in doc["gained"])
    assert doc["until"]["source"] == "twarc"
    again = import_path(archive, str(later.path), account=POLICE)
    assert again.manifest is None  # the same list twice is nothing new


def test_a_walk_cut_short_is_kept_as_records_not_as_a_list(lists, tmp_path):
    from archiver import memberships
    from archiver.imports import import_path

    zips, later = lists
    page = json.loads(later.path.read_text().splitlines()[0])
    page["meta"]["next_token"] = "7140dibdnow9c7btw4b0mrx2txeqnv5npybpvc7nr1fk8"  # never fetched
    cut = tmp_path / "cut.jsonl"
    cut.write_text(json.dumps(page) + "\n")
    archive = _archive(tmp_path)
    import_path(archive, str(zips[2]))
    result = import_path(archive, str(cut), account=POLICE)
    assert any("do not run from a first to a last page" in w for w in result.warnings)
    assert "events" not in result.written and result.written["followers"] > 0
    tl = memberships.timeline(archive.store, archive.accounts()[0].account_id, "followers")
    assert [s.source for s in tl.snapshots] == ["x-archive"]


def test_gains_and_losses_between_any_two_runs(lists, tmp_path):
    from archiver.imports import import_path

    zips, later = lists
    archive = _archive(tmp_path)
    runs = [import_path(archive, str(z)).manifest.run_id for z in (zips[1], zips[0], zips[2])]
    path = tmp_path / "archiver.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "store"}"\n[index]\npath = "{tmp_path / "index"}"\n'
    )

    def run(*args):
        return CliRunner().invoke(cli, ["--config", str(path), "followers", "review", *args])

    # the oldest archive arrived second: runs are compared by when their lists were true
    out = run("--from-run", runs[1], "--to-run", runs[2][:22], "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    oldest, newest = _ids(zips[0]), _ids(zips[2])
    assert doc["followers"] == len(newest) and doc["until"]["run"] == runs[2]
    middle = _ids(zips[1])
    gained = (middle - oldest) | (newest - middle)
    assert sorted(u["id"] for u in doc["gained"]) == sorted(gained)
    assert sorted(u["id"] for u in doc["lost"]) == sorted((oldest - middle) | (middle - newest))
    first = json.loads(run("--from-run", runs[1], "--to-run", runs[0], "--json").stdout)
    assert first["followers"] == len(middle)
    assert {u["id"] for u in first["gained"]} == middle - oldest
    wrong = run("--from-run", runs[2], "--to-run", runs[1])
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith("error: --to-run's list is older than the start")
    unknown = run("--from-run", "20990101")
    assert unknown.exit_code == 1
    assert unknown.stderr == (
        "error: --from-run 20990101: no run of this account (archiver runs lists them)\n"
    )


def test_the_next_review_starts_from_the_list_the_last_one_saw(lists, tmp_path):
    from archiver.followers import mark_done, review
    from archiver.imports import import_path

    zips, later = lists
    archive = _archive(tmp_path)
    import_path(archive, str(zips[1]))
    ref = archive.accounts()[0]
    mark_done(archive, ref, "cli:records")
    import_path(archive, str(zips[0]))  # an older archive, imported after the review
    doc = review(archive, ref).to_dict()
    assert doc["gained"] == [] and doc["lost"] == []  # the review already saw a newer list
    assert doc["followers"] == len(_ids(zips[1]))
    import_path(archive, str(zips[2]))
    doc = review(archive, ref).to_dict()
    middle, newest = _ids(zips[1]), _ids(zips[2])
    assert {u["id"] for u in doc["gained"]} == newest - middle
    assert {u["id"] for u in doc["lost"]} == middle - newest


def test_api_incremental_runs_are_lists_the_review_compares(tmp_path):
    """A full API run that walked its lists, then incremental runs that wrote only changes
    (the list is the base run's plus gains minus losses, archiver.memberships)."""
    from archiver.followers import mark_done, review

    archive = _archive(tmp_path)
    store = archive.store

    def api_run(kind, started, members, events=(), base=None):
        with RunWriter(
            store,
            account_id=POLICE_ID,
            account=POLICE,
            kind=kind,
            source="x-api-v2",
            tool_version="test",
        ) as run:
            for uid in members:
                run.write(user(uid, f"user{uid}", f"User {uid}", 10, 20, "follower"))
            for type_, uid in events:
                run.write({"type": type_, "user_id": uid, "at": started}, EVENTS)
            details = {"started_at": started, "complete": ["followers"]}
            if kind == "incremental":
                details["membership_base"] = {"followers": base}
            return run.commit(details=details).run_id

    first = api_run("full", "2026-05-01T09:00:00.000Z", ["11", "12", "13"])
    second = api_run(
        "incremental",
        "2026-06-01T09:00:00.000Z",
        ["14"],
        [("follower_gained", "14"), ("follower_lost", "12")],
        base=first,
    )
    ref = archive.accounts()[0]
    doc = review(archive, ref).to_dict()
    assert doc["followers"] == 3
    assert [u["id"] for u in doc["gained"]] == ["14"] and [u["id"] for u in doc["lost"]] == ["12"]
    assert doc["lost"][0]["last_seen"] == "2026-05-01T09:00:00.000Z"
    assert review(archive, ref, from_run=first, to_run=second).to_dict()["gained"] == doc["gained"]
    mark_done(archive, ref, "cli:records")
    api_run(
        "incremental",
        "2026-07-01T09:00:00.000Z",
        [],
        [("follower_lost", "13")],
        base=second,
    )
    doc = review(archive, ref).to_dict()
    assert doc["gained"] == [] and [u["id"] for u in doc["lost"]] == ["13"]
    assert sorted(u["id"] for u in review(archive, ref).followers) == ["11", "14"]
