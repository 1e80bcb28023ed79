"""Capture's exceptions: what the X API refused or could not do, named for the operator.

A rejected token is `archiver.errors.CredentialsError`; these cover the rest.
"""

from __future__ import annotations

from archiver.errors import ArchiverError


class XApiError(ArchiverError):
    """The X API failed a request; the message names the account and the endpoint."""


class EndpointNotAllowed(XApiError):
    """The account's API tier or token type does not allow an endpoint: skipped, with a warning
    (or only a note, `warn=False`, for what the operator chose not to configure)."""

    def __init__(self, message: str, *, warn: bool = True) -> None:
        super().__init__(message)
        self.warn = warn


class RateLimited(XApiError):
    """A rate limit that will not clear in time (a reset too far ahead, or 429s without end)."""


class XApiUnavailable(XApiError):
    """Server errors or dropped connections that outlasted every retry."""


class MalformedBody(XApiError):
    """A response whose body is not the JSON object the API documents (cut short, or
    garbled by a proxy): retried once, then the account fails with this message."""
