"""A local Bluesky double: PDS, AppView and PLC directory in one small WSGI app, served on
127.0.0.1 (port 0) over real HTTP in a thread, like tests/capture/xapi_double.py.

Repositories are real signed ones (archiver.platforms.bluesky.build over atmst/cbrrr), so
`getRepo` serves genuine CARs: whole, or with `since` only the blocks the named revision did
not hold, as a PDS does. Faults are queued per method (`fail(method, 429, 503)`), accounts can
be deactivated or taken down, and every request is logged so tests can count them.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from archiver.platforms.bluesky.build import RepoBuilder, did_document


class _Quiet(WSGIRequestHandler):
    def log(self, *args: Any) -> None:
        pass


@dataclass
class Account:
    repo: RepoBuilder
    handle: str
    followers: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)  # newest first
    app_password: str | None = None
    status: str | None = None  # RepoDeactivated | RepoTakendown | RepoNotFound
    doc_pds: str | None = None  # the PDS its DID document names (default: this double)


@dataclass
class Logged:
    method: str
    params: dict[str, str]
    authorized: bool


class PdsDouble:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests: list[Logged] = []
        self.faults: dict[str, list[int]] = {}
        self.reset_in: float | None = None  # a 429's ratelimit-reset, seconds from now
        self.tokens: set[str] = set()
        self.page_size = 2  # small pages, so pagination is always exercised
        self.url = ""
        self._lock = threading.Lock()
        self._server: Any = None

    # -- set-up --------------------------------------------------------------------------
    def add(self, account: Account, blobs: dict[str, bytes] | None = None) -> Account:
        self.accounts[account.repo.did] = account
        self.blobs.update(blobs or {})
        return account

    def fail(self, method: str, *statuses: int) -> None:
        self.faults.setdefault(method, []).extend(statuses)

    def count(self, method: str | None = None) -> int:
        return sum(1 for r in self.requests if method is None or r.method == method)

    def methods(self) -> Counter[str]:
        return Counter(r.method for r in self.requests)

    @property
    def plc_url(self) -> str:
        return f"{self.url}/plc"

    def start(self) -> PdsDouble:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_Quiet)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- WSGI ----------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path = request.path
        method = path[len("/xrpc/") :] if path.startswith("/xrpc/") else path.split("/")[1]
        params = dict(request.args.items())
        auth = request.headers.get("Authorization", "")
        with self._lock:
            self.requests.append(Logged(method, params, bool(auth)))
            queued = self.faults.get(method)
            status = queued.pop(0) if queued else None
        if status is not None:
            response = _error(status, "RateLimitExceeded" if status == 429 else "InternalError")
            if status == 429 and self.reset_in is not None:
                response.headers["ratelimit-reset"] = str(int(time.time() + self.reset_in))
        else:
            response = self._answer(request, method, params, auth)
        return response(environ, start_response)

    def _answer(self, request: Request, method: str, params: dict[str, str], auth: str) -> Response:
        if method == "plc":
            did = request.path.split("/", 2)[2]
            acc = self.accounts.get(did)
            if acc is None:
                return _error(404, "NotFound", f"DID not registered: {did}")
            doc = did_document(did, acc.repo.key, acc.handle, acc.doc_pds or self.url)
            return _json(doc)
        if method == "com.atproto.identity.resolveHandle":
            for did, acc in self.accounts.items():
                if acc.handle == params.get("handle"):
                    return _json({"did": did})
            return _error(400, "InvalidRequest", "Unable to resolve handle")
        if method == "com.atproto.sync.getRepo":
            acc = self.accounts.get(params.get("did", ""))
            if acc is None or acc.status == "RepoNotFound":
                return _error(400, "RepoNotFound", "Could not find repo")
            if acc.status:
                return _error(400, acc.status, f"Repo has status {acc.status}")
            since = params.get("since")
            car = acc.repo.car(since=since)
            return Response(car, content_type="application/vnd.ipld.car")
        if method == "com.atproto.sync.getBlob":
            blob = self.blobs.get(params.get("cid", ""))
            if blob is None or params.get("did") not in self.accounts:
                return _error(400, "BlobNotFound", "Blob not found")
            return Response(blob, content_type="application/octet-stream")
        if method == "app.bsky.graph.getFollowers":
            acc = self.accounts.get(params.get("actor", ""))
            if acc is None:
                return _error(400, "InvalidRequest", "Profile not found")
            return _json(
                self._page(
                    acc.followers,
                    params,
                    "followers",
                    {"subject": {"did": acc.repo.did, "handle": acc.handle}},
                )
            )
        if method == "com.atproto.server.createSession":
            body = orjson.loads(request.get_data() or b"{}")
            acc = self.accounts.get(body.get("identifier", ""))
            if acc is None or not acc.app_password or body.get("password") != acc.app_password:
                return _error(401, "AuthenticationRequired", "Invalid identifier or password")
            token = secrets.token_urlsafe(16)
            self.tokens.add(token)
            return _json(
                {
                    "did": acc.repo.did,
                    "handle": acc.handle,
                    "accessJwt": token,
                    "refreshJwt": secrets.token_urlsafe(16),
                }
            )
        if method == "app.bsky.notification.listNotifications":
            token = auth.removeprefix("Bearer ")
            if token not in self.tokens:
                return _error(401, "AuthenticationRequired", "Bad token")
            acc = next(a for a in self.accounts.values() if a.app_password)
            return _json(self._page(acc.notifications, params, "notifications", {}))
        return _error(501, "MethodNotImplemented", method)

    def _page(
        self, items: list[dict[str, Any]], params: dict[str, str], key: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        start = int(params.get("cursor") or 0)
        size = min(int(params.get("limit") or 50), self.page_size)
        page = items[start : start + size]
        body = {**extra, key: page}
        if start + size < len(items):
            body["cursor"] = str(start + size)
        return body


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, content_type="application/json")


def _error(status: int, error: str, message: str = "") -> Response:
    return _json({"error": error, "message": message or error}, status)
