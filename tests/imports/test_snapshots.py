"""Followers and following from archive ZIPs are snapshots at each archive's generation date:
four archives of one account imported in any order give the newest snapshot as the current
view, the same gains and losses between consecutive snapshots (dated by them), and the lost
followers with when they were last seen and found gone, in the view and in search."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from archiver import memberships
from archiver.archive import Archive
from archiver.config import Config, IndexConfig, StorageConfig
from archiver.demo import write_demo_archive
from archiver.imports import import_path
from archiver.index import Index
from archiver.timestamps import iso


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> list[Path]:
    """Four archives of the demo account, generated a year apart (oldest first)."""
    folder = tmp_path_factory.mktemp("snapshots")
    return [
        write_demo_archive(folder / f"archive-{years}.zip", posts=120, years=years).path
        for years in (4, 5, 6, 7)
    ]


def _read(zip_path: Path, name: str) -> tuple[str, set[str]]:
    with zipfile.ZipFile(zip_path) as zf:
        manifest = json.loads(zf.read("data/manifest.js").decode().split("=", 1)[1])
        text = zf.read(f"data/{name}.js").decode()
    entries = json.loads(text.split("=", 1)[1])
    ids = {e[name]["accountId"] for e in entries}
    generated = manifest["archiveInfo"]["generationDate"]
    return generated, ids


def _import_all(tmp_path: Path, paths: list[Path], tag: str) -> Archive:
    archive = Archive(
        Config(
            storage=StorageConfig(path=str(tmp_path / tag / "store")),
            index=IndexConfig(path=str(tmp_path / tag / "index")),
        )
    )
    for path in paths:
        import_path(archive, str(path))
    return archive


def test_four_snapshots_in_any_order_give_the_newest_view(snapshots, tmp_path):
    dates, followers = zip(*(_read(p, "follower") for p in snapshots), strict=True)
    assert list(dates) == sorted(dates) and len(set(map(frozenset, followers))) == 4
    in_order = _import_all(tmp_path, snapshots, "in-order")
    shuffled = _import_all(tmp_path, [snapshots[i] for i in (2, 0, 3, 1)], "shuffled")
    account_id = in_order.accounts()[0].account_id

    views = []
    for archive in (in_order, shuffled):
        tl = memberships.timeline(archive.store, account_id, "followers")
        assert [s.at for s in tl.snapshots] == [iso(d) for d in dates]
        assert {m.user_id for m in tl.current()} == followers[-1]
        views.append(
            (
                sorted((m.user_id, m.last_seen, m.gone_at) for m in tl.ended()),
                [(e["type"], e["user_id"], e["at"]) for e in tl.changes],
            )
        )
    assert views[0] == views[1]
    ended, changes = views[0]
    # every change is dated by the snapshot it was found in, never by the import day
    expected = []
    for before, after, at in zip(followers, followers[1:], dates[1:], strict=False):
        when = iso(at)
        expected += [("follower_gained", u, when) for u in after - before]
        expected += [("follower_lost", u, when) for u in before - after]
    assert sorted(changes) == sorted(expected)
    lost = set().union(*followers[:-1]) - followers[-1]
    assert {u for u, _, _ in ended} == lost and lost
    for uid, last_seen, gone_at in ended:
        seen = [iso(d) for d, f in zip(dates, followers, strict=True) if uid in f]
        assert last_seen == seen[-1] and gone_at > last_seen

    # search lists the current followers, is:ended the lost ones: the same in either order
    for archive in (in_order, shuffled):
        index = Index(archive.config.index.path)
        index.update(archive)
        current = index.search("", kind="follower", per_page=1)
        gone = index.search("is:ended", kind="follower", per_page=1)
        assert (current.total, gone.total) == (len(followers[-1]), len(lost))

    # importing one of them again adds nothing
    again = import_path(shuffled, str(snapshots[1]))
    assert again.manifest is None
