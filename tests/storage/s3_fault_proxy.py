"""A fault-injecting HTTP proxy for S3: put it between boto3 and moto's ThreadedMotoServer.

boto3 talks to the proxy as if it were S3 (`endpoint_url=proxy.url`); every request is
forwarded to the upstream server, and the proxy may, per request:

- `random` mode (seeded, `rate` of requests): answer 500 InternalError or 503 SlowDown
  without forwarding, reset the connection after forwarding (the request landed, the
  answer never came), or forward and cut the answer short (a truncated body);
- `lose_reply(pattern)`: forward a request whose path matches, then drop its answer or
  answer 500 (once, or `times` times): the write lands and the client cannot know.

Each request is logged as (method, path, what happened) so tests can assert on it.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import re
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

FAULTS = ("500", "503", "reset", "truncate")
_ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
}


@dataclass
class LostReply:
    pattern: re.Pattern[str]
    method: str | None
    how: str  # "drop" | "500"
    times: int
    after: int = 0  # let this many matching requests through first


@dataclass
class Logged:
    method: str
    path: str
    outcome: str  # "ok" or the fault injected


@dataclass
class FaultProxy:
    upstream: str  # http://host:port of the real (moto) server
    rate: float = 0.0  # share of requests that meet a random fault
    seed: int = 1
    faults: tuple[str, ...] = FAULTS
    log: list[Logged] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._up = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._random = random.Random(self.seed)  # noqa: S311 - reproducible faults
        self._lost: list[LostReply] = []
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None
        self.url = ""

    # -- test-side controls --------------------------------------------------------------
    def lose_reply(
        self,
        pattern: str,
        *,
        method: str | None = "PUT",
        how: str = "drop",
        times: int = 1,
        after: int = 0,
    ) -> None:
        """The next `times` requests whose (unquoted) path matches reach S3 (after letting
        `after` of them through); their answer is dropped (`how="drop"`) or replaced by a
        500 (`how="500"`)."""
        self._lost.append(LostReply(re.compile(pattern), method, how, times, after))

    def set_rate(self, rate: float, seed: int | None = None) -> None:
        with self._lock:
            self.rate = rate
            if seed is not None:
                self._random.seed(seed)

    def clear(self) -> None:
        """No more faults: every request is forwarded and answered."""
        with self._lock:
            self.rate = 0.0
            self._lost.clear()

    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.log:
            counts[entry.outcome] = counts.get(entry.outcome, 0) + 1
        return counts

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- proxying ------------------------------------------------------------------------
    def _choose(self, method: str, path: str) -> str:
        with self._lock:
            for lost in self._lost:
                wanted = lost.times > 0 and lost.method in (None, method)
                if wanted and lost.pattern.search(unquote(path)):
                    if lost.after > 0:
                        lost.after -= 1
                        return "ok"
                    lost.times -= 1
                    return "lost-" + lost.how
            if self.rate and self._random.random() < self.rate:
                return self._random.choice(self.faults)
        return "ok"

    def _handle(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        try:
            head = _read_head(reader)
            if head is None:
                return
            request_line, headers = head
            method, path, _version = request_line.split(" ", 2)
            if headers.get("expect", "").lower() == "100-continue":
                client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = _read_body(reader, headers)
            outcome = self._choose(method, path)
            self.log.append(Logged(method, unquote(path), outcome))
            if outcome in _ERRORS:
                client.sendall(_error_response(*_ERRORS[outcome]))
                return
            status_line, resp_headers, resp_body = self._forward(method, path, headers, body)
            raw = _response_bytes(status_line, resp_headers, resp_body)
            if outcome in ("reset", "lost-drop"):
                _reset(client)
            elif outcome == "lost-500":
                client.sendall(_error_response(*_ERRORS["500"]))
            elif outcome == "truncate":
                # the status and headers arrive, the body (or the headers) is cut short
                cut = len(raw) - max(1, len(resp_body) // 2) if resp_body else len(raw) // 2
                client.sendall(raw[:cut])
            else:
                client.sendall(raw)
        except (OSError, ValueError):
            pass  # the client went away; nothing to answer
        finally:
            reader.close()
            with contextlib.suppress(OSError):
                client.close()

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self._up, timeout=30)
        try:
            sent = {k: v for k, v in headers.items() if k not in ("expect", "connection")}
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in sent.items():
                conn.putheader(name, value)
            conn.putheader("Connection", "close")
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            kept = [
                (k, v)
                for k, v in resp.getheaders()
                if k.lower() not in ("connection", "transfer-encoding", "content-length")
            ]
            length = resp.getheader("Content-Length") if method == "HEAD" else str(len(data))
            if length is not None:
                kept.append(("Content-Length", length))
            return f"HTTP/1.1 {resp.status} {resp.reason}", kept, data
        finally:
            conn.close()


def _read_head(reader: BinaryIO) -> tuple[str, dict[str, str]] | None:
    lines: list[str] = []
    while True:
        raw = reader.readline(65537)
        if not raw:
            return None
        if raw in (b"\r\n", b"\n"):
            break
        lines.append(raw.decode("latin-1").rstrip("\r\n"))
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _read_body(reader: BinaryIO, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return reader.read(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        raise ValueError("chunked request bodies are not proxied")
    return b""


def _response_bytes(status_line: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = status_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += "Connection: close\r\n\r\n"
    return head.encode("latin-1") + body


def _error_response(status: int, code: str, message: str) -> bytes:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
    ).encode()
    reason = http.client.responses.get(status, "Error")
    return _response_bytes(
        f"HTTP/1.1 {status} {reason}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
        body,
    )


def _reset(client: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the client sees 'connection reset', no answer."""
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()


@dataclass
class FaultRuns:
    """What `runs_under_faults` saw: each run's outcome and whether anything was lost."""

    committed: int = 0
    failed: list[str] = field(default_factory=list)  # each failure's message (one line?)
    crashed: list[str] = field(default_factory=list)  # exceptions that are not the archiver's
    lost: list[str] = field(default_factory=list)  # problems `verify` found afterwards
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        return {
            "runs": self.committed + len(self.failed) + len(self.crashed),
            "committed": self.committed,
            "failed": self.failed,
            "crashed": self.crashed,
            "lost_or_altered": self.lost,
            "requests": self.requests,
            "faults": self.faults,
        }


def runs_under_faults(
    proxy: FaultProxy,
    run: object,
    count: int,
    *,
    rate: float = 0.1,
    seed: int = 1,
    verify: object = None,
) -> FaultRuns:
    """Call `run(i)` (one import or backup) `count` times with `rate` of the proxy's requests
    failing; then, faults off, `verify()` returns the problems the store holds."""
    from archiver.errors import USER_ERRORS

    seen = FaultRuns()
    before = len(proxy.log)
    for i in range(count):
        proxy.set_rate(rate, seed=seed * 1000 + i)
        try:
            run(i)  # type: ignore[operator]
            seen.committed += 1
        except USER_ERRORS as exc:
            seen.failed.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - counted: a traceback for the operator
            seen.crashed.append(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")
    proxy.clear()
    seen.lost = [str(p) for p in verify()] if verify else []  # type: ignore[operator]
    seen.requests = len(proxy.log) - before
    for entry in proxy.log[before:]:
        if entry.outcome != "ok":
            seen.faults[entry.outcome] = seen.faults.get(entry.outcome, 0) + 1
    return seen
