"""A kill -9 at any moment of an import leaves no partial run; the next import completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile

from storage.local import LocalStore
from storage.lock import current_lease
from storage.runs import list_runs, uncommitted_objects, verify_run
from storage.view import current_view

from .conftest import OWNER, tweet, write_archive, ytd

POSTS = 1000


def big_archive(path):
    posts = []
    for i in range(POSTS):
        media = {
            "id_str": str(i),
            "type": "photo",
            "media_url_https": f"https://pbs.twimg.com/media/M{i}.jpg",
        }
        posts.append(
            tweet(str(10**6 + i), f"post number {i}", extended_entities={"media": [media]})
        )
    write_archive(path, {"tweets.js": ytd("tweets", posts)})
    with zipfile.ZipFile(path, "a") as zf:  # a thousand media files make the upload take a while
        for i in range(POSTS):
            zf.writestr(f"data/tweets_media/{10**6 + i}-M{i}.jpg", b"\xff\xd8" + bytes(1000))
    return path


def _files(root) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def _await(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_kill_during_import_never_leaves_a_partial_run(tmp_path):
    archive_zip = big_archive(tmp_path / "big.zip")
    env = {**os.environ, "ARCHIVER_STORAGE__PATH": str(tmp_path / "store")}
    command = [
        sys.executable,
        "-c",
        "from archiver.cli import main; main()",
        "import",
        str(archive_zip),
    ]
    store = LocalStore(tmp_path / "store")
    # kill points by progress, not by clock (a loaded machine moves every fixed delay): before
    # anything is written, as the first objects land, mid-upload, near the end. A killed
    # import's lease (short here) blocks the account until it expires: await that, then go on.
    killed = {**env, "ARCHIVER_CAPTURE__LEASE_SECONDS": "1"}
    for written in (0, 1, POSTS // 3, POSTS * 4 // 5):
        before = _files(store.root)
        proc = subprocess.Popen(
            command, env=killed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _await(
            lambda p=proc, b=before, w=written: p.poll() is not None or _files(store.root) - b >= w,
            f"{written} objects written",
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for manifest in list_runs(store):  # whatever survived is whole
            assert manifest.counts == {"tweets": POSTS}
            assert len(manifest.objects) == POSTS + 3  # records, manifest.js, tweets.js, media
            assert verify_run(store, manifest) == []
        _await(
            lambda: (lease := current_lease(store, OWNER["accountId"])) is None or lease.free,
            "the killed import's lease to expire",
        )
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    items = list(current_view(store, OWNER["accountId"]))
    assert len(items) == POSTS
    assert all(len(i.versions) == 1 for i in items)
    # what the killed imports wrote in place (media before the manifest) is garbage of runs
    # without a manifest, and `archiver gc` removes exactly that
    # (the kill a third of the way through the media leaves some, always)
    committed = list_runs(store)
    garbage = uncommitted_objects(store)
    assert garbage and not {key.split("/")[3] for key in garbage} & {m.run_id for m in committed}
    swept = subprocess.run(
        [*command[:3], "gc", "--older-than", "0"], env=env, capture_output=True, text=True
    )
    assert swept.returncode == 0, swept.stderr
    assert uncommitted_objects(store) == []
    assert list_runs(store) == committed
    assert all(verify_run(store, m) == [] for m in committed)
