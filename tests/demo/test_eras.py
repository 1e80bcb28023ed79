"""The demo archive in the 2018 and classic layouts: written byte for byte the way X and
Twitter wrote them (checked against small committed files in those layouts, and the
founders' real samples when present), laid out as
FORMATS.md describes, and deterministic."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.demo import DEMO_ACCOUNT
from archiver.demo.eras import csv_bytes, grailbird_js, write_era_archive
from archiver.demo.jsformat import compact_ytd_bytes

COMPACT_FILES = [
    "x_layout/2018/direct-message.js",  # an emoji as \uD83D\uDE93, other characters UTF-8
    "x_layout/2018/like.js",
    "x_layout/2021/data/tweet.js",
    "archive-2018-08_natalieacpm/account.js",
    "archive-2018-08_natalieacpm/direct-message.js",  # an emoji written as \uD83D\uDD27
    "archive-2018-08_natalieacpm/follower.js",
    "archive-2018-08_natalieacpm/like.js",
    "archive-2018-08_natalieacpm/profile.js",
    "archive-2021-03_larsbrinkhoff/data/tweet.js",
    "archive-2021-03_larsbrinkhoff/data/like.js",
    "archive-2021-03_larsbrinkhoff/data/follower.js",
]
CLASSIC = "classic-2015-11_sixworderbot"
GRAILBIRD_FILES = [
    "x_layout/classic/data/js/tweet_index.js",
    "x_layout/classic/data/js/tweets/2014_02.js",
    *(
        f"{CLASSIC}/{name}"
        for name in (
            "data/js/tweet_index.js",
            "data/js/user_details.js",
            "data/js/payload_details.js",
            "data/js/tweets/2015_11.js",
        )
    ),
]


def _js(data: bytes) -> object:
    text = data.decode("utf-8")
    return json.loads(text[text.index("=") + 1 :])


@pytest.mark.parametrize("name", COMPACT_FILES)
def test_2018_to_2021_data_files_are_written_exactly_as_x_wrote_them(format_file, name):
    real = format_file(name)
    prefix, _, body = real.decode("utf-8").partition(" = ")
    written = compact_ytd_bytes(
        prefix.removeprefix("window."),
        json.loads(body),
        escape_astral=name.startswith(("archive-2018", "x_layout/2018")),
    )
    assert written == real


@pytest.mark.parametrize("name", GRAILBIRD_FILES)
def test_classic_files_are_written_exactly_as_twitter_wrote_them(format_file, name):
    real = format_file(name)
    assignment = real.decode("utf-8").partition("=")[0].rstrip()
    assert grailbird_js(assignment, _js(real)) == real


@pytest.mark.parametrize("name", ["x_layout/classic/tweets.csv", f"{CLASSIC}/tweets.csv"])
def test_the_classic_csv_is_written_exactly_as_twitter_wrote_it(format_file, name):
    real = format_file(name)
    rows = list(csv.reader(io.StringIO(real.decode("utf-8"), newline="")))
    assert csv_bytes(rows) == real


@pytest.fixture(scope="module")
def eras(tmp_path_factory) -> dict[str, zipfile.ZipFile]:
    out = {}
    for era in ("2018", "classic"):
        path = tmp_path_factory.mktemp("eras") / f"{era}.zip"
        write_era_archive(path, era, posts=150, seed=5)
        out[era] = zipfile.ZipFile(path)
    return out


def test_the_same_arguments_give_the_same_bytes(tmp_path):
    for era in ("2018", "classic"):
        a = write_era_archive(tmp_path / f"a-{era}.zip", era, posts=40, seed=9).path
        b = write_era_archive(tmp_path / f"b-{era}.zip", era, posts=40, seed=9).path
        c = write_era_archive(tmp_path / f"c-{era}.zip", era, posts=40, seed=10).path
        assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_the_2018_layout_is_files_at_the_root_without_a_manifest(eras):
    zf = eras["2018"]
    names = zf.namelist()
    assert not any(n.startswith("data/") for n in names)
    assert {"tweet.js", "like.js", "follower.js", "following.js", "direct-message.js"} <= set(names)
    assert {"account.js", "profile.js", "README.txt"} <= set(names)
    assert any(n.startswith("tweet_media/") for n in names)
    assert all(zf.read(n).startswith(b"window.YTD.") for n in names if n.endswith(".js"))
    assert zf.read("direct-message.js").startswith(b"window.YTD.direct_message.part0 = [ {")


def test_2018_entries_have_the_shapes_of_their_time(eras):
    zf = eras["2018"]
    tweets = _js(zf.read("tweet.js"))
    assert tweets and all("tweet" not in t and "edit_info" not in t for t in tweets)
    assert all(
        re.fullmatch(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \+0000 201[5-7]", t["created_at"])
        for t in tweets
    )
    assert all(t["favorite_count"].isdigit() for t in tweets)  # numbers as strings
    assert {tuple(e["like"]) for e in _js(zf.read("like.js"))} == {("tweetId",)}
    assert {tuple(e["follower"]) for e in _js(zf.read("follower.js"))} == {("accountId",)}
    [account] = _js(zf.read("account.js"))
    assert account["account"]["accountId"] == DEMO_ACCOUNT.id
    assert account["account"]["createdAt"].isdigit() and "timeZone" in account["account"]
    events = [e for c in _js(zf.read("direct-message.js")) for e in c["dmConversation"]["messages"]]
    kinds = {next(iter(e)) for e in events}
    assert kinds == {"messageCreate", "welcomeMessageCreate"}
    assert all(next(iter(e.values()))["createdAt"].isdigit() for e in events)  # epoch ms


def test_the_classic_layout_indexes_its_month_files(eras):
    zf = eras["classic"]
    index = _js(zf.read("data/js/tweet_index.js"))
    months = sorted(n for n in zf.namelist() if n.startswith("data/js/tweets/"))
    assert sorted(m["file_name"] for m in index) == months
    assert index == sorted(index, key=lambda m: (m["year"], m["month"]), reverse=True)
    posts = 0
    for month in index:
        data = zf.read(month["file_name"])
        assert data.startswith(f"Grailbird.data.{month['var_name']} = \n[ {{".encode())
        tweets = _js(data)
        assert len(tweets) == month["tweet_count"]
        assert all(isinstance(t["id"], int) and str(t["id"]) == t["id_str"] for t in tweets)
        assert all(
            t["created_at"].startswith(f"{month['year']}-{month['month']:02d}-") for t in tweets
        )
        posts += len(tweets)
    assert _js(zf.read("data/js/payload_details.js"))["tweets"] == posts
    rows = list(csv.DictReader(io.StringIO(zf.read("tweets.csv").decode(), newline="")))
    assert len(rows) == posts
    retweets = [t for m in index for t in _js(zf.read(m["file_name"])) if "retweeted_status" in t]
    assert retweets and all(t["text"].startswith("RT @") for t in retweets)
    assert all(b"\\/" in zf.read(n) for n in months)  # classic escapes every slash


def test_demo_data_writes_an_era_and_says_what(tmp_path):
    out = tmp_path / "old.zip"
    result = CliRunner().invoke(cli, ["demo-data", str(out), "--era", "classic", "--posts", "60"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"wrote {re.escape(str(out))} \(classic layout\): \d+ posts by @ExampleshirePolice, "
        r"\d+ monthly files and tweets.csv; [\d.]+ MB in [\d.]+ s\n",
        result.output,
    )
    assert zipfile.is_zipfile(out)


def test_options_of_the_current_layout_are_refused_for_an_old_one(tmp_path: Path):
    result = CliRunner().invoke(
        cli, ["demo-data", str(tmp_path / "a.zip"), "--era", "2018", "--part-size", "5"]
    )
    assert result.exit_code == 2
    assert (
        "--part-size, --mentions-jsonl, --followers-jsonl and --following-jsonl need --era 2020"
        in " ".join(result.output.split())
    )
    assert not (tmp_path / "a.zip").exists()
