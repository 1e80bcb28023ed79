"""The demo archive, split into tweets-partN.js files, imports whole: every part, every media
file, the edit chains and the long posts."""

from __future__ import annotations

from archiver.archive import Archive
from archiver.config import Config, StorageConfig
from archiver.demo import write_demo_archive
from archiver.imports import import_path
from storage.view import current_view


def test_split_parts_media_edits_and_notes(tmp_path):
    summary = write_demo_archive(tmp_path / "parts.zip", posts=600, part_size=150)
    archive = Archive(Config(storage=StorageConfig(path=str(tmp_path / "store"))))
    result = import_path(archive, str(summary.path))
    assert result.warnings == []
    assert result.read["tweets"] == summary.tweets + summary.deleted
    [run] = archive.runs()
    kept = [o.key for o in run.objects]
    parts = sorted(k for k in kept if k.startswith("files/data/tweets") and k.endswith(".js"))
    assert parts == sorted(f"files/data/tweets{p}.js" for p in ("", "-part1", "-part2", "-part3"))
    assert sum("/tweets_media/" in k for k in kept) == summary.media_files
    items = [i for i in current_view(archive.store, summary.account_id, ["tweets"])]
    assert sum(len(i.versions) == 2 for i in items) == summary.edited
    assert sum(i.deleted_at is not None for i in items) == summary.deleted
    kinds: dict[str, int] = {}
    for item in items:
        for version in item.versions:
            if not version["deleted_at"]:
                kinds[version["kind"]] = kinds.get(version["kind"], 0) + 1
    assert kinds == summary.kinds
    notes = [i.latest for i in items if "noteTweet" in i.latest["raw"]]
    assert len(notes) == summary.note_tweets
    assert all(not n["text"].endswith("…") for n in notes)
