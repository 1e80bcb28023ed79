"""The Mastodon REST API as capture reads it: Mastodon.py underneath, every response kept.

Mastodon.py speaks the protocol (the Bearer token, parameters, `Link`-header pagination with
`fetch_next`); a response hook on its `requests` session keeps each response's bytes, so
records and evidence are built from the JSON exactly as the server served it, never from
Mastodon.py's converted objects. Waiting and retrying happen only in the capture's one retry
loop (`RateLimiter.call`): Mastodon.py runs with `ratelimit_method="throw"`, so it never
sleeps on its own, and `MastodonLimiter` reads the documented `X-RateLimit-*` headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from archiver import TOOL
from archiver.capture.client import Page
from archiver.capture.errors import EndpointNotAllowed, MalformedBody
from archiver.capture.ratelimit import Failure, RateLimiter, RetryPolicy, Window
from archiver.config import AccountConfig, MastodonConfig
from archiver.errors import CredentialsError
from archiver.platforms.mastodon.accts import base_url, instance_of
from archiver.stopping import interruptible_sleep
from archiver.timestamps import isoformat, parse_time, utcnow

log = logging.getLogger(__name__)

WINDOW = "/api/v1"  # Mastodon limits reads per token across the API, not per endpoint
_SECRET_LOGGERS = ("mastodon",)


class GoneFromServer(EndpointNotAllowed):
    """A 404: the status (or account) is not on the server, as of `retrieved_at`."""

    def __init__(self, message: str, *, retrieved_at: str, error: str) -> None:
        super().__init__(message)
        self.retrieved_at = retrieved_at
        self.error = error


class MastodonLimiter(RateLimiter):
    """The capture's retry loop, told what Mastodon.py's errors and headers mean."""

    service = "the Mastodon server"
    wait_setting = "mastodon.max_rate_wait"

    def failure(self, endpoint: str, exc: Exception) -> Failure | None:
        if isinstance(exc, MastodonRatelimitError):
            window = self.windows.get(WINDOW)
            reset = window.reset if window else None
            return Failure("429 Too Many Requests", "", rate_limited=True, reset=reset)
        if isinstance(exc, MastodonServerError):
            return Failure(f"{_status(exc)} error", "server error")
        if isinstance(exc, MastodonNetworkError):
            return Failure(type(exc).__name__, "connection problem")
        return super().failure(endpoint, exc)

    def observe(self, endpoint: str, headers: Any) -> None:
        """`X-RateLimit-Remaining` and `-Reset` (an ISO 8601 time), for the whole API."""
        if not headers:
            return
        remaining, reset = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            when = parse_time(reset)
            if when is None:
                return
            self.windows[WINDOW] = Window(int(remaining), when.timestamp())
        except ValueError:
            log.warning("account %s: unreadable rate-limit headers on %s", self.account, endpoint)

    def _wait_for_window(self, endpoint: str) -> None:
        super()._wait_for_window(WINDOW)


def _status(exc: MastodonAPIError) -> str:
    return str(exc.args[1]) if len(exc.args) > 1 else "5xx"


@dataclass(frozen=True)
class Served:
    """One API response with its provenance (never the request's Authorization header)."""

    endpoint: str  # route template, e.g. "/api/v1/accounts/:id/statuses"
    path: str
    params: dict[str, str]
    status: int
    body: Any  # the JSON as served
    retrieved_at: str
    rate_limit: dict[str, str]
    result: Any  # what Mastodon.py made of it (for fetch_next)

    @property
    def headers(self) -> dict[str, str]:
        return self.rate_limit

    @property
    def items(self) -> list[dict[str, Any]]:
        body = self.body
        return [i for i in body if isinstance(i, dict)] if isinstance(body, list) else [body]

    def evidence(self) -> dict[str, Any]:
        """What the run keeps, in the shape X's pages are kept in (client.Page)."""
        fields = ("endpoint", "path", "params", "status", "body", "retrieved_at", "rate_limit")
        return Page(**{name: getattr(self, name) for name in fields}).evidence()


class MastodonClient:
    """One account's token on one server."""

    def __init__(
        self,
        account: str,
        api_base_url: str,
        token: str,
        *,
        settings: MastodonConfig | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = interruptible_sleep,
    ) -> None:
        for name in _SECRET_LOGGERS:  # never log the Authorization header, whoever configures
            logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.INFO))
        settings = settings or MastodonConfig()
        self.account = account
        self.base_url = api_base_url.rstrip("/")
        self.settings = settings
        policy = RetryPolicy(max_retries=settings.max_retries, max_rate_wait=settings.max_rate_wait)
        kwargs: dict[str, Any] = {"sleep": sleep}
        if clock is not None:
            kwargs["clock"] = clock
        self.limiter = MastodonLimiter(account, policy, **kwargs)
        self.timeout = settings.timeout
        self.session = requests.Session()
        self.session.hooks["response"].append(self._keep)
        self._served: list[requests.Response] = []
        self.api = Mastodon(
            access_token=token,
            api_base_url=self.base_url,
            ratelimit_method="throw",
            request_timeout=settings.timeout,
            session=self.session,
            version_check_mode="none",
            user_agent=f"social-archive/{TOOL}",
        )

    @classmethod
    def for_account(cls, acc: AccountConfig, settings: MastodonConfig) -> MastodonClient:
        """The client for one configured account: its token from `access_token_env`."""
        env = acc.access_token_env
        if not env:
            raise CredentialsError(
                f"account {acc.username}: no access_token_env configured (the name of the "
                "environment variable holding the account's Mastodon access token)"
            )
        token = acc.secret("access_token_env")
        if not token:
            raise CredentialsError(
                f"account {acc.username}: the environment variable {env} (access_token_env) "
                "is not set"
            )
        return cls(acc.username.lstrip("@"), base_url(instance_of(acc)), token, settings=settings)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self._served.append(response)
        self.limiter.observe(WINDOW, response.headers)
        return response

    # -- requests --------------------------------------------------------------------------
    def get(self, endpoint: str, call: Callable[[], Any]) -> Served:
        """One request through the retry loop; API refusals become the archiver's errors."""

        def send() -> Served:
            self._served.clear()
            result = call()
            if not self._served:
                raise MalformedBody(f"account @{self.account}: {endpoint}: no response")
            return self._page(endpoint, self._served[-1], result)

        try:
            return self.limiter.call(endpoint, send)
        except MastodonUnauthorizedError as exc:
            raise CredentialsError(
                f"account @{self.account}: the Mastodon server refused the access token "
                f"(401: {_message(exc)}); it may have been revoked: make a new token with the "
                "read scopes and set it in the account's access_token_env"
            ) from None
        except MastodonNotFoundError as exc:
            raise GoneFromServer(
                f"account @{self.account}: {endpoint}: not found (404: {_message(exc)})",
                retrieved_at=isoformat(utcnow()),
                error=_message(exc),
            ) from None
        except MastodonAPIError as exc:
            raise EndpointNotAllowed(
                f"account @{self.account}: {endpoint}: refused ({_status(exc)}: {_message(exc)})"
            ) from None

    def pages(
        self, endpoint: str, first: Callable[[], Any], stop: Callable[[Served], bool]
    ) -> Iterator[Served]:
        """The first page, then each `Link: rel="next"` page until `stop(page)` or the end."""
        page = self.get(endpoint, first)
        while True:
            yield page
            if stop(page) or getattr(page.result, "_pagination_next", None) is None:
                return
            page = self.get(endpoint, partial(self.api.fetch_next, page.result))

    def _page(self, endpoint: str, response: requests.Response, result: Any) -> Served:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise MalformedBody(
                f"account @{self.account}: {endpoint}: the response is not JSON"
            ) from None
        parts = urlsplit(response.url)
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower().startswith("x-ratelimit-") or k.lower() in ("link", "date")
        }
        return Served(
            endpoint=endpoint,
            path=parts.path,
            params=dict(parse_qsl(parts.query)),
            status=response.status_code,
            body=body,
            retrieved_at=isoformat(utcnow()),
            rate_limit=headers,
            result=result,
        )


def _message(exc: MastodonAPIError) -> str:
    text = exc.args[3] if len(exc.args) > 3 and exc.args[3] else exc.args[0]
    return "".join(c if c.isprintable() else "?" for c in str(text))[:200]


__all__ = ["GoneFromServer", "MastodonClient", "MastodonLimiter", "Served"]
