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
