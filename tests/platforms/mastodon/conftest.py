"""Mastodon tests: the CLI against a config in tmp, archive ZIPs built by the demo's builder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.demo.mastodon import MastodonArchive, status_id


@pytest.fixture
def cli_run(config_file):
    """Invoke the archiver CLI (the config may be extended with TOML text first)."""
    state: dict[str, Path] = {}

    def invoke(*args: str, config: str = ""):
        if "path" not in state or config:
            state["path"] = config_file(config)
        return CliRunner().invoke(cli, ["--config", str(state["path"]), *args])

    return invoke


def store_listing(tmp_path: Path) -> list[str]:
    """Every data file of the test's store (locks and the job history change with any job)."""
    root = tmp_path / "store"
    if not root.exists():
        return []
    names = (p.relative_to(root).as_posix() for p in root.rglob("*"))
    return sorted(n for n in names if n.split("/")[0] not in ("locks", "jobs"))


def small_archive(statuses: int = 3) -> MastodonArchive:
    """A tiny archive of @force@police.example: public posts, one with a photo."""
    archive = MastodonArchive("force", "police.example", "Example Force")
    when = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    for n in range(statuses):
        when += dt.timedelta(hours=1)
        archive.status(status_id(when, n), f"<p>Status {n}</p>", when, photos=int(n == 0))
    return archive


@pytest.fixture
def refused(cli_run, tmp_path):
    """Import a path that must fail: returns its one error line, after checking the exit
    status, that no traceback showed and that the store is exactly as it was."""
    good = small_archive().zip_to(tmp_path / "good.zip")
    assert cli_run("import", str(good)).exit_code == 0
    before = store_listing(tmp_path)

    def check(path: Path) -> str:
        result = cli_run("import", str(path))
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert store_listing(tmp_path) == before
        return lines[0]

    return check
