"""Shared fixtures: real stores (a directory, an S3 server on loopback), samples, an archive."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import tempfile
import threading
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Hypothesis writes ./.hypothesis while tests are collected, before any fixture runs: point it
# at a temporary folder first (the session fixture below then moves it into pytest's tmp).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp(prefix="sa-hypothesis-"))

from archiver.archive import Archive
from archiver.config import Config, StorageConfig, load_config
from archiver.demo import write_demo_archive
from storage.local import LocalStore
from storage.s3 import S3Store, make_s3_client

# the founders' samples sit beside the checkout: ../shared/samples
_BESIDE = Path(__file__).resolve().parents[2] / "shared"
SHARED = Path(os.environ.get("SOCIAL_ARCHIVE_SHARED") or _BESIDE)
SAMPLES = SHARED / "samples"


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_home(tmp_path_factory):
    """Hypothesis keeps its example database and Unicode tables in ./.hypothesis by default."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture(scope="session")
def samples() -> Path:
    """The founders' real samples: an extra set, run when they are there."""
    if not SAMPLES.is_dir():
        pytest.skip(
            f"the founders' samples are not at {SAMPLES} (set SOCIAL_ARCHIVE_SHARED to run "
            "the real-sample set)"
        )
    return SAMPLES


@dataclass(frozen=True)
class ArchiveToImport:
    """An official archive folder (2020+ layout) and what a test expects of it, read from
    its files."""

    path: Path
    username: str
    account_id: str
    tweets: int  # entries in tweets.js and deleted-tweets.js
    word: str  # a handle mentioned in one post only...
    post_id: str  # ...that post


def _data_file(path: Path) -> Any:
    text = path.read_text(encoding="utf-8") if path.exists() else "=[]"
    return json.loads(text.partition("=")[2])


def _archive_to_import(folder: Path) -> ArchiveToImport:
    data = folder / "data"
    owner = _data_file(data / "manifest.js")["userInfo"]
    tweets = [e["tweet"] for e in _data_file(data / "tweets.js")]
    mentioned = Counter(m["screen_name"] for t in tweets for m in t["entities"]["user_mentions"])
    post = next(
        t
        for t in tweets
        if len(t.get("edit_info", {}).get("initial", {}).get("editTweetIds", [1])) == 1
        and any(mentioned[m["screen_name"]] == 1 for m in t["entities"]["user_mentions"])
    )
    word = next(m for m in post["entities"]["user_mentions"] if mentioned[m["screen_name"]] == 1)
    return ArchiveToImport(
        folder,
        owner["userName"],
        owner["accountId"],
        len(tweets) + len(_data_file(data / "deleted-tweets.js")),
        word["screen_name"],
        post["id_str"],
    )


@pytest.fixture(params=["demo", "sample"])
def archive_to_import(request, tmp_path_factory) -> ArchiveToImport:
    """An archive to import: the demo generator's (small, unpacked), or the founders' real
    one (an extra set: skipped, with the reason, when the samples are absent)."""
    if request.param == "sample":
        return _archive_to_import(request.getfixturevalue("samples") / "archive-2026-03_milahu104")
    root = tmp_path_factory.mktemp("archive-to-import")
    summary = write_demo_archive(root / "demo.zip", posts=60, seed=3, years=1, start_year=2025)
    with zipfile.ZipFile(summary.path) as zf:
        zf.extractall(root / "demo")
    return _archive_to_import(root / "demo")


@pytest.fixture(autouse=True)
def _cache_home(tmp_path_factory, monkeypatch):
    """S3 archives stage runs and keep their index in the user's cache directory, and the
    UI's users in its state directory, by default: keep both in tmp."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache-home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "state-home"))


_TOOL_CACHES = {".pytest_cache", ".mypy_cache", ".ruff_cache", "__pycache__"}


def _listing(root: Path, skip: Path) -> set[str]:
    """Names in `root` and one level below: enough to see a test write beside the suite."""
    names = set()
    for entry in root.iterdir():
        if entry.name in _TOOL_CACHES or entry == skip:
            continue
        names.add(entry.name)
        if entry.is_dir() and not entry.is_symlink() and entry.name not in (".git", ".venv"):
            with contextlib.suppress(OSError):
                names.update(
                    f"{entry.name}/{child.name}"
                    for child in entry.iterdir()
                    if child.name not in _TOOL_CACHES and child != skip
                )
    return names


@pytest.fixture(scope="session", autouse=True)
def _working_directory_untouched(tmp_path_factory):
    """Tests work only in their tmp dirs: the suite fails if the working directory changed."""
    cwd = Path.cwd()
    skip = tmp_path_factory.getbasetemp().parent  # pytest's own, should cwd hold it
    before = _listing(cwd, skip)
    yield
    assert Path.cwd() == cwd, f"a test left the working directory at {Path.cwd()}"
    after = _listing(cwd, skip)
    changed = sorted(after - before) + [f"(removed) {n}" for n in sorted(before - after)]
    assert not changed, f"tests wrote to the working directory {cwd}: {', '.join(changed)}"


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def _atomic_conditional_writes() -> None:
    """moto checks a PUT's If-None-Match / If-Match (and a multipart completion's) and then
    writes, with no lock between: two racing conditional writes of one key can both
    succeed, which S3 never allows (its conditional writes are atomic; the account lock
    relies on it). Serialise moto's object writes so the double keeps S3's promise."""
    from moto.s3.responses import S3Response

    lock = threading.Lock()
    for name in ("put_object", "_key_response_post"):
        original = getattr(S3Response, name, None)
        if original is None or getattr(original, "_serialised", False):
            continue

        def serialised(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        serialised._serialised = True  # type: ignore[attr-defined]
        setattr(S3Response, name, functools.wraps(original)(serialised))


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 API server on 127.0.0.1 with a free port; boto3 talks HTTP to it."""
    from moto.server import ThreadedMotoServer

    _atomic_conditional_writes()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-2")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def fault_proxy(s3_server):
    """The fault-injecting proxy (tests/storage/s3_fault_proxy.py) in front of moto."""
    sys.path.insert(0, str(Path(__file__).parent / "storage"))
    from s3_fault_proxy import FaultProxy

    proxy = FaultProxy(s3_server).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def faulty_store(fault_proxy, s3_bucket):
    """An S3Store whose requests go through the fault proxy, with millisecond backoff."""
    from storage.retry import RetryPolicy

    client = make_s3_client(endpoint_url=fault_proxy.url, region="eu-west-2", timeout=10)
    policy = RetryPolicy(max_retries=6, backoff_base=0.001, backoff_cap=0.01)
    return S3Store(client, s3_bucket, prefix="archive", policy=policy)


@pytest.fixture(scope="session")
def s3_client(s3_server):
    return make_s3_client(endpoint_url=s3_server, region="eu-west-2")


def _new_bucket(client, *, versioning: bool = False, lock: bool = False) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    kwargs: dict[str, Any] = {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-2"}}
    if lock:
        kwargs["ObjectLockEnabledForBucket"] = True
    client.create_bucket(Bucket=name, **kwargs)
    if versioning and not lock:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def s3_bucket(s3_client) -> str:
    return _new_bucket(s3_client)


@pytest.fixture
def make_bucket(s3_client):
    return lambda **kw: _new_bucket(s3_client, **kw)


@pytest.fixture
def s3_store(s3_client, s3_bucket) -> S3Store:
    return S3Store(s3_client, s3_bucket, prefix="archive")


@pytest.fixture(params=["local", "s3"])
def any_store(request, tmp_path):
    """The same contract test against both backends."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    return request.getfixturevalue("s3_store")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(storage=StorageConfig(path=str(tmp_path / "store")))


@pytest.fixture
def archive(config: Config) -> Archive:
    return Archive(config)


@pytest.fixture
def config_file(tmp_path: Path):
    """Write a TOML config under tmp_path and return its path."""

    def write(text: str = "") -> Path:
        path = tmp_path / "archiver.toml"
        base = f'[storage]\nbackend = "local"\npath = "{tmp_path / "store"}"\n'
        base += f'[index]\npath = "{tmp_path / "index"}"\n'
        path.write_text(base + text, encoding="utf-8")
        load_config(path)  # fail early if a test writes a bad config by mistake
        return path

    return write


@pytest.fixture
def commit_run():
    """commit_run(store, {new_record fields}, ...) -> the manifest of one committed run, for
    account 42 (@ExampleshirePolice) from the API unless told otherwise; each record gets the
    run's account and source unless it names its own."""
    from storage.records import new_record
    from storage.runs import RunWriter

    def commit(
        store,
        *records: dict[str, Any],
        account_id: str = "42",
        account: str = "ExampleshirePolice",
        kind: str = "incremental",
        source: str = "x-api-v2",
        **run_fields: Any,
    ):
        with RunWriter(
            store,
            account_id=account_id,
            account=account,
            kind=kind,
            source=source,
            tool_version="test",
            **run_fields,
        ) as run:
            for fields in records:
                base = {"account": account, "account_id": account_id, "source": source}
                run.write(new_record(**{**base, **fields}))
            return run.commit()

    return commit


@pytest.fixture
def commit_post(commit_run):
    """Commit a one-post incremental run for account 42 (@ExampleshirePolice)."""

    def commit(store, n: int, account_id: str = "42"):
        post = {"id": str(1000 + n), "kind": "post", "text": f"post {n}"}
        return commit_run(store, post, account_id=account_id)

    return commit


# -- alert sinks on loopback: a real SMTP server and a real HTTP server --------------------
@pytest.fixture
def smtp_sink():
    """aiosmtpd on 127.0.0.1; `.messages` are the e-mails it accepted; `.refuse = N` makes
    it refuse the next N messages (554)."""
    import threading
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self) -> None:
            self.messages: list = []
            self.refuse = 0
            self.attempts = 0
            self.received = threading.Event()

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            self.attempts += 1
            if self.refuse:
                self.refuse -= 1
                return "554 Transaction failed: not today"
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.received.set()
            return "250 OK"

    import socket

    with socket.socket() as probe:  # aiosmtpd checks it is up by connecting: no port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def webhook_sink():
    """An HTTP server on 127.0.0.1 that keeps every POST; `.statuses` is a list of statuses
    to answer first (then 200), `.delay` seconds to wait before answering."""
    import threading
    import time as _time

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    class Sink:
        def __init__(self) -> None:
            self.requests: list[tuple[dict, bytes]] = []
            self.statuses: list[int] = []
            self.delay = 0.0
            self.attempts = 0
            self.url = ""

        def __call__(self, environ, start_response):
            request = Request(environ)
            self.attempts += 1
            if self.delay:
                _time.sleep(self.delay)
            status = self.statuses.pop(0) if self.statuses else 200
            if status == 200:
                self.requests.append((dict(request.headers), request.get_data()))
            return Response("ok" if status == 200 else "no", status=status)(environ, start_response)

    sink = Sink()
    server = make_server("127.0.0.1", 0, sink, threaded=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    sink.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield sink
    server.shutdown()
    server.server_close()
