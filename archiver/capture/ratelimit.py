"""When to wait and when to retry an X API (or media) request: the one place that knows.

Reads `x-rate-limit-remaining`/`-reset` from every response and waits before a window
runs dry; a 429 waits until its reset (or backs off, bounded, when there is no reset
header or the reset is already past: tweepy's own `wait_on_rate_limit` would loop forever
there, and a past reset must not mean "try again at once"); 5xx responses and every
transient network failure storage.retry names (resets, drops mid-body, truncated bodies,
timeouts) retry with the policy's capped exponential backoff; a malformed body is retried
once. The clock and the sleep are injected so tests never really wait.

Media downloads use the same loop, so one policy bounds everything an account fetches:

    limiter.call("media", lambda: download(url, dest))  # stream to dest; raise on a drop

`send` may raise requests' or urllib3's exceptions (a drop mid-body while streaming is
retried: write from the start again), `MalformedBody` (retried once), or an HTTP error
tweepy names; after the retries the account fails with one XApiUnavailable line.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import tweepy

from archiver.capture.errors import MalformedBody, RateLimited, XApiUnavailable
from storage.retry import RetryPolicy, network_failure

__all__ = ["LONG_WAIT", "Failure", "MalformedBody", "RateLimiter", "RetryPolicy", "Window"]

log = logging.getLogger(__name__)

T = TypeVar("T")
LONG_WAIT = 60.0  # waits at least this long are warnings: they show on a terminal and in cron


MIN_REFUSED_WAIT = 1.0  # never more than one request a second to an endpoint that refuses


@dataclass(frozen=True)
class Failure:
    """A transient failure of one request: what it was, and how the loop waits for it."""

    what: str  # "429 Too Many Requests", "503 error", "ConnectionError"
    wait_reason: str  # what the backoff wait says it is for ("server error")
    rate_limited: bool = False  # wait for the window's reset instead of backing off
    reset: float | None = None  # epoch seconds, when the response said


@dataclass
class Window:
    remaining: int | None = None
    reset: float | None = None  # epoch seconds


class RateLimiter:
    """Per-endpoint rate-limit windows for one account's token, and the retry loop."""

    service = "the X API"  # who is not answering, in the one-line failure
    wait_setting = "x_api.max_rate_wait"  # the setting that bounds a rate-limit wait

    def __init__(
        self,
        account: str,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float, str], None] | None = None,
    ) -> None:
        self.account = account
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self._sleep = sleep
        self.on_wait = on_wait
        self.windows: dict[str, Window] = {}
        self.waited = 0.0  # seconds spent waiting on purpose (rate limits and backoff)
        self.retries = 0
        self.requests = 0

    def sibling(self) -> RateLimiter:
        """The same policy, clock and sleep, counting its own requests (media downloads,
        which are not API calls and have no API rate-limit windows)."""
        return type(self)(
            self.account, self.policy, clock=self.clock, sleep=self._sleep, on_wait=self.on_wait
        )

    # -- the retry loop --------------------------------------------------------------------
    def call(
        self, endpoint: str, send: Callable[[], T], check: Callable[[T], object] | None = None
    ) -> T:
        """Send one request, waiting and retrying as the API asks; raise when it will not do.
        `check(response)`, run inside the loop, may raise MalformedBody (retried once)."""
        failures = 0
        malformed = 0
        while True:
            self._wait_for_window(endpoint)
            self.requests += 1
            try:
                response = send()
            except Exception as exc:
                failure = self.failure(endpoint, exc)
                if failure is None:
                    raise
                failures = self._failed(endpoint, failures, failure.what)
                if failure.rate_limited:
                    self._after_429(endpoint, failure.reset, failures)
                else:
                    self.wait(self.policy.backoff(failures), f"{failure.wait_reason} on {endpoint}")
                continue
            self.observe(endpoint, getattr(response, "headers", {}))
            if check is not None:
                try:
                    check(response)
                except MalformedBody:
                    malformed += 1
                    if malformed > 1:  # a second bad body in a row is the API's answer
                        raise
                    failures = self._failed(endpoint, failures, "malformed body")
                    self.wait(self.policy.backoff(failures), f"malformed body from {endpoint}")
                    continue
            return response

    def failure(self, endpoint: str, exc: Exception) -> Failure | None:
        """What a failed request means (None: not transient, raise it). X's errors come from
        tweepy; other platforms' limiters add their own client's and defer to this."""
        if isinstance(exc, tweepy.TooManyRequests):
            self.observe(endpoint, exc.response.headers)
            return Failure("429 Too Many Requests", "", rate_limited=True, reset=exc.reset_time)
        if isinstance(exc, tweepy.TwitterServerError):
            return Failure(f"{exc.response.status_code} error", "server error")
        if isinstance(exc, tweepy.HTTPException):
            self.observe(endpoint, exc.response.headers)
            return None
        reason = network_failure(exc)
        return Failure(reason, "connection problem") if reason else None

    def _failed(self, endpoint: str, failures: int, what: str) -> int:
        failures += 1
        if failures > self.policy.max_retries:
            cls = RateLimited if what.startswith("429") else XApiUnavailable
            raise cls(
                f"account @{self.account}: {endpoint} failed {failures} times in a row "
                f"(last: {what}); {self.service} is not answering, try again later"
            )
        self.retries += 1
        log.info("account %s: %s on %s, retry %d", self.account, what, endpoint, failures)
        return failures

    def _after_429(self, endpoint: str, reset: float | None, failures: int) -> None:
        if reset is None or reset <= self.clock():
            # no reset header, or one already past (a skewed clock, a stale header): back
            # off, bounded, instead of hammering the API
            what = "without a reset time" if reset is None else "with a reset already past"
            backoff = max(MIN_REFUSED_WAIT, self.policy.backoff(failures))
            self.wait(backoff, f"429 {what} on {endpoint}")
            return
        self._wait_until(reset, endpoint)

    # -- windows ---------------------------------------------------------------------------
    def observe(self, endpoint: str, headers: Any) -> None:
        """Remember what the response said about the endpoint's window."""
        remaining = headers.get("x-rate-limit-remaining") if headers else None
        reset = headers.get("x-rate-limit-reset") if headers else None
        if remaining is None or reset is None:
            return
        try:
            self.windows[endpoint] = Window(int(remaining), float(reset))
        except ValueError:
            log.warning("account %s: unreadable rate-limit headers on %s", self.account, endpoint)

    def _wait_for_window(self, endpoint: str) -> None:
        window = self.windows.get(endpoint)
        if window is None or window.remaining is None or window.reset is None:
            return
        if window.remaining > 0:
            return
        if window.reset <= self.clock():
            self.windows.pop(endpoint, None)
            return
        self._wait_until(window.reset, endpoint)
        self.windows.pop(endpoint, None)

    def _wait_until(self, reset: float, endpoint: str) -> None:
        until_reset = reset - self.clock()
        if until_reset > self.policy.max_rate_wait:
            at = dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%H:%M:%S UTC")
            raise RateLimited(
                f"account @{self.account}: rate limit on {endpoint} resets at {at}, "
                f"{until_reset / 60:.0f} minutes away (longer than {self.wait_setting}); "
                "the next run resumes from here"
            )
        # reset is in whole seconds: one more is safe
        self.wait(until_reset + 1, f"rate limit on {endpoint}")

    def wait(self, seconds: float, reason: str) -> None:
        if seconds <= 0:
            return
        level = logging.WARNING if seconds >= LONG_WAIT else logging.INFO
        log.log(level, "account %s: %s; waiting %.0f s", self.account, reason, seconds)
        if self.on_wait:
            self.on_wait(seconds, reason)
        self.waited += seconds
        self._sleep(seconds)
