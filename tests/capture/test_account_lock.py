"""One job per account, with real `archiver` processes on one store (a directory, and S3
on moto's server): a second backup or import gets one line naming the holder, a holder
killed with -9 blocks the account only until its lease expires, a waiting job then takes
over and resumes the killed run."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from xapi_dataset import POLICE

from storage.local import LocalStore
from storage.lock import AccountLock, current_lease
from storage.runs import list_runs
from storage.s3 import S3Store

ARCHIVER = [sys.executable, "-c", "from archiver.cli import main; main()"]
POSTS = "/2/users/:id/tweets"


def _storage_toml(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "local":
        return f'[storage]\nbackend = "local"\npath = "{tmp_path / "store"}"\n'
    bucket = request.getfixturevalue("make_bucket")()
    endpoint = request.getfixturevalue("s3_server")
    return (
        f'[storage]\nbackend = "s3"\nbucket = "{bucket}"\nendpoint_url = "{endpoint}"\n'
        'region = "eu-west-2"\nprefix = "archive"\n'
    )


def _store(backend: str, tmp_path: Path, request: pytest.FixtureRequest, toml: str):
    if backend == "local":
        return LocalStore(tmp_path / "store")
    bucket = toml.split('bucket = "')[1].split('"')[0]
    return S3Store(request.getfixturevalue("s3_client"), bucket, prefix="archive")


@pytest.fixture
def archiver_config(real_xapi, configure, tmp_path):
    """Write a config for POLICE against the double; return (config path, account)."""

    def make(storage_toml: str, lease: float):
        police = real_xapi.account(POLICE, posts=150, mentions=5)
        acc = configure(police)
        lines = [f'{k} = "{v}"' for k, v in dataclasses.asdict(acc).items() if v]
        path = tmp_path / "archiver.toml"
        path.write_text(
            storage_toml
            + f'[index]\npath = "{tmp_path / "index"}"\n'
            + f'[x_api]\nbase_url = "{real_xapi.url}"\nmax_retries = 2\n'
            + f'[capture]\nlease_seconds = {lease}\nmedia_hosts = ["127.0.0.1"]\n'
            + "[[accounts]]\n"
            + "\n".join(lines)
            + "\n",
            encoding="utf-8",
        )
        return path, police

    return make


def _await(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_two_backups_of_one_account_never_run_at_once(
    backend, real_xapi, archiver_config, tmp_path, request
):
    storage_toml = _storage_toml(backend, tmp_path, request)
    # renewed every third of the lease: 6 s keeps a late renewal on a loaded machine in time
    config, police = archiver_config(storage_toml, lease=6)
    store = _store(backend, tmp_path, request, storage_toml)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    real_xapi.stall_after(1, route=POSTS)  # the holder gets one page of posts, then hangs
    holder = subprocess.Popen(
        [*ARCHIVER, "--config", str(config), "backup"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _await(lambda: real_xapi.count(POSTS) >= 2, "the holder's second page of posts")
        second = subprocess.run(
            [*ARCHIVER, "--config", str(config), "backup"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        line = (
            f"error: account @{POLICE}: a backup is already running on {socket.gethostname()} "
            f"(pid {holder.pid}, since "
        )
        assert line in second.stderr, second.stderr
        assert "already exists" not in second.stderr and "Traceback" not in second.stderr

        holder.kill()  # SIGKILL: the lease is never released
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
        real_xapi.release()
    lease = current_lease(store, police.id)
    assert lease is not None and lease.pid == holder.pid and not lease.released

    third = subprocess.run(
        [*ARCHIVER, "--config", str(config), "backup", "--wait", "90"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert third.returncode == 0, third.stderr
    assert "took over the lock of backup" in third.stderr
    assert "(resumed)" in third.stdout
    (run,) = [m for m in list_runs(store) if m.account == POLICE]
    assert run.counts["tweets"] == 150


def test_an_import_of_a_locked_account_says_who_holds_it(tmp_path):
    """`archiver import` takes the same lock (held here by a job in this process)."""
    from click.testing import CliRunner

    from archiver.cli import cli
    from archiver.demo.archive_zip import write_demo_archive

    demo = write_demo_archive(tmp_path / "demo.zip", posts=30)
    config = tmp_path / "archiver.toml"
    config.write_text(
        f'[storage]\nbackend = "local"\npath = "{tmp_path / "store"}"\n'
        f'[index]\npath = "{tmp_path / "index"}"\n',
        encoding="utf-8",
    )
    store = LocalStore(tmp_path / "store")
    args = ["--config", str(config), "import", str(demo.path)]
    with AccountLock(store, demo.account_id, account=demo.username, lease=60) as lock:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1
        assert result.output.strip() == lock.held.describe().join(["error: ", ""])
    assert list_runs(store) == []
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert len(list_runs(store)) == 1


def test_the_scheduler_skips_a_locked_account_with_a_notice(xapi, configure, tmp_path, caplog):
    from archiver.archive import Archive
    from archiver.config import CaptureConfig, Config, IndexConfig, StorageConfig, XApiConfig
    from archiver.schedule import run_job

    police = xapi.account(POLICE, posts=20)
    archive = Archive(
        Config(
            storage=StorageConfig(path=str(tmp_path / "store")),
            index=IndexConfig(path=str(tmp_path / "index")),
            x_api=XApiConfig(base_url=xapi.url),
            capture=CaptureConfig(media_hosts=("127.0.0.1",)),
            accounts=(configure(police),),
        )
    )
    with AccountLock(archive.store, police.id, account=POLICE, lease=60) as lock:
        holder = lock.held
        outcome = run_job(archive, "incremental")
    assert outcome.ok and holder is not None  # not a failure: tried again at the next slot
    assert outcome.lines[0] == f"skipped: {holder.describe()}"
    assert "skipping: account @ExampleshirePolice: a backup is already running" in caplog.text
    assert list_runs(archive.store) == []
    assert run_job(archive, "incremental").ok and len(list_runs(archive.store)) == 1
