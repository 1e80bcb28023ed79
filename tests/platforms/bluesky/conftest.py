"""Bluesky test helpers: the demo force's repository as a backup folder, and the CLI."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.demo.bluesky import HANDLE, write_demo_bluesky

sys.path.insert(0, str(Path(__file__).parent))  # pds_double, importable by bare name

_CACHE: dict[tuple[int, int], Path] = {}


@pytest.fixture
def backup_folder(tmp_path_factory, tmp_path) -> Path:
    """A fresh copy of the demo account's backup folder (built once per session)."""
    key = (24, 7)
    if key not in _CACHE:
        _CACHE[key] = write_demo_bluesky(tmp_path_factory.mktemp("bsky") / "backup", posts=24)
    dest = tmp_path / "bsky-backup"
    shutil.copytree(_CACHE[key], dest)
    return dest


@pytest.fixture
def car_path(backup_folder) -> Path:
    return backup_folder / f"{HANDLE}.car"


@pytest.fixture
def cli_run(config_file):
    path = config_file()

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--config", str(path), *args], catch_exceptions=False)

    return invoke
