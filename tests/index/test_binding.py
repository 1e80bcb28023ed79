"""The index belongs to its store: derived from it, bound to its identity, never another's."""

from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import cli
from archiver.config import Config, IndexConfig, StorageConfig, load_config
from archiver.index import IndexOfAnotherStore, open_index, rebuild_index
from storage.identity import IDENTITY, store_identity
from storage.local import LocalStore

from .conftest import Runs, post


def _archive(root) -> Archive:
    return Archive(Config(storage=StorageConfig(path=str(root))))


def test_setting_only_the_store_path_puts_the_index_inside_that_store(tmp_path, monkeypatch):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    config = load_config(env={"ARCHIVER_STORAGE__PATH": str(tmp_path / "srv")})
    archive = Archive(config)
    Runs(archive).commit([post(1, "Road closed near the station")], kind="import")
    index = open_index(archive)
    assert index.update(archive) == 1
    assert index.path == tmp_path / "srv" / "index"
    assert index.search("road").total == 1
    assert list((tmp_path / "cwd").iterdir()) == []  # nothing in the working directory


def test_an_index_is_refused_for_another_store_in_one_line_until_rebuilt(tmp_path):
    demo, other = _archive(tmp_path / "demo"), _archive(tmp_path / "other")
    Runs(demo).commit([post(1, "Witness appeal")], kind="import")
    Runs(other).commit([post(2, "Fake post from a test")], kind="import")
    open_index(demo).update(demo)
    shared = Config(
        storage=StorageConfig(path=str(tmp_path / "other")),
        index=IndexConfig(path=str(demo.index_path)),
    )
    intruder = Archive(shared)  # only the store changed: the old index path stayed
    with pytest.raises(IndexOfAnotherStore) as err:
        open_index(intruder)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"the search index at {demo.index_path} belongs to another store")
    assert "archiver index --rebuild" in message
    assert open_index(demo).search("fake").total == 0  # the demo's index was not touched

    index, items = rebuild_index(intruder)
    assert items == 1 and index.search("fake").total == 1
    assert open_index(intruder).search("witness").total == 0
    with pytest.raises(IndexOfAnotherStore):
        open_index(demo)  # now it is the other store's


def test_the_cli_refuses_with_one_line_and_exit_1_and_rebuild_rebinds(tmp_path):
    runner = CliRunner()
    stores = {}
    for name in ("demo", "other"):
        stores[name] = tmp_path / f"{name}.toml"
        stores[name].write_text(
            f'[storage]\npath = "{tmp_path / name}"\n[index]\npath = "{tmp_path / "index"}"\n'
        )
        Runs(Archive(load_config(stores[name]))).commit([post(1, f"{name} post")], kind="import")
    assert runner.invoke(cli, ["--config", str(stores["demo"]), "index"]).exit_code == 0
    refused = runner.invoke(cli, ["--config", str(stores["other"]), "search", "post"])
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1
    assert refused.output.startswith(f"error: the search index at {tmp_path / 'index'} belongs")
    rebuilt = runner.invoke(cli, ["--config", str(stores["other"]), "index", "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    found = runner.invoke(cli, ["--config", str(stores["other"]), "search", "other", "--json"])
    assert orjson.loads(found.output)["total"] == 1


def test_an_index_from_before_identities_is_adopted_only_if_its_runs_are_this_stores(tmp_path):
    mine, theirs = _archive(tmp_path / "mine"), _archive(tmp_path / "theirs")
    Runs(mine).commit([post(1, "Road closed")], kind="import")
    Runs(theirs).commit([post(2, "Somebody else's")], kind="import")
    legacy = open_index(mine)
    legacy.update(mine)
    (legacy.path / "store.json").unlink()  # as indexes were before they recorded a store
    assert open_index(mine).search("road").total == 1  # adopted: its runs are all mine
    assert (legacy.path / "store.json").exists()

    stray = open_index(theirs)  # the other store's own (empty) index, in its folder
    stray.update(theirs)
    (stray.path / "store.json").unlink()
    moved = Config(
        storage=StorageConfig(path=str(tmp_path / "mine")), index=IndexConfig(path=str(stray.path))
    )
    with pytest.raises(IndexOfAnotherStore, match="holds 1 runs that are not in local directory"):
        open_index(Archive(moved))


def test_an_s3_stores_index_is_a_cache_keyed_by_its_identity(s3_store, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    archive = Archive(Config(), store=s3_store)
    Runs(archive).commit([post(1, "Road closed")], kind="import")
    index = open_index(archive)
    assert index.update(archive) == 1
    identity = store_identity(s3_store)
    assert index.path == tmp_path / "cache" / "social-archive" / "index" / identity.store_id


def test_a_store_identity_is_written_once(tmp_path):
    store = LocalStore(tmp_path / "store")
    first = store_identity(store)
    assert store_identity(LocalStore(tmp_path / "store")) == first
    doc = orjson.loads((tmp_path / "store" / IDENTITY).read_bytes())
    assert doc == {
        "format": "social-archive/store/1",
        "store_id": first.store_id,
        "created_at": first.created_at,
    }
    assert store_identity(LocalStore(tmp_path / "another")).store_id != first.store_id
