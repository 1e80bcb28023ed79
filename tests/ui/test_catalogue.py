"""Item pages read only the item's lines from the runs the index names, and agree with the
full merge of the account's history (storage.view.merge_runs) item for item."""

from __future__ import annotations

import time

import pytest
from ui_story import police_post, police_run

from archiver.index import Index
from search_ui.catalogue import Catalogue
from storage.errors import StorageError
from storage.records import dumps
from storage.runs import RunCache, find_records, iter_records, list_runs
from storage.view import merge_runs


def _full_view(archive):
    """Every item of every account, merged the slow way: the reference."""
    out = {}
    for account_id in {m.account_id for m in list_runs(archive.store)}:
        for (coll, key), item in merge_runs(archive.store, archive.runs(account_id)).items():
            out[(account_id, coll, key)] = item
    return out


def _same(found, item):
    assert found.item.versions == item.versions
    assert found.item.deleted_at == item.deleted_at
    assert found.item.runs == item.runs
    assert [m.run_id for m in found.runs] == item.runs


@pytest.mark.ui_template("demo")
def test_every_item_matches_the_full_merge_with_and_without_the_index(ui_archive, ui_root):
    reference = _full_view(ui_archive)
    index = Index(ui_root / "index")
    with_index = Catalogue(ui_archive, max_items=10)
    without = Catalogue(ui_archive)
    checked = 0
    for (account_id, coll, key), item in sorted(reference.items())[:: max(1, len(reference) // 40)]:
        for catalogue, idx in ((with_index, index), (without, None)):
            found = [
                f
                for f in catalogue.find(key, idx)
                if f.account.account_id == account_id and f.item.collection == coll
            ]
            assert len(found) == 1, (key, coll)
            _same(found[0], item)
        checked += 1
    assert checked >= 20
    assert len(with_index._found) == 10  # the cache stays within its size


def test_an_edited_post_is_found_by_any_version_and_a_deletion_applies(ui_archive, ui_root):
    reference = _full_view(ui_archive)
    edited = next(i for i in reference.values() if len(i.versions) > 1)
    deleted = next(i for i in reference.values() if i.deleted_at)
    catalogue = Catalogue(ui_archive)
    index = Index(ui_root / "index")
    for version in edited.versions:
        (found,) = [f for f in catalogue.find(version["id"], index) if f.item.key == edited.key]
        _same(found, edited)
    (found,) = [f for f in catalogue.find(deleted.key, index) if f.item.key == deleted.key]
    assert found.item.deleted_at == deleted.deleted_at


def test_a_new_run_changes_what_is_found_at_the_next_listing(ui_archive, ui_root):
    catalogue = Catalogue(ui_archive, recheck_seconds=0)
    index = Index(ui_root / "index")
    (before,) = catalogue.find("1001", index)
    with police_run(ui_archive.store) as run:
        run.write(police_post("1001", "A new text for the same id", "2024-06-01T08:00:00Z"))
        run.commit()
    (after,) = catalogue.find("1001", index)  # the index does not hold the run yet
    assert len(after.item.versions) == len(before.item.versions) + 1
    assert after.item.latest["text"] == "A new text for the same id"


def test_find_records_decodes_only_lines_that_name_the_ids(ui_archive):
    manifest = next(m for m in ui_archive.runs() if m.collection("tweets"))
    every = list(iter_records(ui_archive.store, manifest, "tweets"))
    ids = {every[0]["id"], every[-1]["id"], "no-such-id"}
    got = list(find_records(ui_archive.store, manifest, "tweets", ids))
    assert [r for r in got if r["id"] in ids] == [r for r in every if r["id"] in ids]
    assert all(any(f'"{i}"' in dumps(r).decode() for i in ids) for r in got)
    assert list(find_records(ui_archive.store, manifest, "tweets", set())) == []


def test_a_run_cache_gives_the_same_records_and_stays_within_its_size(ui_archive):
    manifest = next(m for m in ui_archive.runs() if m.collection("tweets"))
    every = list(iter_records(ui_archive.store, manifest, "tweets"))
    ids = {every[0]["id"], every[-1]["id"]}
    streamed = list(find_records(ui_archive.store, manifest, "tweets", ids))
    cache = RunCache(1 << 20)
    first = list(find_records(ui_archive.store, manifest, "tweets", ids, cache))
    key = manifest.prefix + manifest.collection("tweets").key
    assert cache.get(key) is not None  # small: kept decompressed
    assert list(find_records(ui_archive.store, manifest, "tweets", ids, cache)) == first
    assert first == streamed
    tiny = RunCache(16)  # nothing fits: streamed every time, nothing kept
    assert list(find_records(ui_archive.store, manifest, "tweets", ids, tiny)) == streamed
    assert tiny.get(key) is None


def test_a_listing_for_healthz_runs_in_the_background_and_reports_its_failure(ui_archive, ui_root):
    catalogue = Catalogue(ui_archive, recheck_seconds=0)
    first = catalogue.accounts(wait=False)  # nothing listed yet: this one lists
    assert [s.account.username for s in first]
    for manifest in (ui_root / "store" / "accounts").rglob("manifest.json"):
        manifest.write_text("{}")  # every run unreadable from now on
    deadline = time.monotonic() + 30
    while True:  # answered from the last listing until the background one has failed
        try:
            assert catalogue.accounts(wait=False) == first
        except StorageError as exc:
            assert "unknown manifest format" in str(exc)
            break
        assert time.monotonic() < deadline, "the background listing never reported"
        time.sleep(0.01)
    with pytest.raises(StorageError):
        catalogue.accounts()  # a page waits for its own listing, which fails too
