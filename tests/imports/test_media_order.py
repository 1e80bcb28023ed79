"""An archive's media files are read in the order the ZIP stores them (each next member
without a seek), whatever the order of the posts that name them; every one is kept."""

from __future__ import annotations

import hashlib
import zipfile

from archiver.archive import Archive
from archiver.config import Config, StorageConfig
from archiver.imports import import_path
from archiver.imports.files import FolderFiles, ZipFiles
from storage.runs import list_runs, verify_run

from .conftest import tweet, write_archive, ytd


def test_media_are_read_in_stored_order_and_all_kept(tmp_path):
    posts, names = [], []
    for i in range(6):
        media = {"id_str": str(i), "type": "photo", "media_url_https": f"https://x/M{i}.jpg"}
        posts.append(tweet(str(10**6 + i), f"post {i}", extended_entities={"media": [media]}))
        names.append(f"data/tweets_media/{10**6 + i}-M{i}.jpg")
    path = write_archive(tmp_path / "a.zip", {"tweets.js": ytd("tweets", posts)})
    with zipfile.ZipFile(path, "a") as zf:  # stored in the reverse of the posts' order
        for name in reversed(names):
            zf.writestr(name, name.encode() * 50)
    files = ZipFiles(path)
    assert sorted(names, key=files.position) == list(reversed(names))
    files.close()
    (tmp_path / "folder").mkdir()
    assert FolderFiles(tmp_path / "folder").position("any") == 0

    archive = Archive(Config(storage=StorageConfig(path=str(tmp_path / "store"))))
    import_path(archive, str(path))
    [run] = list_runs(archive.store)
    kept = {o.key: o.sha256 for o in run.objects if "_media/" in o.key}
    assert kept == {f"files/{n}": hashlib.sha256(n.encode() * 50).hexdigest() for n in names}
    assert verify_run(archive.store, run) == []
