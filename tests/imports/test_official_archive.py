"""Every era of the official archive imports with exact counts; re-imports add nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.local import LocalStore
from storage.view import current_view

from .conftest import expected_counts, zip_dir

ERAS = [
    "archive-2018-08_natalieacpm",
    "archive-2021-03_larsbrinkhoff",
    "archive-2022-10_larsbrinkhoff",
    "archive-2023-08_larsbrinkhoff",
    "archive-2026-03_milahu104",
]


@pytest.mark.parametrize("era", ERAS)
def test_each_era_imports_with_the_counts_its_files_hold(era, samples, tmp_path, run_cli):
    archive_zip = zip_dir(samples / era, tmp_path / f"{era}.zip")
    result = run_cli("import", str(archive_zip), "--allow-partial", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["read"] == expected_counts(samples / era)
    runs = json.loads(run_cli("runs", "--json").output)
    assert [r["counts"] for r in runs] == [expected_counts(samples / era)]


def test_the_same_archive_twice_adds_nothing(samples, tmp_path, run_cli):
    archive_zip = zip_dir(samples / ERAS[-1], tmp_path / "a.zip")
    first = run_cli("import", str(archive_zip), "--allow-partial")
    again = run_cli("import", str(archive_zip), "--allow-partial")
    assert first.exit_code == again.exit_code == 0
    assert "nothing new: everything is already in the archive (no run written)" in again.output
    assert len(json.loads(run_cli("runs", "--json").output)) == 1


def test_an_unpacked_folder_and_a_zip_with_a_top_folder_import_alike(samples, tmp_path, run_cli):
    era = samples / ERAS[-1]
    nested = zip_dir(era, tmp_path / "nested.zip", top="twitter-2026-03-06-abc/")
    assert run_cli("import", str(era), "--allow-partial").exit_code == 0
    result = run_cli("import", str(nested), "--allow-partial")
    assert "nothing new" in result.output


def test_the_account_comes_from_the_archive(samples, tmp_path, run_cli):
    run_cli("import", str(zip_dir(samples / ERAS[0], tmp_path / "a.zip")), "--allow-partial")
    [run] = json.loads(run_cli("runs", "--json").output)
    assert (run["account"], run["account_id"]) == ("okaynattttttttt", "803214192")


def test_2026_records_keep_replies_retweets_deletions_and_raw(samples, tmp_path, run_cli):
    run_cli("import", str(samples / ERAS[-1]), "--allow-partial")
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


def test_2018_direct_messages_get_iso_times_from_epoch_milliseconds(samples, tmp_path, run_cli):
    run_cli("import", str(samples / ERAS[0]), "--allow-partial")
    store = LocalStore(tmp_path / "store")
    dms = {i.key: i.latest for i in current_view(store, "803214192", ["dms"])}
    assert dms["1028877838512881669"]["created_at"] == "2018-08-13T05:36:07.022Z"
    assert dms["1028877838512881669"]["text"] == "okay"
    assert dms["1028877838512881669"]["conversation_id"] == "17874544-803214192"


def test_the_original_data_files_are_kept_byte_for_byte(samples, tmp_path, run_cli):
    era = samples / ERAS[-1]
    run_cli("import", str(era), "--allow-partial")
    store = LocalStore(tmp_path / "store")
    [run] = json.loads(run_cli("runs", "--json").output)
    kept = Path(
        store.root, "accounts", run["account_id"], "runs", run["run_id"], "files/data/tweets.js"
    )
    assert kept.read_bytes() == (era / "data/tweets.js").read_bytes()
