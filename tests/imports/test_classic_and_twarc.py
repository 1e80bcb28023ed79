"""The pre-2018 classic archive and twarc2 output (raw pages, flattened tweets, one saved page)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from storage.local import LocalStore
from storage.view import current_view

from .conftest import entries, era_folder, zip_dir

CLASSIC = "classic-2015-11_sixworderbot"
TWARC = "api-v2/twarc-csv"


@pytest.fixture(params=["demo-classic", CLASSIC])
def classic_folder(request, tmp_path) -> Path:
    """A classic archive some of whose month files are missing (as in the real sample): the
    demo's with its second-newest month removed, or the founders' sample."""
    folder = era_folder(request, request.param)
    if request.param == CLASSIC:
        return folder
    copy = shutil.copytree(folder, tmp_path / "classic")
    index = entries(copy / "data/js/tweet_index.js")
    (copy / index[1]["file_name"]).unlink()
    return copy


def test_classic_archive_merges_monthly_files_with_the_csv(classic_folder, tmp_path, run_cli):
    folder = classic_folder
    with open(folder / "tweets.csv", encoding="utf-8", newline="") as fh:
        csv_ids = {row["tweet_id"] for row in csv.DictReader(fh)}
    index = entries(folder / "data/js/tweet_index.js")
    present = [m for m in index if (folder / m["file_name"]).exists()]
    missing = [m for m in index if not (folder / m["file_name"]).exists()]
    assert present and missing
    js_ids = {t["id_str"] for m in present for t in entries(folder / m["file_name"])}
    user = entries(folder / "data/js/user_details.js")
    result = run_cli("import", str(zip_dir(folder, tmp_path / "c.zip")), "--json")
    summary = json.loads(result.output)
    assert summary["read"] == {"tweets": len(csv_ids | js_ids)}
    assert (summary["account"], summary["account_id"]) == (user["screen_name"], user["id"])
    # months whose .js file is absent are named, and their posts came from the CSV
    for month in missing:
        gap = f"{month['file_name']} ({month['tweet_count']} posts) is missing"
        assert f"{gap} (posts taken from tweets.csv)" in summary["gaps"]
    items = {i.key: i.latest for i in current_view(LocalStore(tmp_path / "store"), user["id"])}
    source = entries(folder / present[0]["file_name"])[0]
    first = items[source["id_str"]]
    assert first["text"] == source["text"]
    assert first["hashtags"] == [h["text"] for h in source["entities"]["hashtags"]]
    when = dt.datetime.strptime(source["created_at"], "%Y-%m-%d %H:%M:%S %z")
    assert first["created_at"] == when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert "user" in first["raw"]  # the month file's object, richer than the CSV row


def test_the_real_classic_sample_reads_as_read_by_hand(samples, tmp_path, run_cli):
    folder = samples / CLASSIC
    run_cli("import", str(zip_dir(folder, tmp_path / "c.zip")), "--json")
    items = {i.key: i.latest for i in current_view(LocalStore(tmp_path / "store"), "3052317647")}
    first = items["660728070781931520"]
    assert first["text"] == "We got out of the lift.\n#sixwordstory"
    assert first["hashtags"] == ["sixwordstory"]
    assert first["created_at"] == "2015-11-01T08:00:22.000Z"


@pytest.fixture(params=["demo-twarc", TWARC])
def twarc_folder(request) -> Path:
    """twarc2 output: generated from the X API double's pages, or the founders'."""
    return era_folder(request, request.param)


def _first_line(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8").splitlines()[0])


def test_twarc_page_with_an_edit_history(twarc_folder, run_cli, tmp_path):
    line = _first_line(twarc_folder / "edited.jsonl")
    result = run_cli("import", str(twarc_folder / "edited.jsonl"), "--json")
    summary = json.loads(result.output)
    assert summary["source"] == "twarc"
    [item] = current_view(LocalStore(tmp_path / "store"), summary["account_id"])
    assert len(line["data"][0]["edit_history_tweet_ids"]) == 2
    assert item.latest["edit_history_ids"] == line["data"][0]["edit_history_tweet_ids"]
    assert item.latest["source"] == "twarc"
    retrieved = dt.datetime.fromisoformat(line["__twarc"]["retrieved_at"])
    assert item.latest["captured_at"] == retrieved.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_saved_api_page_records_its_partial_errors(twarc_folder, run_cli):
    path = twarc_folder / "users_id_tweets_page_trimmed.json"
    page = json.loads(path.read_text())
    result = run_cli("import", str(path), "--json")
    summary = json.loads(result.output)
    assert summary["read"] == {"tweets": len(page["data"])}
    assert len(summary["warnings"]) == len(page["errors"]) > 0
    assert summary["warnings"][0].startswith("partial error in source page: Could not find tweet")


def test_flattened_twarc_lines_import_like_raw_pages(twarc_folder, run_cli, tmp_path):
    page = _first_line(twarc_folder / "edited.jsonl")
    tweet = dict(page["data"][0])
    tweet["author"] = next(u for u in page["includes"]["users"] if u["id"] == tweet["author_id"])
    tweet["__twarc"] = page["__twarc"]
    flat = tmp_path / "flat.jsonl"
    flat.write_text(json.dumps(tweet) + "\n")
    summary = json.loads(run_cli("import", str(flat), "--json").output)
    assert summary["account"] == tweet["author"]["username"]
    raw = twarc_folder / "edited.jsonl"
    again = json.loads(run_cli("import", str(raw), "--json").output)
    assert again["run_id"] is None  # the same post, already archived from the flattened line


def test_a_twarc_line_that_is_not_json(run_cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"data": [{"id": "1", "text": "a"}]}\n{"data": [oops\n')
    result = run_cli("import", str(bad))
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: bad.jsonl: line 2 is not valid JSON")


def test_a_post_from_the_archive_and_from_the_api_is_one_version(tmp_path, run_cli):
    from .conftest import OWNER, tweet, write_archive, ytd

    text = "Road closed at Exampleford https://t.co/abc"
    path = write_archive(tmp_path / "a.zip", {"tweets.js": ytd("tweets", [tweet("777", text)])})
    run_cli("import", str(path))
    page = {
        "data": [
            {
                "id": "777",
                "text": text,
                "author_id": OWNER["accountId"],
                "created_at": "2026-03-06T13:02:05.000Z",
                "edit_history_tweet_ids": ["777"],
                "public_metrics": {"like_count": 12},
            }
        ],
        "includes": {
            "users": [
                {
                    "id": OWNER["accountId"],
                    "username": OWNER["userName"],
                    "name": OWNER["displayName"],
                }
            ]
        },
        "__twarc": {
            "url": f"https://api.twitter.com/2/users/{OWNER['accountId']}/tweets",
            "retrieved_at": "2026-04-01T00:00:00+00:00",
        },
    }
    api = tmp_path / "api.jsonl"
    api.write_text(json.dumps(page) + "\n")
    summary = json.loads(run_cli("import", str(api), "--json").output)
    assert summary["read"] == {"tweets": 1}
    assert summary["run_id"] is None  # nothing new: the same post, already archived
    [item] = current_view(LocalStore(tmp_path / "store"), OWNER["accountId"])
    assert len(item.versions) == 1
