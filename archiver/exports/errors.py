"""The exports' exceptions: each message says what failed and what to do about it."""

from archiver.errors import ArchiverError


class ExportError(ArchiverError):
    """An export that cannot be made as asked (unknown month, nothing matched, bad option)."""


class DestinationError(ExportError):
    """The records destination is unreachable, read-only, or already holds a different bundle."""


class BundleError(ExportError):
    """A file that is not a readable export bundle (not a zip, no bag inside, unsafe paths)."""
