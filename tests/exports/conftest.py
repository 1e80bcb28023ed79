"""Export fixtures: the demo generator's archive plus a month of news (export_demo), and the
founders' real sample posts as an extra set when ../shared/samples is there (export_samples)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# helpers sit beside the tests (tests/ is not a package)
sys.path.insert(0, str(Path(__file__).parent))

from export_demo import DemoArchive, DemoFacts, generate, write_demo_runs  # noqa: E402
from export_samples import SampleArchive, write_sample_runs  # noqa: E402

from archiver.archive import Archive  # noqa: E402
from archiver.config import Config, ExportConfig, IndexConfig, StorageConfig  # noqa: E402
from storage.local import LocalStore  # noqa: E402


@pytest.fixture
def export_config(tmp_path: Path) -> Config:
    return Config(
        storage=StorageConfig(path=str(tmp_path / "store")),
        index=IndexConfig(path=str(tmp_path / "index")),
        export=ExportConfig(
            destination=str(tmp_path / "records"),
            organisation="Exampleshire Police",
            retention_code="COMMS-07",
            classification="OFFICIAL",
        ),
    )


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> DemoFacts:
    """The generated archive, once a session, and what its export month holds."""
    return generate(tmp_path_factory.mktemp("export-demo"))


@pytest.fixture(scope="session")
def demo_store(demo: DemoFacts, tmp_path_factory) -> tuple[Path, str, str]:
    """The two runs written once a session; each test gets its own copy (tests add runs)."""
    root = tmp_path_factory.mktemp("export-demo-store") / "store"
    first, second = write_demo_runs(LocalStore(root), demo)
    return root, first, second


@pytest.fixture
def write_demo(demo: DemoFacts, demo_store):
    """write_demo(path): the session's runs copied to `path` (a store folder)."""

    def write(path: Path) -> tuple[str, str]:
        root, first, second = demo_store
        shutil.copytree(root, path)
        return first, second

    return write


@pytest.fixture
def sample(export_config: Config, demo: DemoFacts, write_demo, tmp_path: Path) -> DemoArchive:
    first, second = write_demo(tmp_path / "store")
    return DemoArchive(Archive(export_config), tmp_path, first, second, demo)


@pytest.fixture
def real_sample(export_config: Config, samples: Path, tmp_path: Path) -> SampleArchive:
    """The founders' real sample, for the extra set (skipped, with the reason, without it)."""
    archive = Archive(export_config)
    first, second = write_sample_runs(archive.store, samples)
    return SampleArchive(archive, tmp_path, first, second)
