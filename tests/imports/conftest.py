"""Helpers for import tests: zip a sample folder, count entries independently of the importer."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli


def zip_dir(src: Path, dest: Path, top: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, top + path.relative_to(src).as_posix())
    return dest


def entries(path: Path) -> list:
    """A data file's entries, parsed the plain way (text after the first '=')."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return json.loads(text.split("=", 1)[1])


def expected_counts(folder: Path) -> dict[str, int]:
    """Records an archive folder holds, counted straight from its files."""
    data = folder / "data" if (folder / "data").is_dir() else folder
    tweets = len(entries(data / "tweets.js")) + len(entries(data / "tweet.js"))
    tweets += len(entries(data / "deleted-tweets.js"))
    dms = 0
    for name in ("direct-messages.js", "direct-message.js", "direct-messages-group.js"):
        for conv in entries(data / name):
            dms += sum(
                1
                for m in conv["dmConversation"]["messages"]
                if "messageCreate" in m or "welcomeMessageCreate" in m
            )
    counts = {
        "tweets": tweets,
        "likes": len(entries(data / "like.js")),
        "followers": len(entries(data / "follower.js")),
        "following": len(entries(data / "following.js")),
        "dms": dms,
        "profile": int((data / "account.js").exists() or (data / "profile.js").exists()),
    }
    return {k: v for k, v in counts.items() if v}


@pytest.fixture
def run_cli(config_file):
    """Invoke the archiver CLI against a config in tmp_path; returns the click Result."""
    path = config_file()

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--config", str(path), *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def store_files(tmp_path):
    """Every file under the test's store, to prove a failed import changed nothing (the
    account lock's lease objects under locks/ change with every job, and jobs/ records the
    failed import itself, archiver/jobs.py: they are not data)."""

    def snapshot() -> list[str]:
        root = tmp_path / "store"
        if not root.exists():
            return []
        names = (p.relative_to(root).as_posix() for p in root.rglob("*"))
        return sorted(n for n in names if n.split("/")[0] not in ("locks", "jobs"))

    return snapshot


OWNER = {
    "accountId": "1200000000000000001",
    "userName": "ExampleshirePolice",
    "displayName": "Exampleshire Police",
}


def ytd(name: str, items: list) -> str:
    return f"window.YTD.{name}.part0 = " + json.dumps(items, indent=2, ensure_ascii=False)


def write_archive(
    dest: Path,
    files: dict[str, str | bytes],
    *,
    declare: dict[str, int] | None = None,
    extra_manifest_files: dict[str, str] | None = None,
) -> Path:
    """A 2020+-layout archive ZIP: `files` maps names under data/ to their text; the manifest
    lists each .js file (and `extra_manifest_files`: name -> dataType, which may be absent)."""
    types: dict[str, dict] = {}
    listed: dict[str, str | None] = {n: None for n in files if n.endswith(".js")}
    listed.update(extra_manifest_files or {})
    for name in listed:
        base = name.removesuffix(".js")
        dtype = {
            "tweets": "tweets",
            "deleted-tweets": "deletedTweets",
            "note-tweet": "noteTweet",
            "like": "like",
            "follower": "follower",
            "following": "following",
            "direct-messages": "directMessages",
            "account": "account",
            "profile": "profile",
        }[base]
        content = files.get(name)
        count = (declare or {}).get(name)
        if count is None and isinstance(content, str):
            count = len(json.loads(content.split("=", 1)[1]))
        info = types.setdefault(dtype, {"files": []})
        if dtype == "tweets":
            info["mediaDirectory"] = "data/tweets_media"
        info["files"].append(
            {
                "fileName": f"data/{name}",
                "globalName": f"YTD.{base.replace('-', '_')}.part0",
                "count": str(count or 0),
            }
        )
    manifest = {
        "userInfo": OWNER,
        "archiveInfo": {"generationDate": "2026-03-06T13:15:31.187Z", "isPartialArchive": False},
        "dataTypes": types,
    }
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr("data/manifest.js", "window.__THAR_CONFIG = " + json.dumps(manifest))
        for name, content in files.items():
            zf.writestr(f"data/{name}", content)
    return dest


def tweet(tid: str, text: str, created: str = "Fri Mar 06 13:02:05 +0000 2026", **extra) -> dict:
    body = {
        "edit_info": {
            "initial": {
                "editTweetIds": [tid],
                "editableUntil": "2026-03-06T14:02:05.000Z",
                "editsRemaining": "5",
                "isEditEligible": True,
            }
        },
        "retweeted": False,
        "source": "web",
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
        "display_text_range": ["0", str(len(text))],
        "favorite_count": "0",
        "id_str": tid,
        "truncated": False,
        "retweet_count": "0",
        "id": tid,
        "created_at": created,
        "favorited": False,
        "full_text": text,
        "lang": "en",
    }
    body.update(extra)
    return {"tweet": body}


@pytest.fixture
def rejected(run_cli, store_files, tmp_path):
    """Import a path that must fail; return the error line after checking nothing was written."""
    good = write_archive(tmp_path / "good.zip", {"tweets.js": ytd("tweets", [tweet("1", "kept")])})
    assert run_cli("import", str(good)).exit_code == 0
    before = store_files()

    def check(path, *args: str) -> str:
        result = run_cli("import", str(path), *args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.output
        assert store_files() == before
        newest = sorted(tmp_path.glob("store/jobs/*/*/*.json"))[-1].name  # the job history
        assert "-manual-import-" in newest and "-failed-" in newest
        return lines[0]

    return check
