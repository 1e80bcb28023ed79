"""Media bytes from the API: the photos, GIFs and videos of a run's records, kept in the run.

Each URL a record names (a photo at `name=orig`, a video's best MP4 variant and its preview
image) is fetched once per account: streamed to a temporary file (memory stays flat), checked
(size limit, complete body, what the bytes are), then written create-only to the store as
`files/media/<sha256>.<ext>` under the run, and its provenance (source URL, retrieved_at,
HTTP status, content type, size, SHA-256, the records using it) is checkpointed, so a killed
run resumes without fetching a file twice. Bytes an earlier run of the account already holds
(the same URL, or the same SHA-256) are not stored again: the provenance points at them.

Only http(s) URLs on `capture.media_hosts` are fetched, redirects included (a hostile API
response must not make the archiver fetch other URLs). A file that answers 404/403/410 or
any other refusal, is larger than `capture.media_max_mb`, or keeps failing is a recorded gap
(a warning in the manifest and in `reconcile`), never a failed run. Retries go through the
capture's one retry loop (`RateLimiter.call`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import orjson
import requests
import tweepy

from archiver.capture.errors import XApiError
from archiver.capture.ratelimit import RateLimiter
from archiver.timestamps import isoformat, utcnow
from storage.errors import NotFound, ObjectExists
from storage.manifest import Manifest
from storage.runs import run_prefix
from storage.store import ObjectStore, read_bytes

log = logging.getLogger(__name__)

PROVENANCE = "files/media/provenance.jsonl"  # one line per file the run's records use
MEDIA_DIR = "files/media/"
ENDPOINT = "media"  # the retry loop's name for media downloads
MAX_REDIRECTS = 3
_CHUNK = 1 << 16
GONE = {403, 404, 410}

# what the first bytes say a file is (never what the server claims)
_MAGIC: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"GIF87a", 0, "image/gif", "gif"),
    (b"GIF89a", 0, "image/gif", "gif"),
    (b"WEBP", 8, "image/webp", "webp"),
    (b"ftyp", 4, "video/mp4", "mp4"),
)
UNKNOWN_TYPE = "application/octet-stream"


def sniff(head: bytes) -> tuple[str, str]:
    """(content type, extension) from a file's first bytes; unknown bytes stay unknown."""
    for magic, offset, ctype, ext in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return ctype, ext
    return UNKNOWN_TYPE, "bin"


def original_size(url: str) -> str:
    """A photo URL at its original size (`name=orig`, X's largest rendition)."""
    parts = urlsplit(url)
    if not parts.path.startswith("/media/") or parts.path.endswith(".mp4"):
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "name"] + [("name", "orig")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def wanted_urls(rec: dict[str, Any]) -> list[str]:
    """The media URLs of a record: each photo or best video variant, and video previews."""
    urls = []
    for media in rec.get("media") or ():
        for url in (media.get("url"), media.get("preview_url")):
            if isinstance(url, str) and url and url not in urls:
                urls.append(url)
    return urls


class MediaRefused(Exception):
    """A URL the archiver will not fetch (scheme or host not allowed)."""


def check_url(url: str, hosts: Iterable[str], setting: str = "capture.media_hosts") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise MediaRefused(f"not an http(s) URL: {url[:200]}")
    host = (parts.hostname or "").lower()
    if host not in set(hosts):
        raise MediaRefused(f"host {host or '(none)'} is not in {setting}")
    return url


@dataclass
class MediaFile:
    """One URL's provenance line."""

    url: str  # as the record names it
    source_url: str  # as requested (name=orig)
    records: list[str] = field(default_factory=list)  # "<collection>/<id>"
    retrieved_at: str | None = None
    status: int | None = None
    content_type: str | None = None  # from the bytes
    declared_type: str | None = None  # what the server said
    size: int | None = None
    sha256: str | None = None
    key: str | None = None  # the object, relative to the account's runs/ folder
    gap: str | None = None  # why it is not held
    user_context: bool = False  # DM media: fetched with the account's user token

    def line(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v is not False}

    @classmethod
    def from_line(cls, doc: dict[str, Any]) -> MediaFile:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in known})


def held_media(store: ObjectStore, manifests: Iterable[Manifest]) -> dict[str, MediaFile]:
    """Every URL earlier runs hold the bytes of, with their provenance (newest wins)."""
    held: dict[str, MediaFile] = {}
    for manifest in manifests:
        for line in provenance(store, manifest):
            if line.key:
                held[line.url] = line
    return held


def provenance(store: ObjectStore, manifest: Manifest) -> Iterator[MediaFile]:
    if not any(o.key == PROVENANCE for o in manifest.objects):
        return
    for raw in read_bytes(store, manifest.prefix + PROVENANCE).splitlines():
        if raw.strip():
            yield MediaFile.from_line(orjson.loads(raw))


class MediaFetcher:
    """Downloads one run's media into the store; see the module docstring."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        account_id: str,
        run_id: str,
        limiter: RateLimiter,
        hosts: Iterable[str],
        max_bytes: int,
        hosts_setting: str = "capture.media_hosts",  # named when a host is refused
        timeout: float = 30.0,
        user_auth: Any = None,
        held: dict[str, MediaFile] | None = None,
        done: dict[str, MediaFile] | None = None,
        on_done: Any = None,
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.run_id = run_id
        self.limiter = limiter
        self.hosts = frozenset(h.lower() for h in hosts)
        self.hosts_setting = hosts_setting
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.user_auth = user_auth  # OAuth 1.0a for DM media (ton.twitter.com)
        self.held = held or {}
        self.by_sha = {m.sha256: m for m in self.held.values() if m.sha256 and m.key}
        self.files: dict[str, MediaFile] = dict(done or {})  # url -> this run's line
        self.on_done = on_done  # called with each finished line (the checkpoint)
        self.session = requests.Session()
        self.fetched = 0  # files downloaded by this process
        self.bytes = 0

    def want(self, collection: str, rec: dict[str, Any]) -> None:
        """Note the record's media (called for every record the run writes)."""
        ref = f"{collection}/{rec['id']}"
        for url in wanted_urls(rec):
            entry = self.files.get(url)
            if entry is None:
                entry = self.files[url] = MediaFile(url, original_size(url))
                entry.records.append(ref)
                entry.user_context = collection == "dms"
            elif ref not in entry.records:
                entry.records.append(ref)

    def stored_here(self) -> list[MediaFile]:
        """Lines whose bytes this run stores (the others point at earlier runs)."""
        mine = f"{self.run_id}/"
        seen: set[str] = set()
        out = []
        for m in self.files.values():
            if m.key and m.key.startswith(mine) and m.key not in seen:
                seen.add(m.key)
                out.append(m)
        return out

    def fetch_all(self) -> None:
        for entry in list(self.files.values()):
            if entry.retrieved_at is not None or entry.gap is not None:
                continue  # done before a kill, or earlier in this run
            self._fetch(entry)
            if self.on_done:
                self.on_done(entry)

    def gaps(self) -> list[MediaFile]:
        return [m for m in self.files.values() if m.gap]

    def lines(self) -> bytes:
        return b"".join(orjson.dumps(m.line()) + b"\n" for m in self.files.values())

    # -- one file --------------------------------------------------------------------------
    def _fetch(self, entry: MediaFile) -> None:
        known = self.held.get(entry.url)
        if known is not None:  # an earlier run of the account holds these bytes
            self._copy(entry, known)
            return
        try:
            check_url(entry.source_url, self.hosts, self.hosts_setting)
            path = self.limiter.call(ENDPOINT, lambda: self._download(entry))
        except MediaRefused as exc:
            entry.gap = f"not fetched: {exc}"
        except XApiError as exc:  # retries exhausted
            entry.gap = f"failed: {exc}"
        if entry.gap:
            log.info("media %s: %s", printable(entry.url), entry.gap)
            return
        try:
            self._store(entry, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _copy(self, entry: MediaFile, known: MediaFile) -> None:
        for name in ("retrieved_at", "status", "content_type", "declared_type", "size"):
            setattr(entry, name, getattr(known, name))
        entry.sha256, entry.key = known.sha256, known.key

    def _download(self, entry: MediaFile) -> str:
        """Fetch to a temporary file; raise a retryable error or set entry.gap (returns '')."""
        url = entry.source_url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                check_url(url, self.hosts, self.hosts_setting)
            except MediaRefused as exc:
                entry.gap = f"redirected to a URL not fetched: {exc}"
                return ""
            # the user token only ever goes to the URL the record named, never a redirect
            auth = self.user_auth if entry.user_context and url == entry.source_url else None
            try:
                response = self.session.get(
                    url, stream=True, allow_redirects=False, timeout=self.timeout, auth=auth
                )
            except requests.RequestException as exc:
                raise requests.ConnectionError(str(exc)) from None
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                return self._body(entry, response)
        entry.gap = f"more than {MAX_REDIRECTS} redirects"
        return ""

    def _body(self, entry: MediaFile, response: requests.Response) -> str:
        status = response.status_code
        entry.status = status
        if status >= 500 or status == 429:
            raise tweepy.TwitterServerError(response)  # the retry loop backs off
        if status != 200:
            entry.gap = f"HTTP {status}" + (" (gone from the platform)" if status in GONE else "")
            return ""
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            entry.gap = _too_big(int(declared), self.max_bytes)
            return ""
        fd, path = tempfile.mkstemp(prefix="media-")
        size = 0
        digest = hashlib.sha256()
        head = b""
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        entry.gap = _too_big(size, self.max_bytes, at_least=True)
                        os.unlink(path)
                        return ""
                    if len(head) < 16:
                        head += chunk[:16]
                    digest.update(chunk)
                    out.write(chunk)
        except (requests.RequestException, OSError) as exc:
            os.unlink(path)
            raise requests.ConnectionError(f"body cut short: {exc}") from None
        if declared and declared.isdigit() and size != int(declared):
            os.unlink(path)
            raise requests.ConnectionError(f"body cut short: {size} of {declared} bytes")
        entry.retrieved_at = isoformat(utcnow())
        entry.size = size
        entry.sha256 = digest.hexdigest()
        entry.declared_type = response.headers.get("content-type")
        entry.content_type = sniff(head)[0]
        return path

    def _store(self, entry: MediaFile, path: str) -> None:
        assert entry.sha256
        same = self.by_sha.get(entry.sha256)
        if same is not None:  # identical bytes under another URL: stored once per account
            entry.key = same.key
            return
        ext = sniff(read_head(path))[1]
        name = f"{MEDIA_DIR}{entry.sha256}.{ext}"
        key = run_prefix(self.account_id, self.run_id) + name
        try:
            info = self.store.head(key)
            if info.size != entry.size:  # a kill left something else: never keep it
                self.store.delete(key)
                raise NotFound(key)
        except NotFound:
            with contextlib.suppress(ObjectExists):  # same name, same bytes: a retry landed
                self.store.put_file(key, path)
        entry.key = f"{self.run_id}/{name}"
        self.by_sha[entry.sha256] = entry
        self.fetched += 1
        self.bytes += entry.size or 0


def printable(text: str, limit: int = 200) -> str:
    """A hostile URL as one harmless line: no control characters, bounded."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean[:limit] + ("..." if len(clean) > limit else "")


def read_head(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(16)


def _too_big(size: int, limit: int, *, at_least: bool = False) -> str:
    what = f"more than {size / 1e6:.1f}" if at_least else f"{size / 1e6:.1f}"
    return f"{what} MB, over capture.media_max_mb ({limit / 1e6:.1f} MB): not downloaded"


def user_auth(credentials: Any) -> Any:
    """How DM media (ton.twitter.com) is fetched with the account's user context."""
    if credentials.oauth1:
        from requests_oauthlib import OAuth1  # type: ignore[import-untyped]

        return OAuth1(
            credentials.consumer_key,
            credentials.consumer_secret,
            credentials.access_token,
            credentials.access_token_secret,
        )
    if credentials.oauth2_user_token:
        return _Bearer(credentials.oauth2_user_token)
    return None


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request
