"""Each account's manifests form a hash chain: an altered, removed, inserted or forked
manifest is named; a store from before chaining is linked without rewriting a run."""

from __future__ import annotations

import orjson

from storage.chain import account_manifests, chain_head, check_chain, clear_cache, walk_back
from storage.local import LocalStore
from storage.manifest import MANIFEST, Manifest
from storage.runs import run_prefix


def path_of(store: LocalStore, m: Manifest):
    return store.root / (run_prefix(m.account_id, m.run_id) + MANIFEST)


def problems(store) -> list[str]:
    return [p.problem for p in check_chain(account_manifests(store, "42"))]


def test_runs_link_to_the_previous_manifest_by_hash(any_store, commit_post):
    runs = [commit_post(any_store, i) for i in range(3)]
    stored = account_manifests(any_store, "42")
    assert runs[0].chain is not None and runs[0].chain.previous is None
    for before, after in zip(stored, stored[1:], strict=False):
        assert after.manifest.chain.previous.run_id == before.run_id
        assert after.manifest.chain.previous.sha256 == before.sha256
    assert check_chain(stored) == []
    head = chain_head(stored)
    assert (head.run_id, head.runs, head.chained) == (runs[-1].run_id, 3, True)


def test_an_edited_manifest_is_named(local_store, commit_post):
    runs = [commit_post(local_store, i) for i in range(3)]
    path = path_of(local_store, runs[1])
    doc = orjson.loads(path.read_bytes())
    doc["source"] = "x-archive"
    doc["committed_at"] = "2019-01-01T00:00:00.000000Z"  # backdated
    path.write_bytes(orjson.dumps(doc))
    [p] = check_chain(account_manifests(local_store, "42"))
    assert p.run_id == runs[1].run_id
    assert p.problem == f"manifest altered (run {runs[2].run_id} recorded another SHA-256 of it)"


def test_a_removed_manifest_is_named(local_store, commit_post):
    runs = [commit_post(local_store, i) for i in range(3)]
    path_of(local_store, runs[1]).unlink()
    assert problems(local_store) == [
        f"manifest removed (run {runs[2].run_id} names it before itself)"
    ]


def test_an_inserted_manifest_is_named(local_store, commit_post):
    runs = [commit_post(local_store, i) for i in range(3)]
    # a forged run that claims to follow the first one, beside the real second one
    forged = orjson.loads(path_of(local_store, runs[2]).read_bytes())
    forged_id = runs[1].run_id[:-6] + "ffffff"
    forged["run_id"] = forged_id
    forged["chain"]["previous"] = {
        "run_id": runs[0].run_id,
        "sha256": runs[1].chain.previous.sha256,
    }
    dest = local_store.root / run_prefix("42", forged_id) / MANIFEST
    dest.parent.mkdir(parents=True)
    dest.write_bytes(orjson.dumps(forged))
    found = problems(local_store)
    assert (
        f"chain forks: runs {runs[1].run_id} and {forged_id} both follow it (one was inserted)"
        in found
    )
    assert any(p.startswith("manifest inserted (the chain leads elsewhere") for p in found)


def test_an_unchained_manifest_slipped_in_is_named(local_store, commit_post):
    runs = [commit_post(local_store, i) for i in range(2)]
    doc = orjson.loads(path_of(local_store, runs[0]).read_bytes())
    del doc["chain"]
    doc["run_id"] = runs[0].run_id[:-6] + "eeeeee"
    dest = local_store.root / run_prefix("42", doc["run_id"]) / MANIFEST
    dest.parent.mkdir(parents=True)
    dest.write_bytes(orjson.dumps(doc))
    assert problems(local_store) == [
        "manifest inserted (no chain link and no chained run names it)"
    ]


def test_a_store_from_before_chaining_is_linked_without_rewriting(local_store, commit_post):
    old = [commit_post(local_store, i) for i in range(3)]
    before = {}
    for m in old:  # make them as an earlier version wrote them: no chain member
        path = path_of(local_store, m)
        doc = orjson.loads(path.read_bytes())
        del doc["chain"]
        path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        before[m.run_id] = path.read_bytes()
    clear_cache()  # this process wrote them with links a moment ago
    stored = account_manifests(local_store, "42")
    assert check_chain(stored) == []
    assert chain_head(stored).chained is False
    new = commit_post(local_store, 3)
    assert new.chain.previous is None
    assert [ref.run_id for ref in new.chain.legacy] == [m.run_id for m in old]
    after = commit_post(local_store, 4)
    assert after.chain.previous.run_id == new.run_id
    for m in old:  # not one byte of a committed run changed
        assert path_of(local_store, m).read_bytes() == before[m.run_id]
    stored = account_manifests(local_store, "42")
    assert check_chain(stored) == []
    assert len(walk_back(stored, after.run_id)) == 5
    # and an old manifest edited after the upgrade is caught by the legacy link
    path = path_of(local_store, old[1])
    path.write_bytes(path.read_bytes().replace(b'"incremental"', b'"full"'))
    assert problems(local_store) == [
        f"manifest altered (run {new.run_id} recorded another SHA-256 of it)"
    ]


def test_accounts_have_separate_chains(local_store, commit_post):
    a = commit_post(local_store, 1, "42")
    b = commit_post(local_store, 2, "43")
    assert a.chain.previous is None and b.chain.previous is None
