"""`archiver demo-data`: what an operator types and sees; and the demo imports cleanly into
the archive with exactly the counts the generator reports."""

from __future__ import annotations

import re
import zipfile

from click.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import cli
from archiver.config import Config, StorageConfig
from archiver.demo import write_demo_archive, write_demo_mentions_jsonl
from archiver.imports import import_path


def test_demo_data_writes_the_zip_and_the_mentions(tmp_path):
    out, jsonl = tmp_path / "demo" / "demo.zip", tmp_path / "mentions.jsonl"
    result = CliRunner().invoke(
        cli,
        ["demo-data", str(out), "--posts", "200", "--seed", "3", "--mentions-jsonl", str(jsonl)],
    )
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert re.fullmatch(
        rf"wrote {re.escape(str(out))}: 200 posts by @ExampleshirePolice \(\d+ posts, \d+ replies, "
        r"\d+ reposts, \d+ quotes; 1 edited, 1 long, 2 deleted\), \d+ media files, 30 likes, "
        r"100 followers, 40 following, 6 DM conversations \(\d+ messages\), 1 group DM "
        r"\(5 messages\); [\d.]+ MB in [\d.]+ s",
        first,
    )
    assert second.startswith(f"wrote {jsonl}: ") and "posts from the public" in second
    assert zipfile.is_zipfile(out) and jsonl.stat().st_size > 0


def test_an_existing_file_needs_force(tmp_path):
    out = tmp_path / "demo.zip"
    out.write_bytes(b"not mine to replace")
    result = CliRunner().invoke(cli, ["demo-data", str(out), "--posts", "20"])
    assert result.exit_code == 1
    assert result.stderr == f"error: {out} already exists; pass --force to replace it\n"
    assert out.read_bytes() == b"not mine to replace"
    result = CliRunner().invoke(cli, ["demo-data", str(out), "--posts", "20", "--force"])
    assert result.exit_code == 0 and zipfile.is_zipfile(out)


def test_bad_sizes_are_usage_errors(tmp_path):
    result = CliRunner().invoke(cli, ["demo-data", str(tmp_path / "x.zip"), "--posts", "5"])
    assert result.exit_code == 2
    assert "Invalid value for '--posts': 5 is not in the range 20<=x<=2000000." in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_demo_imports_with_the_counts_the_generator_reports(tmp_path):
    summary = write_demo_archive(tmp_path / "demo.zip", posts=1200)  # 4 deleted, 1 with a photo
    mentions = write_demo_mentions_jsonl(tmp_path / "mentions.jsonl", posts=1200)
    archive = Archive(Config(storage=StorageConfig(path=str(tmp_path / "store"))))
    result = import_path(archive, str(summary.path))
    assert (result.account, result.account_id) == ("ExampleshirePolice", "1200000000000000001")
    assert result.warnings == [] and result.gaps == []
    assert dict(result.read) == {
        "tweets": summary.tweets + summary.deleted,
        "likes": summary.likes,
        "followers": summary.followers,
        "following": summary.following,
        "dms": summary.dm_messages + summary.group_messages,
        "profile": 1,
    }
    result = import_path(archive, str(mentions.path))
    assert result.account_id == "1200000000000000001"
    assert dict(result.read) == {"mentions": mentions.mentions}
