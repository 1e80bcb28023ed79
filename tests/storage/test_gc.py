"""`archiver gc`: what killed runs leave outside the archive goes, and it says what went;
anything a running or resumable job may still need stays."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from archiver.cli import cli
from storage.local import LocalStore
from storage.records import new_record
from storage.runs import RunWriter

OLD = 1_577_836_800  # 2020-01-01: long before any --older-than


def _folder(path: Path, *, old: bool) -> Path:
    path.mkdir(parents=True)
    (path / "part.jsonl.gz").write_bytes(b"x" * 100)
    if old:
        os.utime(path, (OLD, OLD))
    return path


def test_gc_removes_stale_checkpoints_staging_and_killed_rebuilds(tmp_path, config_file):
    config = config_file()
    store = LocalStore(tmp_path / "store")
    committed = "20200102T000000000000Z-c0ffee"
    with RunWriter(
        store,
        account_id="42",
        account="x",
        kind="import",
        source="x-archive",
        tool_version="t",
        run_id=committed,
    ) as run:
        run.write(new_record(id="1", kind="post", account_id="42", source="x-archive"))
        run.commit()
    cps = "accounts/42/checkpoints/"
    store.put_bytes(f"{cps}{committed}/state.json", b'{"kind": "full"}')  # its run committed
    store.put_bytes(f"{cps}20200103T000000000000Z-bad000/state.json", b"not json")
    store.put_bytes(f"{cps}20200104T000000000000Z-0a0a0a/pages/tweets/000001.json.gz", b"x")
    resumable = f"{cps}20200105T000000000000Z-beef00/state.json"
    store.put_bytes(resumable, b'{"kind": "full"}')
    staging = tmp_path / "store" / ".staging"
    killed = _folder(staging / "run-20200101T000000000000Z-dead00-k1", old=True)
    running = _folder(staging / "run-20990101T000000000000Z-live00-k2", old=False)
    rebuild = _folder(tmp_path / ".index.rebuild-x1", old=True)

    result = CliRunner().invoke(cli, ["--config", str(config), "gc"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"removed stale checkpoint {cps}{committed}/",
        f"removed stale checkpoint {cps}20200103T000000000000Z-bad000/",
        f"removed stale checkpoint {cps}20200104T000000000000Z-0a0a0a/",
        f"removed staging left by a killed run: {killed}",
        f"removed a killed index rebuild: {rebuild}",
        "removed 0 objects of uncommitted runs",
    ]
    assert [k for k in store.list(cps)] == [resumable]
    assert not killed.exists() and running.exists() and not rebuild.exists()
    assert CliRunner().invoke(cli, ["--config", str(config), "gc"]).output.splitlines() == [
        "removed 0 objects of uncommitted runs"
    ]
