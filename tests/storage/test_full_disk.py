"""A full disk is one line that says what to do, and leaves nothing half-written: a real
small tmpfs holds the store and its staging area (mounting needs root; skipped otherwise)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli


@pytest.fixture
def small_disk(tmp_path: Path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_an_import_onto_a_full_disk_is_one_line_and_writes_nothing(small_disk, tmp_path):
    from archiver.demo.archive_zip import write_demo_archive

    zip_path = write_demo_archive(tmp_path / "demo.zip", posts=400, seed=3).path
    store = small_disk / "store"
    config = tmp_path / "archiver.toml"
    config.write_text(
        f'[storage]\npath = "{store}"\n[index]\npath = "{tmp_path / "index"}"\n', "utf-8"
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "import", str(zip_path)])

    assert result.exit_code == 1, (result.output, result.exception)
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: no space left on ")
    assert line.endswith(": the import wrote nothing; free space and run it again")
    assert str(small_disk) in line
    leftovers = [
        p.relative_to(store).as_posix()
        for p in small_disk.rglob("*")
        # the released lease, and the job history's record of the failed import
        if p.is_file() and not {"locks", "jobs"} & set(p.relative_to(store).parts)
    ]
    assert leftovers == []  # no objects, no staging, no temporary files
