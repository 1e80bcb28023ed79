"""Fixtures: the default demo archive and mentions file, written once per session, a reader
for the archive's data files that follows the format's own rule (strip up to the first `=`,
parse the rest as JSON) with the standard library only, and the files in X's layouts the
writers are checked against byte for byte."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from archiver.demo import write_demo_archive, write_demo_mentions_jsonl

# small files hand-written in X's and Twitter's layouts with fictional content (no real
# person's data): the byte-for-byte checks run on these from a bare clone. Edit them by hand,
# never with the writers under test, or the checks prove nothing.
LAYOUT = "x_layout"


@pytest.fixture
def format_file(request: pytest.FixtureRequest):
    """format_file(name) -> the bytes of a file in X's layout: `x_layout/...` is committed
    here; any other name is in the founders' samples (the test is skipped, with the reason,
    when they are absent)."""

    def read(name: str) -> bytes:
        if name.startswith(f"{LAYOUT}/"):
            return (Path(__file__).parent / name).read_bytes()
        return (request.getfixturevalue("samples") / name).read_bytes()

    return read


def _read_js(zf: zipfile.ZipFile, name: str) -> Any:
    text = zf.read(name).decode("utf-8")
    return json.loads(text[text.index("=") + 1 :])


@pytest.fixture(scope="session")
def read_js():
    """read_js(zip, name) -> the data file's entries."""
    return _read_js


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """(summary, open ZipFile) of the default demo: 3,000 posts, seed 7."""
    path = tmp_path_factory.mktemp("demo") / "demo.zip"
    summary = write_demo_archive(path)
    with zipfile.ZipFile(path) as zf:
        yield summary, zf


@pytest.fixture(scope="session")
def demo_tweets(demo) -> list[dict[str, Any]]:
    """Every tweets.js entry's tweet object, in file order."""
    _, zf = demo
    manifest = _read_js(zf, "data/manifest.js")
    out = []
    for f in manifest["dataTypes"]["tweets"]["files"]:
        out += [entry["tweet"] for entry in _read_js(zf, f["fileName"])]
    return out


@pytest.fixture(scope="session")
def mentions(tmp_path_factory) -> tuple[Any, list[dict[str, Any]]]:
    """(summary, pages) of the default demo's mentions JSONL."""
    path = tmp_path_factory.mktemp("demo") / "mentions.jsonl"
    summary = write_demo_mentions_jsonl(path)
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return summary, [json.loads(line) for line in lines]
