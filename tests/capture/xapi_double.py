"""A local X API v2 double: a small WSGI app served on 127.0.0.1 (port 0) in a thread.

It follows the documented shapes (FORMATS.md, samples/api-v2): requested fields only,
`includes` from expansions, partial errors for missing referenced posts, `next_token` absent
on the last page, `{"meta":{"result_count":0}}` when empty, the 3,200/800/30-day windows,
rate-limit headers per token and endpoint, OAuth 1.0a / bearer / OAuth 2.0 user tokens.
Switches inject faults (429 with or without reset, 5xx, dropped connections, tier 403s,
stalls) and every request is logged so tests can count them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import orjson
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response
from xapi_dataset import Account, Clock, World
from xapi_pages import WINDOWS, Problem, Responses

from archiver.demo.mentions import TWARC_VERSION

# per 15-minute window, user context (the 2026 docs); the app-only bearer gets the same here
LIMITS = {
    "/2/users/me": 75,
    "/2/users/by/username/:username": 900,
    "/2/users/:id/tweets": 900,
    "/2/users/:id/mentions": 300,
    "/2/users/:id/liked_tweets": 75,
    "/2/users/:id/followers": 300,
    "/2/users/:id/following": 300,
    "/2/users/:id/bookmarks": 180,
    "/2/dm_events": 15,
    "/2/users/:id/owned_lists": 15,
    "/2/lists/:id/members": 900,
    "/2/tweets": 900,
}
_ROUTES = [
    (re.compile(r"^/2/users/me$"), "/2/users/me"),
    (re.compile(r"^/2/users/by/username/(\w+)$"), "/2/users/by/username/:username"),
    (
        re.compile(
            r"^/2/users/(\d+)/(tweets|mentions|liked_tweets|bookmarks|followers|following"
            r"|owned_lists)$"
        ),
        None,
    ),
    (re.compile(r"^/2/dm_events$"), "/2/dm_events"),
    (re.compile(r"^/2/lists/(\d+)/members$"), "/2/lists/:id/members"),
    (re.compile(r"^/2/tweets$"), "/2/tweets"),
]
MEDIA_PATHS = ("/media/", "/video/", "/dm/")  # the media hosts' paths, served here too
USER_ONLY = {"/2/users/me", "/2/dm_events", "/2/users/:id/liked_tweets"}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # tests count requests through XApiDouble.requests


@dataclass
class Fault:
    route: str | None  # a route template, or None for any request
    status: int
    times: int = 1
    reset: bool = True  # send x-rate-limit-reset with a 429
    disconnect: bool = False
    after: int = 0  # let this many matching requests through first
    midbody: bool = False  # 200 and its headers, then the connection drops mid-body
    malformed: bool = False  # 200 with a body that is not JSON (a proxy's error page)


@dataclass
class Logged:
    method: str
    path: str
    route: str
    params: dict[str, str]
    auth: str  # "oauth1" | "bearer" | "oauth2-user" | "none"
    status: int = 0


@dataclass
class _Bucket:
    reset: float
    used: int = 0


def route_of(path: str) -> tuple[str, list[str]]:
    """('/2/users/:id/tweets', ['42']) for a request path; 'media' for the media hosts'."""
    if path.startswith(MEDIA_PATHS):
        return "media", []
    for pattern, template in _ROUTES:
        m = pattern.match(path)
        if m:
            if template is None:
                return f"/2/users/:id/{m.group(2)}", [m.group(1)]
            return template, list(m.groups())
    return path, []


def http_query(params: dict[str, str], **extra: str) -> dict[str, str]:
    """A backup's parameters (archiver/capture/fields.py, tweepy's names such as
    `tweet_fields`) as the request's query (`tweet.fields`)."""
    query = {name.replace("_fields", ".fields"): value for name, value in params.items()}
    return {**query, **extra}


def twarc_line(
    world: World, path: str, query: dict[str, str], who: Account | None = None
) -> dict[str, Any]:
    """One page as twarc2 saves it (a line of its JSONL): the body this double serves for
    `path` and `query`, plus twarc's `__twarc` provenance (request URL, version, when)."""
    route, ids = route_of(path)
    body = Responses(world, WINDOWS).body(route, ids, query, who)
    when = dt.datetime.fromtimestamp(world.clock.time(), dt.UTC)
    body["__twarc"] = {
        "url": f"https://api.twitter.com{path}?{urlencode(query)}",
        "version": TWARC_VERSION,
        "retrieved_at": when.isoformat(timespec="seconds"),
    }
    return body


@dataclass
class XApiDouble:
    clock: Clock = field(default_factory=Clock)
    seed: int = 7
    window: float = 900.0
    media_scale: int = 1  # media bodies this many times their test size (benchmarks)
    limits: dict[str, int] = field(default_factory=lambda: dict(LIMITS))
    windows: dict[str, int] = field(default_factory=lambda: dict(WINDOWS))
    forbidden: set[str] = field(default_factory=set)  # routes the API tier does not allow
    faults: list[Fault] = field(default_factory=list)
    requests: list[Logged] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.world = World(self.clock, self.seed)
        self.media_faults: dict[str, list[str]] = {}
        self.responses = Responses(self.world, self.windows)
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()
        self._stall_after: int | None = None
        self._stall_route: str | None = None
        self._resume = threading.Event()
        self._server: Any = None
        self.url = ""

    # -- test-side controls ----------------------------------------------------------------
    def account(self, username: str, **sizes: Any) -> Account:
        return self.world.add_account(username, **sizes)

    def fail(self, route: str | None, status: int, times: int = 1, **kw: Any) -> None:
        self.faults.append(Fault(route, status, times, **kw))

    def stall_after(self, n: int, route: str | None = None) -> None:
        """Hold every request after the n-th (of `route`, or of any) until `release()`
        (a run to kill mid-way)."""
        self._stall_after = n
        self._stall_route = route
        self._resume.clear()

    def release(self) -> None:
        self._stall_after = None
        self._resume.set()

    def media_fault(self, path: str, *behaviours: str) -> None:
        """What the next requests for a media path get, one behaviour each: a status ("404"),
        "cut" (half the body, then the connection drops), "slow" (the body in slow chunks),
        "huge" (a body past any sane limit, streamed), "huge-chunked" (the same without a
        Content-Length), "wrongtype" (HTML bytes as image/jpeg), "redirect:<url>"."""
        self.media_faults.setdefault(path, []).extend(behaviours)

    def media_bytes(self, path: str) -> bytes:
        """The bytes the double serves for a media path (deterministic)."""
        seed = hashlib.sha256(path.encode()).digest()
        if path.endswith(".mp4"):
            rate = int(path.rsplit("/", 1)[1].removesuffix(".mp4"))
            return b"\x00\x00\x00\x18ftypmp42" + seed * max(1, rate // 8000) * self.media_scale
        return b"\xff\xd8\xff\xe0\x00\x10JFIF" + seed * 200 * self.media_scale

    def count(self, route: str | None = None) -> int:
        return sum(1 for r in self.requests if route is None or r.route == route)

    def routes(self) -> Counter[str]:
        return Counter(r.route for r in self.requests)

    def start(self) -> XApiDouble:
        self._server = make_server(
            "127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_QuietHandler
        )
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.world.media_base = self.url  # photos and videos are served here too
        return self

    def stop(self) -> None:
        self.release()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- WSGI ------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        params = {k: v for k, v in request.args.items()}
        path = request.path
        route, ids = self._route(path)
        entry = Logged(request.method, path, route, params, _auth_kind(request))
        with self._lock:
            self.requests.append(entry)
            stalled = self._stall_route
            n = len(self.requests) if stalled is None else self.count(stalled)
        if self._stall_after is not None and n > self._stall_after and stalled in (None, route):
            self._resume.wait(timeout=60)
        if path.startswith(MEDIA_PATHS):
            return self._media(request, environ, entry)(environ, start_response)
        try:
            response = self._serve(request, environ, route, ids, params)
        except Problem as exc:
            response = _json(exc.body, exc.status, "application/problem+json")
            if exc.status != 429:
                self._rate_headers(response, request, route, spend=False)
        if response is None:  # a dropped connection
            return []
        entry.status = response.status_code
        return response(environ, start_response)

    def _media(self, request: Request, environ: dict[str, Any], entry: Logged) -> Response:
        path = request.path
        with self._lock:
            queue = self.media_faults.get(path) or []
            behaviour = queue.pop(0) if queue else ""
        if path.startswith("/dm/") and _auth_kind(request) == "none":
            return self._logged(entry, Response("unauthorised", 401))
        if path.endswith(".m3u8"):
            return self._logged(entry, Response("#EXTM3U\n", mimetype="application/x-mpegURL"))
        if behaviour.isdigit():
            return self._logged(entry, Response("no such file", int(behaviour)))
        if behaviour.startswith("redirect:"):
            response = Response("", 302, headers={"Location": behaviour[len("redirect:") :]})
            return self._logged(entry, response)
        body = self.media_bytes(path)
        ctype = "video/mp4" if path.endswith(".mp4") else "image/jpeg"
        if behaviour == "wrongtype":
            body = b"<!doctype html><svg onload=alert(1)>" + body
        if behaviour in ("huge", "huge-chunked"):
            size = 3 * 1024 * 1024
            chunk = body[:4096].ljust(4096, b"\0")
            response = Response((chunk for _ in range(size // 4096)), mimetype=ctype)
            if behaviour == "huge":
                response.headers["Content-Length"] = str(size)
            return self._logged(entry, response)
        if behaviour == "cut":
            sock = environ.get("werkzeug.socket")

            def half() -> Any:
                yield body[: len(body) // 2]
                if sock:
                    sock.shutdown(socket.SHUT_RDWR)

            response = Response(half(), mimetype=ctype)
            response.headers["Content-Length"] = str(len(body))
            return self._logged(entry, response)
        if behaviour == "slow":

            def slowly() -> Any:
                for i in range(0, len(body), 1024):
                    time.sleep(0.01)
                    yield body[i : i + 1024]

            response = Response(slowly(), mimetype=ctype)
            response.headers["Content-Length"] = str(len(body))
            return self._logged(entry, response)
        return self._logged(entry, Response(body, mimetype=ctype))

    @staticmethod
    def _logged(entry: Logged, response: Response) -> Response:
        entry.status = response.status_code
        return response

    def _route(self, path: str) -> tuple[str, list[str]]:
        return route_of(path)

    def _serve(
        self,
        request: Request,
        environ: dict[str, Any],
        route: str,
        ids: list[str],
        params: dict[str, str],
    ) -> Response | None:
        if request.method != "GET" or route not in self.limits:
            raise Problem(404, "Not Found Error", f"no such endpoint {request.path}")
        fault = self._take_fault(route)
        if fault and (fault.midbody or fault.malformed):
            return _broken_body(environ, midbody=fault.midbody)
        if fault and fault.disconnect:
            sock = environ.get("werkzeug.socket")
            if sock:
                sock.shutdown(socket.SHUT_RDWR)
            return None
        if fault and fault.status == 429:
            return self._too_many(request, route, reset=fault.reset)
        if fault:
            raise Problem(
                fault.status,
                "Service Unavailable" if fault.status >= 500 else "Error",
                f"injected {fault.status}",
            )
        who = self._authenticate(request, route)
        if route in self.forbidden:
            raise Problem(
                403,
                "Client Forbidden",
                "When authenticating requests to the Twitter API v2 endpoints, you "
                "must use keys and tokens from a Twitter developer App that is "
                "attached to a Project.",
                "https://api.twitter.com/2/problems/client-forbidden",
                reason="client-not-enrolled",
                required_enrollment="Appropriate Level of API Access",
            )
        bucket = self._bucket(request, route)
        if bucket.used >= self.limits[route]:
            return self._too_many(request, route, reset=True)
        body = self.responses.body(route, ids, params, who)
        response = _json(body)
        self._rate_headers(response, request, route, spend=True)
        return response

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.route in (None, route) and fault.times > 0:
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    # -- auth and rate limits --------------------------------------------------------------
    def _authenticate(self, request: Request, route: str) -> Account | None:
        """The account whose user token signed the request, or None for app-only."""
        header = request.headers.get("Authorization", "")
        user: Account | None = None
        app = False
        if header.startswith("OAuth "):
            oauth = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}
            user = next(
                (
                    a
                    for a in self.world.accounts.values()
                    if a.creds.consumer_key == oauth.get("oauth_consumer_key")
                    and a.creds.access_token == oauth.get("oauth_token")
                ),
                None,
            )
        elif header.startswith("Bearer "):
            token = header[7:]
            user = next(
                (a for a in self.world.accounts.values() if a.creds.oauth2_token == token), None
            )
            app = any(a.creds.bearer == token for a in self.world.accounts.values())
        if user is None and not app:
            raise Problem(401, "Unauthorized", "Unauthorized")
        if user is None and route in USER_ONLY | {"/2/users/:id/bookmarks"}:
            raise Problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
                "endpoint.  Supported authentication types are [OAuth 1.0a User "
                "Context, OAuth 2.0 User Context].",
                "https://api.twitter.com/2/problems/unsupported-authentication",
            )
        if route == "/2/users/:id/bookmarks" and not header.startswith("Bearer "):
            raise Problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 1.0a User Context is forbidden for this "
                "endpoint.  Supported authentication types are [OAuth 2.0 User "
                "Context].",
                "https://api.twitter.com/2/problems/unsupported-authentication",
            )
        return user

    def _bucket(self, request: Request, route: str) -> _Bucket:
        key = (_identity(request), route)
        now = self.clock.time()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or now >= bucket.reset:
                bucket = self._buckets[key] = _Bucket(reset=float(int(now + self.window)))
            return bucket

    def _rate_headers(
        self, response: Response, request: Request, route: str, *, spend: bool
    ) -> None:
        if route not in self.limits:
            return
        bucket = self._bucket(request, route)
        if spend:
            bucket.used += 1
        limit = self.limits[route]
        response.headers["x-rate-limit-limit"] = str(limit)
        response.headers["x-rate-limit-remaining"] = str(max(limit - bucket.used, 0))
        response.headers["x-rate-limit-reset"] = str(int(bucket.reset))

    def _too_many(self, request: Request, route: str, *, reset: bool) -> Response:
        response = _json(
            {
                "title": "Too Many Requests",
                "type": "about:blank",
                "status": 429,
                "detail": "Too Many Requests",
            },
            429,
            "application/problem+json",
        )
        if reset:
            self._rate_headers(response, request, route, spend=False)
            response.headers["x-rate-limit-remaining"] = "0"
        return response

    # -- bodies ----------------------------------------------------------------------------


def _json(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status=status, mimetype=mimetype)


def _broken_body(environ: dict[str, Any], *, midbody: bool) -> Response | None:
    """A 200 whose body is cut off halfway (Content-Length promises more), or garbled."""
    if not midbody:
        return Response(b"<html><body>502 Bad Gateway</body></html>", mimetype="application/json")
    body = orjson.dumps({"data": [{"id": str(i), "text": "cut off"} for i in range(50)]})
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sock = environ["werkzeug.socket"]
    sock.sendall(head + body[: len(body) // 2])
    sock.shutdown(socket.SHUT_RDWR)
    return None


def _auth_kind(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    return "oauth1" if header.startswith("OAuth ") else "bearer" if header else "none"


def _identity(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("OAuth "):
        token = re.search(r'oauth_token="([^"]*)"', header)
        return "oauth1:" + (token.group(1) if token else "")
    return header
