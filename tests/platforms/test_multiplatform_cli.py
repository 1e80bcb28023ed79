"""The CLI with Bluesky and Mastodon accounts beside X: runs, verify, search, heads,
reconcile and the follower review name non-X accounts with their platform (X's lines as
before); reconcile of a non-X account claims nothing of X's; `accounts check` and `backup`
of a platform not built in fail in one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from multiplatform_data import (  # noqa: E402
    ACCT,
    BLUESKY,
    BSKY_HANDLE,
    MASTODON,
    PUBLIC_ACCT,
    PUBLIC_DID,
    X,
    commit,
    write_three_platforms,
)

from archiver.archive import Archive  # noqa: E402
from archiver.capture.reconcile import reconcile  # noqa: E402
from archiver.cli import cli  # noqa: E402
from archiver.config import Config, StorageConfig  # noqa: E402
from storage.view import EVENTS  # noqa: E402


@pytest.fixture
def invoke(tmp_path):
    store_path = tmp_path / "store"
    archive = Archive(Config(storage=StorageConfig(path=str(store_path))))
    write_three_platforms(archive.store)
    config = tmp_path / "archiver.toml"
    config.write_text(
        f'[storage]\npath = "{store_path}"\n[index]\npath = "{tmp_path / "index"}"\n'
        '[[accounts]]\nusername = "examplepolice@police.social"\nplatform = "mastodon"\n'
        '[[accounts]]\nusername = "examplepolice.bsky.social"\nplatform = "bluesky"\n',
        encoding="utf-8",
    )

    def run(*args: str):
        return CliRunner().invoke(cli, ["--config", str(config), *args])

    run.archive = archive
    return run


def test_runs_and_verify_name_the_platform(invoke):
    out = invoke("runs").output
    lines = out.splitlines()
    assert any(f"@{BSKY_HANDLE} (Bluesky)" in line for line in lines)
    assert any(f"@{ACCT} (Mastodon)" in line for line in lines)
    x_line = next(line for line in lines if f"@{X[1]}" in line)
    assert "(X)" not in x_line  # X reads as before
    assert f"@{X[1]:<20} import" in x_line
    runs = json.loads(invoke("runs", "--json").output)
    assert {r["platform"] for r in runs} == {"x", "bluesky", "mastodon"}
    assert invoke("runs", "--account", BSKY_HANDLE).exit_code == 0
    assert invoke("runs", "--account", BLUESKY[0]).exit_code == 0
    verified = invoke("verify")
    assert verified.exit_code == 0, verified.output
    assert "3 runs match their manifests" in verified.output


def test_search_platform_option_and_lines(invoke):
    assert invoke("index").exit_code == 0
    out = invoke("search", "road", "closure").output
    assert f"@{BSKY_HANDLE} (Bluesky)" in out and f"@{ACCT} (Mastodon)" in out
    assert "by platform: " in out
    only = invoke("search", "road", "--platform", "mastodon", "--json")
    assert {r["platform"] for r in json.loads(only.output)["results"]} == {"mastodon"}
    bad = invoke("search", "road", "--platform", "myspace")
    assert bad.exit_code == 2 and "myspace" in bad.output


def test_heads_names_the_platform(invoke):
    out = invoke("heads").output
    assert f"@{BSKY_HANDLE} (Bluesky)" in out and f"@{ACCT} (Mastodon)" in out


def test_reconcile_of_other_platforms_claims_nothing_of_x(invoke):
    result = invoke("reconcile", "--account", ACCT)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"@{ACCT} (Mastodon): ")
    for x_only in ("X API", "archive ZIP", "3,200", "on X"):
        assert x_only not in out, x_only
    assert "Mastodon account archives" in out
    assert "never captured from Mastodon" in out  # only an import so far: a gap
    doc = json.loads(invoke("reconcile", "--json").output)
    assert {d["platform"] for d in doc} == {"x", "bluesky", "mastodon"}


def test_reconcile_sets_the_platforms_profile_counts_against_the_archive(invoke):
    archive = invoke.archive
    from storage.runs import RunWriter

    with RunWriter(
        archive.store,
        account_id=BLUESKY[0],
        account=BLUESKY[1],
        kind="incremental",
        source="bluesky-api",
        tool_version="test",
    ) as run:
        run.commit(
            details={"profile_metrics": {"postsCount": 9, "followersCount": 3, "followsCount": 1}}
        )
    report = reconcile(archive.store, BLUESKY[0])
    texts = [f.text for f in report.findings]
    assert any("The Bluesky profile" in t and "counts 9 posts" in t for t in texts), texts
    assert any("counts 3 followers" in t for t in texts)
    assert report.gaps and "counts 9 posts" in report.gaps[0].text
    assert not any("captured from Bluesky" in t for t in texts)


def test_follower_review_of_a_qualified_account(invoke):
    archive = invoke.archive
    commit(
        archive.store,
        MASTODON,
        [],
        source="mastodon-api",
        kind="incremental",
        events=[{"type": "follower_gained", "user_id": PUBLIC_ACCT, "at": "2025-04-01T00:00:00Z"}],
    )
    result = invoke("followers", "review", "--account", ACCT, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["platform"] == "mastodon"
    assert doc["followers"] == 1
    assert [u["id"] for u in doc["gained"]] == [PUBLIC_ACCT]
    text = invoke("followers", "review", "--account", BSKY_HANDLE).output
    assert text.startswith(f"@{BSKY_HANDLE} (Bluesky): ")
    assert EVENTS  # events written through the same RunWriter as captures


def test_platform_not_built_in_fails_in_one_line(invoke, monkeypatch):
    # a build without the Bluesky package: its import fails as a missing module's does
    monkeypatch.setitem(sys.modules, "archiver.platforms.bluesky", None)
    check = invoke("accounts", "check", "--account", BSKY_HANDLE)
    assert check.exit_code == 1
    assert check.output.strip().splitlines() == [
        f"error: account @{BSKY_HANDLE}: bluesky account checks are not available in this "
        "version (`archiver backup --account` tries the account)"
    ]
    backup = invoke("backup", "--account", BSKY_HANDLE)
    assert backup.exit_code == 1
    assert "bluesky capture is not available in this version" in backup.output
    assert "Traceback" not in backup.output
    assert PUBLIC_DID  # the data's other people are not touched by these commands


def test_job_lines_name_the_platform():
    from archiver.jobs import JobRecord

    assert "backup @ExampleshirePolice (manual) ok" in JobRecord("backup", account=X[1]).describe()
    line = JobRecord("backup", account=BSKY_HANDLE).describe()
    assert f"backup @{BSKY_HANDLE} (Bluesky) (manual) ok" in line
    assert f"@{ACCT} (Mastodon)" in JobRecord("backup", account=ACCT).describe()


def test_export_sar_of_a_mastodon_account_from_the_command_line(invoke, tmp_path):
    out = tmp_path / "sar.zip"
    result = invoke("export", "sar", "--user", PUBLIC_ACCT, "--request", "SAR-7", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.exists()
    # the X account's handle on X is not the Mastodon subject: nothing of X is selected
    none = invoke(
        "export", "sar", "--user", "@nobody_here", "--request", "S", "--out", str(tmp_path)
    )
    assert none.exit_code == 1
    assert none.output.strip().splitlines() == [
        "error: nothing in the archive involves @nobody_here"
    ]
