"""XRPC over HTTP for Bluesky capture: every call through storage.retry (the one retry loop).

429 and 5xx answers and the network failures storage.retry names are retried with the policy's
capped backoff; any other error answer is an `XrpcError` carrying the XRPC error name
(`RepoDeactivated`, `RepoTakendown`, `AuthenticationRequired`, ...), so capture can say in one
line what happened to the account. Redirects are never followed: blobs come only from the
account's own PDS host. Credentials (an app password, a session token) are sent in the body or
an Authorization header and never appear in a message, a log line or a stored file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from archiver.errors import ArchiverError
from storage.retry import RetryPolicy, network_failure, retry

log = logging.getLogger(__name__)

TIMEOUT = 60.0
MAX_BODY = 4 << 30  # a repository or a blob larger than this is refused


class XrpcError(ArchiverError):
    def __init__(self, method: str, status: int, error: str, message: str) -> None:
        self.method, self.status, self.error = method, status, error
        detail = f"{error}: {message}" if message and message != error else error
        super().__init__(f"{method} answered {status} ({detail})")


class _Transient(Exception):
    def __init__(self, status: int, reset: float | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.reset = reset  # a 429's `ratelimit-reset` (epoch seconds), when it sent one


def _classify(exc: BaseException) -> str | None:
    if isinstance(exc, _Transient):
        return "429 Too Many Requests" if exc.status == 429 else f"{exc.status} server error"
    return network_failure(exc)


def _reset_of(resp: requests.Response) -> float | None:
    value = resp.headers.get("ratelimit-reset")
    try:
        return float(value) if value else None
    except ValueError:
        return None


class Xrpc:
    """One service (a PDS, the AppView, the PLC directory) for one account's capture."""

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.host = urlsplit(self.base).netloc
        self.session = session or requests.Session()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.requests = 0
        self.waited = 0.0
        self._reset: float | None = None

    def url(self, method: str) -> str:
        return f"{self.base}/xrpc/{method}"

    def fetch(
        self,
        url: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> requests.Response:
        """GET (or POST `body`) `url`, retried; the response of a 2xx answer, else XrpcError."""
        headers = {"Accept": "*/*"}
        if token:
            headers["Authorization"] = f"Bearer {token}"

        def call() -> requests.Response:
            self.requests += 1
            if body is not None:
                resp = self.session.post(
                    url, json=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
                )
            else:
                resp = self.session.get(
                    url, params=params, headers=headers, timeout=TIMEOUT, allow_redirects=False
                )
            if resp.status_code == 429 or resp.status_code >= 500:
                self._reset = _reset_of(resp) if resp.status_code == 429 else None
                raise _Transient(resp.status_code)
            length = int(resp.headers.get("content-length") or 0)
            if length > MAX_BODY:
                raise XrpcError(what, resp.status_code, "TooLarge", f"{length} bytes")
            resp.content  # noqa: B018 - read the whole body inside the retry loop
            return resp

        resp = retry(
            call,
            what=f"{what} at {self.host}",
            policy=self.policy,
            classify=_classify,
            sleep=self._sleep,
            before_retry=lambda _attempt, _reason: self._until_reset(what),
        )
        if resp.status_code >= 300:
            error, message = "HTTP error", resp.reason or ""
            if 300 <= resp.status_code < 400:
                error, message = "Redirect", "redirects are not followed"
            try:
                payload = orjson.loads(resp.content)
                if isinstance(payload, dict):
                    error = str(payload.get("error") or error)
                    message = str(payload.get("message") or message)
            except orjson.JSONDecodeError:
                pass
            raise XrpcError(what, resp.status_code, error[:80], message[:200])
        return resp

    def _sleep(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)

    def _until_reset(self, what: str) -> None:
        """A 429 that says when its window resets: wait until then (the retry loop's backoff
        follows), unless that is longer than the policy allows."""
        reset, self._reset = self._reset, None
        if reset is None:
            return
        wait = reset - self.clock()
        if wait > self.policy.max_rate_wait:
            at = time.strftime("%H:%M:%S UTC", time.gmtime(reset))
            raise ArchiverError(
                f"{what} at {self.host} is rate-limited until {at}, {wait / 60:.0f} minutes "
                "away; the next run tries again"
            )
        if wait > 0:
            log.info("%s at %s: rate limit, waiting %.0f s for its reset", what, self.host, wait)
            self._sleep(wait)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> requests.Response:
        return self.fetch(self.url(method), method, params=params, token=token, body=body)

    def json(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        resp = self.call(method, params, **kw)
        try:
            payload = orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            raise XrpcError(method, resp.status_code, "InvalidBody", "not JSON") from None
        if not isinstance(payload, dict):
            raise XrpcError(method, resp.status_code, "InvalidBody", "not a JSON object")
        return payload
