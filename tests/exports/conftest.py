"""Export fixtures: an archive of real sample posts plus a month of news (export_samples)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# helpers sit beside the tests (tests/ is not a package)
sys.path.insert(0, str(Path(__file__).parent))

from export_samples import SampleArchive, write_sample_runs  # noqa: E402

from archiver.archive import Archive  # noqa: E402
from archiver.config import Config, ExportConfig, IndexConfig, StorageConfig  # noqa: E402


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


@pytest.fixture
def sample(export_config: Config, samples: Path, tmp_path: Path) -> SampleArchive:
    archive = Archive(export_config)
    first, second = write_sample_runs(archive.store, samples)
    return SampleArchive(archive, tmp_path, first, second)
