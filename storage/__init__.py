"""Object storage for the archive: stores (local directory, S3), immutable runs, records.

Knows nothing of X, Whoosh or Flask.
"""

from storage.errors import IntegrityError, NoSpace, NotFound, ObjectExists, StorageError
from storage.store import ObjectInfo, ObjectStore

__all__ = [
    "IntegrityError",
    "NoSpace",
    "NotFound",
    "ObjectExists",
    "ObjectInfo",
    "ObjectStore",
    "StorageError",
]
