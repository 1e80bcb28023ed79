"""The archiver's exceptions. The CLI prints one line for these; anything else is a bug."""

from storage.errors import StorageError


class ArchiverError(Exception):
    """Something the operator must act on; the message says what and where."""


class ConfigError(ArchiverError):
    """A missing or wrong setting; the message names the setting."""


class ArchiveFormatError(ArchiverError):
    """An import source (ZIP, JSONL) that is malformed, unsafe or incomplete."""


class CredentialsError(ArchiverError):
    """An account's token is missing, expired or rejected."""


# what the CLI reports as one line (storage has its own root: it knows nothing of the archiver)
USER_ERRORS = (ArchiverError, StorageError)
