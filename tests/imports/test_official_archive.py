"""Every era of the official archive imports with exact counts; re-imports add nothing.

Each test runs on the demo generator's archive of that era (always) and on the founders' real
samples (when they are beside the checkout; skipped with the reason otherwise)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from archiver.demo import DEMO_ACCOUNT
from storage.local import LocalStore
from storage.view import current_view

from .conftest import entries, era_folder, expected_counts, zip_dir

REAL_ERAS = [
    "archive-2018-08_natalieacpm",
    "archive-2021-03_larsbrinkhoff",
    "archive-2022-10_larsbrinkhoff",
    "archive-2023-08_larsbrinkhoff",
    "archive-2026-03_milahu104",
]
NEWEST = ["demo-2020", REAL_ERAS[-1]]
OLDEST = ["demo-2018", REAL_ERAS[0]]


@pytest.mark.parametrize("era", ["demo-2018", "demo-2020", *REAL_ERAS])
def test_each_era_imports_with_the_counts_its_files_hold(era, request, tmp_path, run_cli):
    folder = era_folder(request, era)
    archive_zip = zip_dir(folder, tmp_path / f"{era}.zip")
    result = run_cli("import", str(archive_zip), "--allow-partial", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["read"] == expected_counts(folder)
    runs = json.loads(run_cli("runs", "--json").output)
    assert [r["counts"] for r in runs] == [expected_counts(folder)]


@pytest.mark.parametrize("era", NEWEST)
def test_the_same_archive_twice_adds_nothing(era, request, tmp_path, run_cli):
    archive_zip = zip_dir(era_folder(request, era), tmp_path / "a.zip")
    first = run_cli("import", str(archive_zip), "--allow-partial")
    again = run_cli("import", str(archive_zip), "--allow-partial")
    assert first.exit_code == again.exit_code == 0
    assert "nothing new: everything is already in the archive (no run written)" in again.output
    assert len(json.loads(run_cli("runs", "--json").output)) == 1


@pytest.mark.parametrize("era", NEWEST)
def test_an_unpacked_folder_and_a_zip_with_a_top_folder_import_alike(
    era, request, tmp_path, run_cli
):
    folder = era_folder(request, era)
    nested = zip_dir(folder, tmp_path / "nested.zip", top="twitter-2026-03-06-abc/")
    assert run_cli("import", str(folder), "--allow-partial").exit_code == 0
    result = run_cli("import", str(nested), "--allow-partial")
    assert "nothing new" in result.output


@pytest.mark.parametrize(
    ("era", "owner"),
    [
        ("demo-2018", (DEMO_ACCOUNT.username, DEMO_ACCOUNT.id)),
        (REAL_ERAS[0], ("okaynattttttttt", "803214192")),
    ],
)
def test_the_account_comes_from_the_archive(era, owner, request, tmp_path, run_cli):
    folder = era_folder(request, era)
    run_cli("import", str(zip_dir(folder, tmp_path / "a.zip")), "--allow-partial")
    [run] = json.loads(run_cli("runs", "--json").output)
    assert (run["account"], run["account_id"]) == owner


def test_2026_records_keep_replies_retweets_deletions_and_raw(samples, tmp_path, run_cli):
    run_cli("import", str(samples / REAL_ERAS[-1]), "--allow-partial")
    store = LocalStore(tmp_path / "store")
    items = {(i.collection, i.key): i for i in current_view(store, "1964312974236991488")}
    reply = items[("tweets", "2029905358261502168")].latest
    assert reply["kind"] == "reply"
    assert reply["in_reply_to_id"] == "2029903943413772741"
    assert reply["created_at"] == "2026-03-06T13:02:05.000Z"
    assert reply["mentions"] == ["SamaHoole"]
    assert reply["raw"]["tweet"]["full_text"] == "@SamaHoole https://t.co/2UHqruPk7w"
    kinds = {i.latest["kind"] for (c, _), i in items.items() if c == "tweets"}
    assert {"reply", "repost", "post"} <= kinds
    deleted = [i for (c, _), i in items.items() if c == "tweets" and i.deleted_at]
    assert len(deleted) == 2
    assert all(i.deleted_at.endswith("Z") for i in deleted)


def test_demo_records_keep_replies_retweets_deletions_and_raw(demo_eras, tmp_path, run_cli):
    folder = demo_eras["2020"]
    run_cli("import", str(folder), "--allow-partial")
    items = {
        (i.collection, i.key): i
        for i in current_view(LocalStore(tmp_path / "store"), DEMO_ACCOUNT.id)
    }
    tweets = [e["tweet"] for e in entries(folder / "data/tweets.js")]
    source = next(t for t in tweets if "in_reply_to_status_id_str" in t)
    reply = items[("tweets", source["id_str"])].latest
    assert reply["kind"] == "reply"
    assert reply["in_reply_to_id"] == source["in_reply_to_status_id_str"]
    when = dt.datetime.strptime(source["created_at"], "%a %b %d %H:%M:%S %z %Y")
    assert reply["created_at"] == when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert reply["mentions"] == [m["screen_name"] for m in source["entities"]["user_mentions"]]
    assert reply["raw"]["tweet"]["full_text"] == source["full_text"]
    kinds = {i.latest["kind"] for (c, _), i in items.items() if c == "tweets"}
    assert {"reply", "repost", "post", "quote"} <= kinds
    deleted = [i for (c, _), i in items.items() if c == "tweets" and i.deleted_at]
    assert len(deleted) == len(entries(folder / "data/deleted-tweets.js"))
    assert all(i.deleted_at.endswith("Z") for i in deleted)


@pytest.mark.parametrize("era", OLDEST)
def test_2018_direct_messages_get_iso_times_from_epoch_milliseconds(
    era, request, tmp_path, run_cli
):
    folder = era_folder(request, era)
    run = json.loads(run_cli("import", str(folder), "--allow-partial", "--json").output)
    dms = {i.key: i.latest for i in current_view(LocalStore(tmp_path / "store"), run["account_id"])}
    conversations = [c["dmConversation"] for c in entries(folder / "direct-message.js")]
    events = [(c["conversationId"], e) for c in conversations for e in c["messages"]]
    assert any("welcomeMessageCreate" in e for _, e in events)
    for conversation, event in events:
        [message] = event.values()
        ms = int(message["createdAt"])  # "1534138567670": a string of epoch milliseconds
        when = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
        record = dms[message["id"]]
        assert record["created_at"] == when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
        assert record["text"] == message["text"]
        assert record["conversation_id"] == conversation


def test_2018_real_direct_message_times(samples, tmp_path, run_cli):
    """One message of the real 2018 sample, checked against a time read by hand."""
    run_cli("import", str(samples / REAL_ERAS[0]), "--allow-partial")
    store = LocalStore(tmp_path / "store")
    dms = {i.key: i.latest for i in current_view(store, "803214192", ["dms"])}
    assert dms["1028877838512881669"]["created_at"] == "2018-08-13T05:36:07.022Z"
    assert dms["1028877838512881669"]["text"] == "okay"
    assert dms["1028877838512881669"]["conversation_id"] == "17874544-803214192"


@pytest.mark.parametrize("era", NEWEST)
def test_the_original_data_files_are_kept_byte_for_byte(era, request, tmp_path, run_cli):
    folder = era_folder(request, era)
    run_cli("import", str(folder), "--allow-partial")
    store = LocalStore(tmp_path / "store")
    [run] = json.loads(run_cli("runs", "--json").output)
    kept = Path(
        store.root, "accounts", run["account_id"], "runs", run["run_id"], "files/data/tweets.js"
    )
    assert kept.read_bytes() == (folder / "data/tweets.js").read_bytes()
