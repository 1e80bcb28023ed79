"""The search index's own failures: each says what is wrong and what to run."""

from archiver.errors import ArchiverError


class SearchIndexError(ArchiverError):
    """The index cannot be opened, read or written; the message names its path."""


class IndexBusy(SearchIndexError):
    """Another process holds the index's write lock for longer than we wait."""


class IndexFormatError(SearchIndexError):
    """The index was built by a version of the archiver with a different schema."""


class SearchArgumentError(ArchiverError):
    """A search filter passed by a caller (not the typed query) is not valid."""


class IndexOfAnotherStore(SearchIndexError):
    """The index was built from another store than the one it is opened for."""
