"""The search index (Whoosh): one owner of the schema, writing and querying.

idx = open_index(archive)                 # the archive's own index (binding.py)
idx.update(archive)                       # after committing a run
result = idx.search("from:ExampleshirePolice #appeal since:2024-01-01")
"""

from archiver.index.whoosh_internals import check_version, install_patches

check_version()  # before anything relies on Whoosh's internals
install_patches()

# ruff: noqa: E402 - the version check comes before the modules that use Whoosh
from archiver.index.binding import open_index, rebuild_index
from archiver.index.errors import (
    IndexBusy,
    IndexFormatError,
    IndexOfAnotherStore,
    SearchArgumentError,
    SearchIndexError,
)
from archiver.index.index import Index
from archiver.index.searching import Hit, SearchResult

__all__ = [
    "Hit",
    "Index",
    "IndexBusy",
    "IndexFormatError",
    "IndexOfAnotherStore",
    "SearchArgumentError",
    "SearchIndexError",
    "SearchResult",
    "open_index",
    "rebuild_index",
]
