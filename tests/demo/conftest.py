"""Fixtures: the default demo archive and mentions file, written once per session, and a
reader for the archive's data files that follows the format's own rule (strip up to the
first `=`, parse the rest as JSON) with the standard library only."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from archiver.demo import write_demo_archive, write_demo_mentions_jsonl


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
