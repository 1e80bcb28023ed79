"""The X API v2 client capture uses: tweepy.Client underneath, one method per endpoint,
each yielding pages with their provenance.

tweepy hard-codes its host, so its session is routed to `x_api.base_url` by an adapter.
Waiting and retrying happen in `RateLimiter.call` only; tweepy's errors become the
archiver's own here, with messages that name the account and what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
import tweepy
from requests.adapters import HTTPAdapter

from archiver import TOOL
from archiver.capture.credentials import Credentials
from archiver.capture.errors import EndpointNotAllowed, MalformedBody, XApiError
from archiver.capture.fields import DM_PARAMS, LIST_PARAMS, TWEET_PARAMS, USER_FIELDS
from archiver.capture.ratelimit import RateLimiter, RetryPolicy
from archiver.config import AccountConfig, XApiConfig
from archiver.errors import CredentialsError
from archiver.stopping import interruptible_sleep
from archiver.timestamps import isoformat, utcnow

log = logging.getLogger(__name__)

# at DEBUG, tweepy logs request headers (bearer tokens) and oauthlib its signing inputs
# (access tokens): whoever configures logging, these never go below INFO
_SECRET_LOGGERS = ("tweepy", "oauthlib", "requests_oauthlib")


def _guard_secret_loggers() -> None:
    for name in _SECRET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


TWEEPY_HOST = "https://api.twitter.com"


class HostAdapter(HTTPAdapter):
    """Sends what tweepy addresses to api.twitter.com to the configured base URL instead."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        if request.url and request.url.startswith(TWEEPY_HOST):
            request.url = self.base_url + request.url[len(TWEEPY_HOST) :]
        # tweepy sets no timeout: a silent server would hang an unattended run forever
        return super().send(
            request,
            stream=stream,
            timeout=timeout or self.timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


@dataclass(frozen=True)
class Page:
    """One API response with its provenance (never the request's auth headers)."""

    endpoint: str  # route template, e.g. "/2/users/:id/tweets"
    path: str  # the path requested, e.g. "/2/users/12/tweets"
    params: dict[str, str]
    status: int
    body: dict[str, Any]
    retrieved_at: str
    rate_limit: dict[str, str]

    @property
    def next_token(self) -> str | None:
        return (self.body.get("meta") or {}).get("next_token")

    @property
    def items(self) -> list[dict[str, Any]]:
        data = self.body.get("data")
        return data if isinstance(data, list) else [data] if data else []

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    def evidence(self) -> dict[str, Any]:
        """What the run keeps: the response verbatim with when, where and how it was fetched."""
        return {
            "endpoint": self.endpoint,
            "path": self.path,
            "params": self.params,
            "status": self.status,
            "retrieved_at": self.retrieved_at,
            "tool": TOOL,
            "rate_limit": self.rate_limit,
            "response": self.body,
        }

    @classmethod
    def from_evidence(cls, doc: dict[str, Any]) -> Page:
        return cls(
            doc["endpoint"],
            doc["path"],
            doc["params"],
            doc["status"],
            doc["response"],
            doc["retrieved_at"],
            doc.get("rate_limit") or {},
        )


class XClient:
    """One account's view of the X API v2. Methods yield pages, newest first."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str,
        timeout: float = 30.0,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.credentials = credentials
        self.account = credentials.account
        self.limiter = limiter or RateLimiter(credentials.account)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # an OAuth 2.0 user token travels as the bearer; OAuth 1.0a signs when user_auth=True
        self._tweepy = tweepy.Client(
            bearer_token=credentials.oauth2_user_token or credentials.bearer_token,
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        _guard_secret_loggers()
        self._tweepy.session.mount(TWEEPY_HOST, HostAdapter(self.base_url, timeout))
        self._user_auth = credentials.oauth1

    @classmethod
    def for_account(
        cls,
        acc: AccountConfig,
        x_api: XApiConfig,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = interruptible_sleep,
        on_wait: Callable[[float, str], None] | None = None,
    ) -> XClient:
        """The client for one configured account, its limits from the `x_api` settings."""
        policy = RetryPolicy(max_retries=x_api.max_retries, max_rate_wait=x_api.max_rate_wait)
        limiter = RateLimiter(acc.username, policy, clock=clock, sleep=sleep, on_wait=on_wait)
        return cls(
            Credentials.from_config(acc),
            base_url=x_api.base_url,
            timeout=x_api.timeout,
            limiter=limiter,
        )

    # -- one method per endpoint -----------------------------------------------------------
    def me(self) -> Page:
        if not self.credentials.user_context:
            raise EndpointNotAllowed(f"account @{self.account}: /2/users/me needs a user token")
        return self._get(self._tweepy.get_me, user_auth=self._user_auth, user_fields=USER_FIELDS)

    def user_by_username(self, username: str) -> Page:
        return self._get(
            self._tweepy.get_user,
            username=username.lstrip("@"),
            user_auth=self._user_auth,
            user_fields=USER_FIELDS,
        )

    def posts(
        self, user_id: str, *, since_id: str | None = None, token: str | None = None
    ) -> Iterator[Page]:
        return self._pages(
            self._tweepy.get_users_tweets,
            token,
            user_id,
            since_id=since_id,
            max_results=100,
            user_auth=self._user_auth,
            **TWEET_PARAMS,
        )

    def mentions(
        self, user_id: str, *, since_id: str | None = None, token: str | None = None
    ) -> Iterator[Page]:
        return self._pages(
            self._tweepy.get_users_mentions,
            token,
            user_id,
            since_id=since_id,
            max_results=100,
            user_auth=self._user_auth,
            **TWEET_PARAMS,
        )

    def liked(self, user_id: str, *, token: str | None = None) -> Iterator[Page]:
        return self._pages(
            self._tweepy.get_liked_tweets,
            token,
            user_id,
            max_results=100,
            user_auth=self._user_auth,
            **TWEET_PARAMS,
        )

    def bookmarks(self, user_id: str, *, token: str | None = None) -> Iterator[Page]:
        if not self.credentials.oauth2_user_token:
            raise EndpointNotAllowed(
                f"account @{self.account}: bookmarks need an OAuth 2.0 user token "
                "(set oauth2_user_token_env); skipped",
                warn=False,
            )
        return self._pages(self._tweepy.get_bookmarks, token, max_results=100, **TWEET_PARAMS)

    def followers(self, user_id: str, *, token: str | None = None) -> Iterator[Page]:
        return self._pages(
            self._tweepy.get_users_followers,
            token,
            user_id,
            max_results=1000,
            user_auth=self._user_auth,
            user_fields=USER_FIELDS,
        )

    def following(self, user_id: str, *, token: str | None = None) -> Iterator[Page]:
        return self._pages(
            self._tweepy.get_users_following,
            token,
            user_id,
            max_results=1000,
            user_auth=self._user_auth,
            user_fields=USER_FIELDS,
        )

    def dm_events(self, *, token: str | None = None) -> Iterator[Page]:
        if not self.credentials.user_context:
            raise EndpointNotAllowed(
                f"account @{self.account}: DMs need a user token (the OAuth 1.0a *_env "
                "settings or oauth2_user_token_env); skipped"
            )
        return self._pages(
            self._tweepy.get_direct_message_events,
            token,
            max_results=100,
            user_auth=self._user_auth,
            **DM_PARAMS,
        )

    def owned_lists(self, user_id: str, *, token: str | None = None) -> Iterator[Page]:
        return self._pages(
            self._tweepy.get_owned_lists,
            token,
            user_id,
            max_results=100,
            user_auth=self._user_auth,
            **LIST_PARAMS,
        )

    def list_members(self, list_id: str, *, token: str | None = None) -> Iterator[Page]:
        return self._pages(
            self._tweepy.get_list_members,
            token,
            list_id,
            max_results=100,
            user_auth=self._user_auth,
            user_fields=USER_FIELDS,
        )

    def lookup(self, ids: list[str]) -> Page:
        """Posts by id (at most 100): found ones in data, gone ones as errors."""
        return self._get(self._tweepy.get_tweets, ids, user_auth=self._user_auth, **TWEET_PARAMS)

    # -- plumbing --------------------------------------------------------------------------
    def _pages(
        self, method: Callable[..., Any], token: str | None, *args: Any, **params: Any
    ) -> Iterator[Page]:
        while True:
            page = self._get(method, *args, pagination_token=token, **params)
            yield page
            token = page.next_token
            if not token:
                return

    def _get(self, method: Callable[..., Any], *args: Any, **params: Any) -> Page:
        endpoint = _ENDPOINTS.get(method.__name__, method.__name__)

        parsed: dict[str, dict[str, Any]] = {}

        def check(response: requests.Response) -> None:
            # parsed inside the retry loop: a garbled body is retried once
            parsed["body"] = self._body(response, endpoint)

        try:
            response = self.limiter.call(endpoint, lambda: method(*args, **params), check)
            body = parsed["body"]
        except tweepy.HTTPException as exc:
            raise self._error(exc, endpoint) from None
        url = urlsplit(response.url)
        path = url.path[len(urlsplit(self.base_url).path.rstrip("/")) :]
        return Page(
            endpoint=endpoint,
            path=path,
            params=dict(parse_qsl(url.query)),
            status=response.status_code,
            body=body,
            retrieved_at=isoformat(utcnow()),
            rate_limit={
                k: v for k, v in response.headers.items() if k.lower().startswith("x-rate-limit")
            },
        )

    def _body(self, response: requests.Response, endpoint: str) -> dict[str, Any]:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise MalformedBody(
                f"account @{self.account}: {endpoint} answered with something that "
                f"is not JSON (HTTP {response.status_code})"
            ) from None
        if not isinstance(body, dict):
            raise MalformedBody(
                f"account @{self.account}: {endpoint} answered with a JSON "
                f"{type(body).__name__}, not an object"
            )
        return body

    def _error(self, exc: tweepy.HTTPException, endpoint: str) -> Exception:
        status = exc.response.status_code
        detail = "; ".join(exc.api_messages) or exc.response.reason or str(status)
        envs = ", ".join(self.credentials.env_names)
        try:
            problem = str(exc.response.json().get("type", ""))
        except ValueError:
            problem = ""
        if isinstance(exc, tweepy.Unauthorized):
            return CredentialsError(
                f"account @{self.account}: token rejected (401) on {endpoint}; renew the "
                f"{self.credentials.kind} in {envs}"
            )
        if isinstance(exc, tweepy.Forbidden):
            if problem.endswith(("client-forbidden", "unsupported-authentication")):
                return EndpointNotAllowed(
                    f"account @{self.account}: {endpoint} is not allowed for this account's API "
                    f"access ({detail}); skipped"
                )
            return CredentialsError(
                f"account @{self.account}: access forbidden (403) on {endpoint}: {detail}; "
                f"check the app's permissions and the tokens in {envs}"
            )
        return XApiError(f"account @{self.account}: {endpoint} failed ({status}): {detail}")


# tweepy method -> the route it calls (for rate-limit windows and messages)
_ENDPOINTS = {
    "get_me": "/2/users/me",
    "get_user": "/2/users/by/username/:username",
    "get_users_tweets": "/2/users/:id/tweets",
    "get_users_mentions": "/2/users/:id/mentions",
    "get_liked_tweets": "/2/users/:id/liked_tweets",
    "get_bookmarks": "/2/users/:id/bookmarks",
    "get_users_followers": "/2/users/:id/followers",
    "get_users_following": "/2/users/:id/following",
    "get_direct_message_events": "/2/dm_events",
    "get_owned_lists": "/2/users/:id/owned_lists",
    "get_list_members": "/2/lists/:id/members",
    "get_tweets": "/2/tweets",
}
