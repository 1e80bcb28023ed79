"""Object storage for the archive: stores (local directory, S3), immutable runs, records.

Knows nothing of X, Whoosh or Flask.
"""

from storage.errors import IntegrityError, NotFound, ObjectExists, StorageError
from storage.store import ObjectInfo, ObjectStore

__all__ = [
    "IntegrityError",
    "NotFound",
    "ObjectExists",
    "ObjectInfo",
    "ObjectStore",
    "StorageError",
]
