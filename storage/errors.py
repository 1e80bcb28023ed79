"""The storage layer's exceptions; the CLI turns them into one line for the operator."""

from __future__ import annotations


class StorageError(Exception):
    """Anything the store cannot do; the message is meant for the operator."""


class NotFound(StorageError):
    """The key does not exist (S3's NoSuchKey, a missing file)."""


class ObjectExists(StorageError):
    """A write would overwrite an object; committed objects are never overwritten."""


class IntegrityError(StorageError):
    """Stored bytes no longer match what their manifest recorded."""


class NoSpace(StorageError):
    """A disk is full: `path` names where (the store's folder or the staging area)."""

    def __init__(self, path: str, message: str | None = None) -> None:
        super().__init__(message or f"no space left on {path}")
        self.path = path

    def __reduce__(self) -> tuple[type[NoSpace], tuple[str, str]]:
        # whole across processes: a rebuild worker's full disk is its parent's
        return (type(self), (self.path, str(self)))
