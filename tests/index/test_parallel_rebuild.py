"""A rebuild in worker processes (parallel.py) holds what one process's rebuild holds: the
same items, documents, answers and meta; a failing or dying worker changes nothing."""

from __future__ import annotations

import functools
import logging
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.archive import Archive
from archiver.config import Config, ConfigError, StorageConfig, load_config
from archiver.index import Index, SearchIndexError, parallel, sidecars
from archiver.index import schema as f
from archiver.index.writing import IndexMeta
from storage.errors import NoSpace, StorageError
from storage.manifest import Manifest, ObjectEntry
from storage.runs import list_runs

from .conftest import (
    FIRE,
    POLICE,
    Runs,
    commit_with_a_record_without_id,
    deletion,
    ids,
    item_words,
    post,
    view_items,
)
from .test_updates import WORDS, answers, synthetic_posts

TRAFFIC = ("3003", "ExampleshireRoads")


def stored_documents(index: Index) -> dict[str, object]:
    """Every live document's stored fields, by key (document numbers differ)."""
    with index._current().searcher() as searcher:
        return {
            fields[f.KEY]: fields.get(f.STATE)
            for docnum, fields in searcher.iter_docs()
            if fields[f.KEY] != f.META_KEY
        }


def meta_of(index: Index) -> IndexMeta:
    return index.meta()


def fill(runs: Runs) -> None:
    """Three accounts: edits, deletions before and after their posts, a second pass."""
    rng = random.Random(5)
    for account, start in ((POLICE, 1000), (FIRE, 2000), (TRAFFIC, 3000)):
        runs.commit([], account=account, events=[deletion(str(start + 7))])
        runs.commit(synthetic_posts(rng, start, 120, account=account), account=account)
        edits = [
            post(
                start + 500 + i,
                f"{rng.choice(WORDS)} edited",
                account=account,
                edit_history_ids=[str(start + i), str(start + 500 + i)],
                created_at="2024-07-01T10:00:00.000Z",
            )
            for i in range(0, 40, 5)
        ]
        runs.commit(
            edits + synthetic_posts(rng, start + 200, 30, account=account),
            account=account,
            events=[deletion(str(start + i)) for i in range(1, 50, 9)],
        )


def test_workers_build_the_same_index_as_one_process(archive, runs, tmp_path, caplog):
    fill(runs)
    single = Index(tmp_path / "single")
    single.rebuild(archive, workers=1)
    caplog.set_level(logging.INFO)
    split = Index(tmp_path / "split")
    assert split.rebuild(archive, workers=3) == single.doc_count()
    # three processes, one segment each, and the meta document's
    assert len(split._current()._segments()) >= 3
    assert stored_documents(split) == stored_documents(single)
    assert answers(split) == answers(single)
    one, three = meta_of(single), meta_of(split)
    assert (three.runs, three.accounts, three.orphans) == (one.runs, one.accounts, one.orphans)
    assert split.last_update.runs == len(list_runs(archive.store))
    items = view_items(archive)
    assert split.doc_count() == len(items)
    assert sorted(split.iter_ids("appeal")) == ids(i for i in items if "appeal" in item_words(i))
    assert sorted(split.iter_ids("is:deleted")) == ids(i for i in items if i.deleted_at)
    assert not (split.path / parallel.PARTS).exists()
    assert not list(tmp_path.glob(".split.*"))
    # and the index goes on like any other: an update after the rebuild
    runs.commit([post(9999, "appeal after the rebuild", account=FIRE)], account=FIRE)
    assert split.update(archive) == 1
    assert "9999" in split.iter_ids("appeal")


def test_the_workers_sidecars_come_along(archive, runs, tmp_path):
    rng = random.Random(8)
    for account, start in ((POLICE, 10_000), (FIRE, 20_000)):
        runs.commit(
            synthetic_posts(rng, start, sidecars.MIN_POSTINGS + 50, account=account),
            account=account,
        )
    index = Index(tmp_path / "index")
    index.rebuild(archive, workers=2)
    with index._current().searcher() as searcher:
        segments = [
            r.segment().segment_id()
            for r, _ in searcher.reader().leaf_readers()
            if r.doc_count_all() >= sidecars.MIN_POSTINGS
        ]
    assert len(segments) == 2
    assert {p.name for p in (index.path / sidecars.DIRNAME).iterdir()} == {
        sidecars.folder_name(s) for s in segments
    }
    cold = Index(index.path)  # a fresh reader maps them: the same answers as Whoosh's
    assert cold.search("appeal").total == len(list(cold.iter_ids("appeal"))) > 0
    assert cold._sidecars._segment(segments[0]) is not None


def test_a_workers_warning_reaches_the_log_of_the_rebuild(archive, runs, tmp_path, caplog):
    runs.commit([post(1, "Kept")], account=FIRE)
    commit_with_a_record_without_id(archive, 2)
    index = Index(tmp_path / "index")
    index.rebuild(archive, workers=2)
    assert sorted(index.iter_ids("")) == ["1", "2"]
    assert "skipped a tweets record without id or kind" in caplog.text


def test_progress_counts_every_workers_records(archive, runs, tmp_path):
    fill(runs)
    seen: list[tuple[int, int]] = []
    Index(tmp_path / "index").rebuild(archive, lambda d, t: seen.append((d, t)), workers=2)
    total = sum(o.records or 0 for m in list_runs(archive.store) for o in m.objects)
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_damaged_run_fails_the_rebuild_and_keeps_the_index(archive, runs, tmp_path):
    fill(runs)
    index = Index(tmp_path / "index")
    index.rebuild(archive, workers=1)
    before = answers(index)
    fire = next(
        m for m in list_runs(archive.store) if m.account_id == FIRE[0] and m.counts.get("tweets")
    )
    obj = fire.collection("tweets")
    assert obj is not None
    path = archive.store.root / (fire.prefix + obj.key)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a cut gzip member
    with pytest.raises(StorageError):
        index.rebuild(archive, workers=2)
    assert answers(index) == before
    assert not list(tmp_path.glob(".index.rebuild-*"))


def test_a_worker_that_dies_fails_the_rebuild_with_one_line(archive, runs, tmp_path):
    fill(runs)
    shares = parallel.partition(list_runs(archive.store), 2)
    assert len(shares) == 2
    with pytest.raises(SearchIndexError, match=r"worker \d stopped unexpectedly \(exit code 3\)"):
        parallel.build_parts(tmp_path / "build", functools.partial(os._exit, 3), shares, ("UTC",))


def test_a_full_disk_in_a_worker_is_the_same_error_in_the_parent():
    # what a worker sends back: the exception itself when it survives pickling as it was
    err = parallel._portable(NoSpace("/srv/index", "no space left on /srv/index"))
    assert isinstance(err, NoSpace)
    assert (err.path, str(err)) == ("/srv/index", "no space left on /srv/index")


def test_a_store_handed_in_is_not_reopened_by_workers(s3_store, archive, runs, tmp_path):
    # an S3 store built by the caller cannot be opened from the config: one process builds
    s3_archive = Archive(Config(storage=StorageConfig(path=str(tmp_path / "no"))), store=s3_store)
    assert s3_archive.store_opener() is None
    assert archive.store_opener() is not None
    s3 = Runs(s3_archive)
    s3.commit([post(1, "In a bucket")])
    s3.commit([post(2, "In a bucket too", account=FIRE)], account=FIRE)
    index = Index(tmp_path / "index")
    assert index.rebuild(s3_archive, workers=2) == 2


def test_workers_open_an_s3_store_from_the_config(s3_server, s3_bucket, tmp_path):
    cfg = StorageConfig(
        backend="s3", bucket=s3_bucket, prefix="archive", endpoint_url=s3_server, region="eu-west-2"
    )
    s3_archive = Archive(Config(storage=cfg))
    s3 = Runs(s3_archive)
    s3.commit([post(1, "appeal in a bucket")])
    s3.commit([post(2, "appeal in a bucket too", account=FIRE)], account=FIRE)
    index = Index(tmp_path / "index")
    assert index.rebuild(s3_archive, workers=2) == 2
    assert len(index._current()._segments()) == 3  # two workers' and the meta's
    assert sorted(index.iter_ids("appeal")) == ["1", "2"]


def _manifest(account: str, run: int, records: int) -> Manifest:
    entry = ObjectEntry("tweets.jsonl.gz", 1, "0" * 64, records=records, collection="tweets")
    return Manifest(
        run_id=f"2024-01-01T00-00-{run:02d}Z",
        account_id=account,
        account=f"a{account}",
        kind="import",
        source="x-archive",
        started_at="2024-01-01T00:00:00Z",
        committed_at="2024-01-01T00:00:00Z",
        tool_version="test",
        objects=(entry,),
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    runs=st.lists(st.tuples(st.integers(1, 12), st.integers(0, 5000)), min_size=0, max_size=40),
    workers=st.integers(1, 6),
)
def test_shares_are_whole_accounts_in_run_order_and_balanced(runs, workers):
    manifests = [_manifest(str(a), i, n) for i, (a, n) in enumerate(runs)]
    shares = parallel.partition(manifests, workers)
    accounts = {m.account_id for m in manifests}
    assert len(shares) == (min(workers, len(accounts)) if len(accounts) > 1 else min(1, len(runs)))
    # every run once, in its order within its share; an account in one share only
    assert sorted(m.run_id for s in shares for m in s) == sorted(m.run_id for m in manifests)
    for share in shares:
        assert [manifests.index(m) for m in share] == sorted(manifests.index(m) for m in share)
    owners = [{m.account_id for m in s} for s in shares]
    assert sum(len(o) for o in owners) == len(set().union(*owners))
    # greedy by size: no share exceeds the mean by more than the largest account
    if len(shares) > 1:
        per_account: dict[str, int] = {}
        for m in manifests:
            per_account[m.account_id] = per_account.get(m.account_id, 0) + m.objects[0].records
        loads = [sum(m.objects[0].records for m in s) for s in shares]
        assert max(loads) <= sum(loads) / len(loads) + max(per_account.values())


def test_below_the_threshold_one_process_builds():
    manifests = [_manifest("1", 0, 10), _manifest("2", 1, 10)]
    assert len(parallel.partition(manifests, 2, min_records=21)) == 1
    assert len(parallel.partition(manifests, 2, min_records=20)) == 2


@pytest.mark.parametrize("value", ["-1", "65", '"two"'])
def test_rebuild_workers_out_of_range_is_one_line(config_file, value):
    with pytest.raises(ConfigError, match="rebuild_workers"):
        load_config(config_file(f"rebuild_workers = {value}\n"))
