"""Retrying transient failures: the one place that decides what is transient, how often to try
again and how long to wait in between.

Used by the stores (storage/s3.py), the X API's rate limiter (archiver/capture/ratelimit.py)
and media downloads. Each caller adds what only it knows (S3's error codes, X's 429 resets)
through a `classify` function; the network failures every HTTP client meets (resets, drops
mid-body, truncated bodies, timeouts) are recognised here. The wait is capped exponential
backoff, bounded in count; the sleep is injected so tests never really wait.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
import urllib3.exceptions

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5  # consecutive failures of one request before giving up
    max_rate_wait: float = 900.0  # the longest single wait a service may ask for
    backoff_base: float = 2.0
    backoff_cap: float = 60.0

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt` (1, 2, ...): base, 2 x base, ... up to cap."""
        return float(min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))


class GaveUp(Exception):
    """A transient failure outlasted every retry; `reason` names the last one."""

    def __init__(self, what: str, attempts: int, reason: str) -> None:
        super().__init__(f"{what} failed {attempts} times in a row (last: {reason})")
        self.what = what
        self.attempts = attempts
        self.reason = reason


# what every HTTP client can meet on a flaky network: resets, drops mid-body, short bodies
_NETWORK: tuple[type[BaseException], ...] = (
    ConnectionError,  # reset, refused, broken pipe, RemoteDisconnected
    TimeoutError,
    http.client.IncompleteRead,
    http.client.BadStatusLine,
    urllib3.exceptions.ProtocolError,  # a connection dropped mid-body, a truncated body
    urllib3.exceptions.TimeoutError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.DecodeError,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # requests' name for a drop mid-body
    requests.exceptions.ContentDecodingError,
)


def network_failure(exc: BaseException) -> str | None:
    """A short name for a transient network failure, or None when `exc` is not one."""
    if isinstance(exc, _NETWORK):
        return type(exc).__name__
    return None


def retry(
    call: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    classify: Callable[[BaseException], str | None] = network_failure,
    sleep: Callable[[float], None] = time.sleep,
    before_retry: Callable[[int, str], None] | None = None,
) -> T:
    """Run `call` until it succeeds, retrying what `classify` names as transient.

    After `policy.max_retries` retries raises GaveUp (chained to the last failure); any other
    exception passes through at once. `before_retry(attempt, reason)` runs before each wait
    (to count retries, or to reopen a stream)."""
    failures = 0
    while True:
        try:
            return call()
        except Exception as exc:
            reason = classify(exc)
            if reason is None:
                raise
            failures += 1
            if failures > policy.max_retries:
                raise GaveUp(what, failures, reason) from exc
            delay = policy.backoff(failures)
            log.info("%s: %s, retry %d in %.2f s", what, reason, failures, delay)
            if before_retry is not None:
                before_retry(failures, reason)
            sleep(delay)
