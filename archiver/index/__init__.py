"""The search index (Whoosh): one owner of the schema, writing and querying.

idx = Index(config.index.path)
idx.update(archive)                       # after committing a run
result = idx.search("from:ExampleshirePolice #appeal since:2024-01-01")
"""

from archiver.index.errors import IndexBusy, IndexFormatError, SearchArgumentError, SearchIndexError
from archiver.index.index import Index
from archiver.index.searching import Hit, SearchResult

__all__ = [
    "Hit",
    "Index",
    "IndexBusy",
    "IndexFormatError",
    "SearchArgumentError",
    "SearchIndexError",
    "SearchResult",
]
