"""Bad input: one clear line, exit 1, and the store exactly as it was."""

from __future__ import annotations

import json
import zipfile

from .conftest import tweet, write_archive, ytd


def test_not_a_zip(rejected, tmp_path):
    path = tmp_path / "notes.zip"
    path.write_bytes(b"%PDF-1.4 not an archive")
    assert rejected(path) == "error: notes.zip: not a ZIP archive, a folder or twarc JSONL"


def test_a_truncated_zip(rejected, tmp_path):
    good = write_archive(
        tmp_path / "full.zip", {"tweets.js": ytd("tweets", [tweet("9", "x" * 500)])}
    )
    data = good.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    assert rejected(cut) == "error: cut.zip: not a ZIP archive, a folder or twarc JSONL"


def test_a_damaged_member(rejected, tmp_path):
    path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "data/manifest.js",
            "window.__THAR_CONFIG = "
            + json.dumps(
                {
                    "userInfo": {"accountId": "5", "userName": "x"},
                    "dataTypes": {
                        "tweets": {
                            "files": [
                                {
                                    "fileName": "data/tweets.js",
                                    "globalName": "YTD.tweets.part0",
                                    "count": "1",
                                }
                            ]
                        }
                    },
                }
            ),
        )
        zf.writestr("data/tweets.js", ytd("tweets", [tweet("9", "y" * 4000)]))
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("data/tweets.js")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    data[start : start + 8] = b"\xff" * 8  # corrupt the deflated bytes, not the directory
    path.write_bytes(bytes(data))
    line = rejected(path)
    assert line.startswith("error: damaged.zip: data/tweets.js is damaged")


def test_zip_slip_paths_are_refused(rejected, tmp_path):
    path = tmp_path / "slip.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/manifest.js", "window.__THAR_CONFIG = {}")
        zf.writestr("../../etc/evil.js", "x")
    assert (
        rejected(path)
        == "error: slip.zip: unsafe path '../../etc/evil.js' in archive (refusing to import)"
    )
    assert not (tmp_path.parent.parent / "etc" / "evil.js").exists()


def test_a_decompression_bomb_is_refused(rejected, tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/manifest.js", "window.__THAR_CONFIG = {}")
        zf.writestr("data/tweets.js", b"\0" * (50 * 1024 * 1024))  # 50 MB of zeros, ~50 KB packed
    line = rejected(path)
    assert line.startswith("error: bomb.zip: data/tweets.js would inflate to 52428800 bytes")
    assert "decompression bomb" in line


def test_a_data_file_with_the_wrong_prefix(rejected, tmp_path):
    path = write_archive(
        tmp_path / "prefix.zip", {"tweets.js": ytd("likes_oops", [tweet("1", "a")])}
    )
    assert rejected(path) == (
        "error: prefix.zip: data/tweets.js: expected 'window.YTD.tweets', "
        "found 'window.YTD.likes_oops.part0'"
    )


def test_a_data_file_with_invalid_json(rejected, tmp_path):
    text = ytd("tweets", [tweet("1", "a")]).replace('"full_text"', "full_text", 1)
    path = write_archive(tmp_path / "json.zip", {"tweets.js": text}, declare={"tweets.js": 1})
    line = rejected(path)
    assert line.startswith("error: json.zip: data/tweets.js: invalid JSON after entry 0 (")


def test_a_data_file_that_is_not_utf8(rejected, tmp_path):
    text = ytd("tweets", [tweet("1", "caf\u00e9")]).encode("utf-8").replace(b"\xc3\xa9", b"\xe9")
    path = write_archive(tmp_path / "latin1.zip", {"tweets.js": text}, declare={"tweets.js": 1})
    line = rejected(path)
    assert line.startswith("error: latin1.zip: data/tweets.js: not UTF-8 text (byte 0xe9 at offset")


def test_a_file_listed_in_the_manifest_but_missing(rejected, tmp_path):
    path = write_archive(
        tmp_path / "partial.zip",
        {"tweets.js": ytd("tweets", [tweet("2", "b")])},
        extra_manifest_files={"like.js": "like"},
        declare={"like.js": 40},
    )
    assert rejected(path) == (
        "error: partial.zip: data/like.js is listed in data/manifest.js but missing "
        "(use --allow-partial to import what is there)"
    )


def test_allow_partial_imports_what_is_there_and_records_the_gap(run_cli, tmp_path):
    path = write_archive(
        tmp_path / "partial.zip",
        {"tweets.js": ytd("tweets", [tweet("2", "b")])},
        extra_manifest_files={"like.js": "like"},
        declare={"like.js": 40},
    )
    result = run_cli("import", str(path), "--allow-partial")
    assert result.exit_code == 0
    assert "gap: data/like.js (like, 40 entries) is missing" in result.output
    [run] = json.loads(run_cli("runs", "--json").output)
    assert run["gaps"] == ["data/like.js (like, 40 entries) is missing"]
    assert run["counts"] == {"tweets": 1}


def test_an_unknown_account_override_is_a_clear_error(rejected, tmp_path):
    path = write_archive(tmp_path / "a.zip", {"tweets.js": ytd("tweets", [tweet("3", "c")])})
    assert rejected(path, "--account", "SomeoneElse") == (
        "error: --account SomeoneElse: not in the archive yet; "
        "give it as SomeoneElse:<numeric account id>"
    )
