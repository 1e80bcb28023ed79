"""A local Mastodon API double: a small WSGI app on 127.0.0.1 (port 0), served in a thread.

It follows the documented entity shapes (docs.joinmastodon.org: Account, Status, StatusEdit,
Notification, List, MediaAttachment), newest-first pages of `limit` items with `Link`
headers (`rel="next"` by `max_id`, `rel="prev"` by `min_id`), `since_id`, the
`X-RateLimit-Limit/-Remaining/-Reset` headers (reset as ISO 8601), Bearer tokens (401 with
Mastodon's JSON error for any other), media files on the server's own host and on another.
Switches inject faults (429 with a reset, 5xx, a revoked token) and every request is logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from archiver.demo.media import JPEG

TOKEN = "test-access-token-0123456789"
EPOCH = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
WINDOW = 300  # Mastodon's default API window: 300 requests per 5 minutes
OTHER_MEDIA_HOST = "files.elsewhere.example"  # a media host the archive is not told to trust


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _sid(when: dt.datetime, seq: int) -> str:
    return str((int(when.timestamp() * 1000) << 16) | seq)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Fault:
    path: str | None  # a path prefix, or None for any request
    status: int
    times: int = 1
    reset_in: float = 1.0  # seconds to the reset a 429 names


@dataclass
class Logged:
    path: str
    params: dict[str, str]
    status: int = 0


@dataclass
class MastodonDouble:
    """One server holding the archived account `user` and the people around it."""

    user: str = "force"
    statuses: int = 45
    page_size: int = 20
    limit: int = WINDOW
    token: str = TOKEN
    faults: list[Fault] = field(default_factory=list)
    requests: list[Logged] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Any = None
        self.url = ""
        self.host = ""
        self.remaining = self.limit
        self.revoked = False

    # -- the world ---------------------------------------------------------------------------
    def build(self) -> None:
        """Entities in the documented shapes (called once the server knows its URL)."""
        self.me = self.account("1", self.user, "Example Force")
        self.me["source"] = {"privacy": "public", "note": "Official account", "fields": []}
        self.people = [self.account(str(100 + i), f"person{i}", f"Person {i}") for i in range(7)]
        remote = self.account("900", "partner@other.example", "A Partner", domain="other.example")
        self.people.append(remote)
        self.timeline: list[dict[str, Any]] = []  # newest first
        self.history: dict[str, list[dict[str, Any]]] = {}
        when = EPOCH
        for n in range(self.statuses):
            when += dt.timedelta(hours=2)
            self.timeline.insert(0, self.make_status(n, when))
        self.notifications: list[dict[str, Any]] = [
            {
                "id": str(5000 + i),
                "type": "mention",
                "created_at": _iso(EPOCH + dt.timedelta(hours=3 * i + 1)),
                "account": self.people[i % len(self.people)],
                "status": self.other_status(i, self.people[i % len(self.people)], mention=True),
            }
            for i in range(6)
        ]
        self.notifications[-1]["status"]["visibility"] = "direct"  # someone's DM to the account
        self.favourites = [self.other_status(50 + i, self.people[i]) for i in range(5)]
        self.bookmarks = [self.other_status(60 + i, self.people[i]) for i in range(3)]
        self.followers = list(self.people[:6])
        self.following = list(self.people[3:])
        self.lists = [
            {"id": "71", "title": "Partners", "replies_policy": "list", "exclusive": False},
            {"id": "72", "title": "Press", "replies_policy": "followed", "exclusive": False},
        ]
        self.list_members = {"71": self.people[:3], "72": self.people[5:]}

    def account(
        self, aid: str, acct: str, name: str, *, domain: str | None = None
    ) -> dict[str, Any]:
        username = acct.partition("@")[0]
        host = domain or self.host
        return {
            "id": aid,
            "username": username,
            "acct": acct,
            "display_name": name,
            "locked": False,
            "bot": False,
            "group": False,
            "discoverable": True,
            "created_at": "2022-11-07T00:00:00.000Z",
            "note": f'<p>{name} on <a href="https://example.org/{username}">the web</a></p>',
            "url": f"https://{host}/@{username}",
            "uri": f"https://{host}/users/{username}",
            "avatar": f"{self.url}/system/accounts/avatars/{aid}.jpg",
            "avatar_static": f"{self.url}/system/accounts/avatars/{aid}.jpg",
            "header": f"{self.url}/system/accounts/headers/{aid}.jpg",
            "header_static": f"{self.url}/system/accounts/headers/{aid}.jpg",
            "followers_count": 6,
            "following_count": 5,
            "statuses_count": self.statuses,
            "last_status_at": "2026-01-09",
            "emojis": [],
            "fields": [],
        }

    def _media(self, sid: str, i: int, host_url: str) -> dict[str, Any]:
        path = f"/system/media_attachments/files/{sid}/original/{i}.jpg"
        return {
            "id": f"{sid}{i}",
            "type": "image",
            "url": f"{host_url}{path}",
            "preview_url": f"{host_url}{path.replace('original', 'small')}",
            "remote_url": None,
            "meta": {"original": {"width": 16, "height": 9}},
            "description": f"Photo {i} of the appeal",
            "blurhash": "UPJ[3I_NI9t7ROx]xZkBtRIAxaWEWBsmRjbH",
        }

    def make_status(self, n: int, when: dt.datetime) -> dict[str, Any]:
        sid = _sid(when, n)
        visibility = ("public", "unlisted", "private", "direct")[n % 4] if n % 5 else "public"
        me = self.me
        status = self._status(sid, me, when, f"<p>Witness appeal {n}: call 101 #Appeal{n}</p>")
        status["visibility"] = visibility
        status["tags"] = [{"name": f"appeal{n}", "url": f"https://{self.host}/tags/appeal{n}"}]
        if visibility == "direct":
            person = self.people[n % len(self.people)]
            status["mentions"] = [_mention(person)]
            status["content"] = f"<p>@{person['username']} can you share this? ({n})</p>"
        if n % 9 == 4 and self.timeline:  # a reply to the account's own earlier status
            parent = self.timeline[-1]
            status["in_reply_to_id"] = parent["id"]
            status["in_reply_to_account_id"] = me["id"]
        if n % 7 == 3:  # a boost: the reblog carries the boosted status
            original = self.other_status(n, self.people[n % len(self.people)])
            status.update(content="", reblog=original, uri=f"{me['uri']}/statuses/{sid}/activity")
            status.update(tags=[], mentions=[], visibility="public")  # a boost is never direct
        if n % 6 == 1:  # photos: one on the server, one on a host not allowed
            status["media_attachments"] = [
                self._media(sid, 0, self.url),
                self._media(sid, 1, f"https://{OTHER_MEDIA_HOST}"),
            ]
        if n % 8 == 2 and not status.get("reblog"):  # edited twice
            status["edited_at"] = _iso(when + dt.timedelta(minutes=10))
            versions = [
                f"<p>Witness apeal {n}</p>",
                f"<p>Witness appeal {n}: call 101</p>",
                status["content"],
            ]
            self.history[sid] = [
                {
                    "content": text,
                    "spoiler_text": "",
                    "sensitive": False,
                    "created_at": _iso(when + dt.timedelta(minutes=5 * i)),
                    "account": me,
                    "poll": None,
                    "media_attachments": status["media_attachments"],
                    "emojis": [],
                }
                for i, text in enumerate(versions)
            ]
        return status

    def other_status(
        self, n: int, author: dict[str, Any], *, mention: bool = False
    ) -> dict[str, Any]:
        when = EPOCH + dt.timedelta(hours=n)
        content = f"<p>Post {n} by {author['display_name']}</p>"
        status = self._status(_sid(when, 40000 + n), author, when, content)
        if mention:
            status["mentions"] = [_mention(self.me)]
            status["content"] = f"<p>@{self.user} thanks for post {n}</p>"
            status["in_reply_to_id"] = self.timeline[-1]["id"] if self.timeline else None
            status["in_reply_to_account_id"] = self.me["id"]
        return status

    def _status(
        self, sid: str, author: dict[str, Any], when: dt.datetime, content: str
    ) -> dict[str, Any]:
        return {
            "id": sid,
            "uri": f"{author['uri']}/statuses/{sid}",
            "url": f"{author['url']}/{sid}",
            "created_at": _iso(when),
            "edited_at": None,
            "account": author,
            "content": content,
            "visibility": "public",
            "sensitive": False,
            "spoiler_text": "",
            "media_attachments": [],
            "application": {"name": "Web", "website": None},
            "mentions": [],
            "tags": [],
            "emojis": [],
            "reblogs_count": 1,
            "favourites_count": 2,
            "replies_count": 0,
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog": None,
            "poll": None,
            "card": None,
            "language": "en",
            "text": None,
        }

    # -- test-side controls --------------------------------------------------------------------
    def fail(self, path: str | None, status: int, times: int = 1, **kw: Any) -> None:
        self.faults.append(Fault(path, status, times, **kw))

    def count(self, prefix: str) -> int:
        return sum(1 for r in self.requests if r.path.startswith(prefix))

    def media_bytes(self, path: str) -> bytes:
        return JPEG + hashlib.sha256(path.encode()).digest()

    def start(self) -> MastodonDouble:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_Quiet)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.host = f"127.0.0.1:{self._server.server_port}"
        self.build()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- WSGI ------------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        entry = Logged(request.path, {k: v for k, v in request.args.items()})
        with self._lock:
            self.requests.append(entry)
            response = self._serve(request)
        entry.status = response.status_code
        return response(environ, start_response)

    def _serve(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/system/"):
            return Response(self.media_bytes(path), content_type="image/jpeg")
        for fault in self.faults:
            if fault.times > 0 and (fault.path is None or path.startswith(fault.path)):
                fault.times -= 1
                if fault.status == 429:
                    reset = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=fault.reset_in)
                    return self._json({"error": "Too many requests"}, 429, remaining=0, reset=reset)
                return self._json({"error": "Something went wrong"}, fault.status)
        if self.revoked or request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json({"error": "The access token is invalid"}, 401)
        self.remaining = max(0, self.remaining - 1)
        route = self._route(path)
        if route is None:
            return self._json({"error": "Record not found"}, 404)
        items, paged = route
        if not paged:
            return self._json(items)
        return self._page(request, items)

    def _route(self, path: str) -> tuple[Any, bool] | None:
        me = self.me["id"]
        routes: dict[str, tuple[Any, bool]] = {
            "/api/v1/accounts/verify_credentials": (self.me, False),
            f"/api/v1/accounts/{me}/statuses": (self.timeline, True),
            "/api/v1/notifications": (self.notifications, True),
            "/api/v1/favourites": (self.favourites, True),
            "/api/v1/bookmarks": (self.bookmarks, True),
            f"/api/v1/accounts/{me}/followers": (self.followers, True),
            f"/api/v1/accounts/{me}/following": (self.following, True),
            "/api/v1/lists": (self.lists, False),
        }
        if path in routes:
            return routes[path]
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:3] == ["api", "v1", "statuses"]:
            known = [*self.timeline, *(n["status"] for n in self.notifications)]
            status = next((s for s in known if s["id"] == parts[3]), None)
            return (status, False) if status is not None else None
        if len(parts) == 5 and parts[:3] == ["api", "v1", "statuses"] and parts[4] == "history":
            status = next((s for s in self.timeline if s["id"] == parts[3]), None)
            if status is None:
                return None
            return self.history.get(parts[3]) or [_edit_of(status)], False
        if len(parts) == 5 and parts[:3] == ["api", "v1", "lists"] and parts[4] == "accounts":
            members = self.list_members.get(parts[3])
            return (members, True) if members is not None else None
        return None

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        """Newest first; `max_id`/`since_id`/`min_id` bound the page by position in the list
        (for favourites and bookmarks Mastodon pages by internal ids: positions stand in)."""
        ids = [str(i.get("id")) for i in items]
        pos = {rid: n for n, rid in enumerate(ids)}
        start, end = 0, len(items)
        args = request.args
        if args.get("max_id") in pos:
            start = pos[args["max_id"]] + 1
        if args.get("since_id") in pos:
            end = min(end, pos[args["since_id"]])
        limit = min(int(args.get("limit") or self.page_size), 80)
        if args.get("types[]") and request.path == "/api/v1/notifications":
            wanted = set(args.getlist("types[]"))
            items = [i for i in items if i["type"] in wanted]
        chunk = items[start:end][:limit]
        response = self._json(chunk)
        links = []
        base = f"{self.url}{request.path}"
        if chunk and start + len(chunk) < end:
            links.append(f'<{base}?{urlencode({"max_id": chunk[-1]["id"]})}>; rel="next"')
        if chunk:
            links.append(f'<{base}?{urlencode({"min_id": chunk[0]["id"]})}>; rel="prev"')
        if links:
            response.headers["Link"] = ", ".join(links)
        return response

    def _json(
        self,
        body: Any,
        status: int = 200,
        *,
        remaining: int | None = None,
        reset: dt.datetime | None = None,
    ) -> Response:
        response = Response(orjson.dumps(body), status=status, content_type="application/json")
        reset = reset or dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        response.headers["X-RateLimit-Limit"] = str(self.limit)
        response.headers["X-RateLimit-Remaining"] = str(
            self.remaining if remaining is None else remaining
        )
        response.headers["X-RateLimit-Reset"] = reset.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        )
        return response


def _mention(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": account["id"],
        "username": account["username"],
        "url": account["url"],
        "acct": account["acct"],
    }


def _edit_of(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": status["content"],
        "spoiler_text": status["spoiler_text"],
        "sensitive": status["sensitive"],
        "created_at": status["created_at"],
        "account": status["account"],
        "poll": None,
        "media_attachments": status["media_attachments"],
        "emojis": [],
    }
