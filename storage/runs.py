"""Runs: the unit of capture. Each run is a set of gzip JSONL objects plus a manifest.

Layout: accounts/<account_id>/runs/<run_id>/<collection>.jsonl.gz, files/..., manifest.json.
Objects are staged on local disk while the run is written (memory stays flat), uploaded at
commit, and the manifest (SHA-256, size, record count per object) is written last: it is
the commit point. A run without a manifest is not a run; a committed run is never
overwritten or deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import gzip
import hashlib
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from zlib_ng import gzip_ng, zlib_ng

from archiver.timestamps import isoformat, utcnow
from storage.accountids import check_account_id
from storage.chain import next_link
from storage.errors import NoSpace, NotFound, StorageError
from storage.manifest import MANIFEST, Manifest, ObjectEntry, run_prefix
from storage.records import COLLECTION_OF_KIND, dumps
from storage.store import ObjectStore, read_bytes, sha256_file

log = logging.getLogger(__name__)

RUN_KINDS = ("full", "incremental", "import")
STAGING_PREFIX = "run-"  # staging folders: run-<run id>-<random>, removed by `archiver gc`
_CHUNK = 1 << 20


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sorts chronologically; the suffix keeps two runs in the same microsecond apart."""
    now = now or utcnow()
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


__all__ = [  # the manifest's names are part of this module's interface too
    "MANIFEST",
    "Manifest",
    "ObjectEntry",
    "RunWriter",
    "iter_records",
    "iter_run",
    "list_runs",
    "run_prefix",
]


def account_prefix(account_id: str) -> str:
    return f"accounts/{account_id}/runs/"


class _Collection:
    """One collection's staged gzip JSONL. Lines are handed to zlib in batches of ~256 KB:
    a GzipFile.write per record (crc, size, a compress call) was a tenth of an import's CPU,
    and the bytes written are the same."""

    _BATCH = 1 << 18

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._raw = open(path, "wb")  # noqa: SIM115 - closed by close() or abandon()
        # mtime=0 and no file name in the gzip header: same records, same bytes
        # level 6: a third faster than the default 9 for 2% more bytes on record JSONL
        # zlib-ng: the same gzip format (any gzip reader reads it, as every run before it)
        # at under half zlib's CPU, and 0.6% fewer bytes (42 MB of records: 0.37 CPU-s for
        # 4.02 MB against 0.75 s for 4.04 MB); zlib was a fifth of an import's CPU
        self._gz: gzip.GzipFile = gzip_ng.GzipFile(  # type: ignore[no-untyped-call]
            fileobj=self._raw, mode="wb", mtime=0, filename="", compresslevel=6
        )
        self._lines: list[bytes] = []
        self._size = 0

    def write(self, line: bytes) -> None:
        self._lines.append(line)
        self._size += len(line)
        self.count += 1
        if self._size >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._lines:
            self._gz.write(b"".join(self._lines))
            self._lines, self._size = [], 0

    def close(self) -> None:
        self._flush()
        self._gz.close()
        self._raw.close()

    def abandon(self) -> None:
        self._lines = []
        with contextlib.suppress(OSError, ValueError):  # a full disk fails the flush too
            self._gz.close()
        with contextlib.suppress(OSError):
            self._raw.close()


class _StagingDisk:
    """`with` it around writes to the staging disk: ENOSPC becomes NoSpace (a class, not a
    generator context manager: it is entered once per record)."""

    def __init__(self, staging: Path) -> None:
        self._staging = staging

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise NoSpace(str(self._staging)) from None


class RunWriter:
    """Write one run. Use as a context manager: an exception aborts and leaves nothing.

    >>> with RunWriter(store, account_id="1", account="x", kind="import", source="x-archive",
    ...                tool_version="0.1") as run:
    ...     run.write(record)
    ...     manifest = run.commit()
    """

    def __init__(
        self,
        store: ObjectStore,
        *,
        account_id: str,
        account: str,
        kind: str,
        source: str,
        tool_version: str,
        parent_run: str | None = None,
        run_id: str | None = None,
        staging_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {RUN_KINDS}")
        check_account_id(account_id)
        self.store = store
        self.account_id = str(account_id)
        self.account = account
        self.kind = kind
        self.source = source
        self.tool_version = tool_version
        self.parent_run = parent_run
        self.run_id = run_id or new_run_id()
        self.started_at = isoformat(utcnow())
        # the staging area (storage.staging_path); the system temp dir only for direct use
        self.staging = Path(staging_dir) if staging_dir else Path(tempfile.gettempdir())
        self._staging_disk = _StagingDisk(self.staging)
        with self._disk():
            self.staging.mkdir(parents=True, exist_ok=True)
            self._dir = Path(
                tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{self.run_id}-", dir=self.staging)
            )
        self._collections: dict[str, _Collection] = {}
        self._files: dict[str, Path] = {}
        # size and SHA-256 of a staged file, taken as it was written (reading every media
        # file back at commit to hash it was an open and a read per photo)
        self._digests: dict[str, tuple[int, str]] = {}
        self._folders: set[Path] = set()  # staging folders made (a mkdir per file before)
        self._stored: dict[str, tuple[int, str]] = {}  # already in the store: size, sha256
        # a store that writes a new object in place (a local directory) takes a run's
        # streamed files straight under the run's prefix: staging, linking and unlinking
        # each cost syscalls per file; they are listed with the staged files and removed
        # if the run aborts, and until the manifest lists them they are an uncommitted
        # run's objects, which no reader counts
        self._write_new: Callable[[str, BinaryIO], tuple[int, str]] | None = getattr(
            store, "write_new", None
        )
        self._written: dict[str, tuple[int, str]] = {}  # written in place: size, sha256
        self._done = False

    def _disk(self) -> _StagingDisk:
        """A full staging disk is one clear error, not an OSError traceback."""
        return self._staging_disk

    # -- writing ---------------------------------------------------------------------------
    def write(self, record: dict[str, Any], collection: str | None = None) -> None:
        """Append a record to its collection (by kind unless given)."""
        with self._disk():
            self._write(record, collection)

    def _write(self, record: dict[str, Any], collection: str | None) -> None:
        name = collection or COLLECTION_OF_KIND[record["kind"]]
        entry = self._collections.get(name)
        if entry is None:
            entry = self._collections[name] = _Collection(self._dir / f"{name}.jsonl.gz")
        if record.get("run_id") is None and "run_id" in record:
            record["run_id"] = self.run_id
        entry.write(dumps(record))

    def add_file(self, name: str, src: BinaryIO | str | os.PathLike[str]) -> None:
        """Keep a source file (an archive's .js, an API page, a media file) with the run."""
        rel = "files/" + name.lstrip("/")
        if rel in self._files or rel in self._written:
            return
        if self._write_new is not None and not isinstance(src, (str, os.PathLike)):
            key = run_prefix(self.account_id, self.run_id) + rel
            self._written[rel] = self._write_new(key, src)
            return
        dest = self._dir / rel
        with self._disk():
            self._folder(dest.parent)
            if isinstance(src, (str, os.PathLike)):
                shutil.copyfile(src, dest)  # hashed at commit
            else:
                digest, size = hashlib.sha256(), 0
                with open(dest, "wb") as out:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                self._digests[rel] = (size, digest.hexdigest())
        self._files[rel] = dest

    def add_bytes(self, name: str, data: bytes) -> None:
        rel = "files/" + name.lstrip("/")
        dest = self._dir / rel
        with self._disk():
            self._folder(dest.parent)
            dest.write_bytes(data)
        self._digests[rel] = (len(data), hashlib.sha256(data).hexdigest())
        self._files[rel] = dest

    def _folder(self, folder: Path) -> None:
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def add_stored(self, name: str, size: int, sha256: str) -> None:
        """List a file already written under the run's prefix (media streamed to the store
        during a backup, create-only and checked before it was written)."""
        self._stored["files/" + name.lstrip("/")] = (size, sha256)

    # -- commit / abort --------------------------------------------------------------------
    def commit(
        self,
        *,
        window: dict[str, Any] | None = None,
        cursors: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        gaps: list[str] | tuple[str, ...] = (),
        warnings: list[str] | tuple[str, ...] = (),
        errors: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
    ) -> Manifest:
        """Upload every object, then the manifest. On failure nothing counts as committed."""
        if self._done:
            raise StorageError(f"run {self.run_id} is already finished")
        entries: list[ObjectEntry] = []
        for name, collection in sorted(self._collections.items()):
            with self._disk():
                collection.close()
            path, count = collection.path, collection.count
            entries.append(
                ObjectEntry(f"{name}.jsonl.gz", path.stat().st_size, sha256_file(path), count, name)
            )
        for rel in sorted([*self._files, *self._written]):
            staged = self._files.get(rel)
            if staged is None:
                size, sha256 = self._written[rel]
            else:
                size, sha256 = self._digests.get(rel) or (
                    staged.stat().st_size,
                    sha256_file(staged),
                )
            entries.append(ObjectEntry(rel, size, sha256))
        stored = [ObjectEntry(rel, size, sha) for rel, (size, sha) in sorted(self._stored.items())]
        manifest = Manifest(
            run_id=self.run_id,
            account_id=self.account_id,
            account=self.account,
            kind=self.kind,
            source=self.source,
            started_at=self.started_at,
            committed_at=isoformat(utcnow()),
            tool_version=self.tool_version,
            parent_run=self.parent_run,
            objects=tuple(entries + stored),
            window=window or {},
            cursors=cursors or {},
            details=details or {},
            gaps=tuple(gaps),
            warnings=tuple(warnings),
            errors=tuple(errors),
            chain=next_link(self.store, self.account_id),
        )
        self._publish(manifest, entries)
        self._written = {}  # committed: never removed by a later abort()
        self._cleanup()
        log.info(
            "account %s run %s committed: %d records, %d objects",
            self.account,
            self.run_id,
            sum(o.records or 0 for o in entries),
            len(entries),
        )
        return manifest

    def _publish(self, manifest: Manifest, entries: list[ObjectEntry]) -> None:
        """Upload the objects, then the manifest. Whether the run committed is decided by
        what the store holds, never by the last reply: once the manifest write was tried,
        the manifest is read back, and the objects are only removed when it is absent."""
        prefix = manifest.prefix
        body = manifest.to_json()
        uploaded: list[str] = []
        tried_manifest = False
        try:
            for entry in entries:
                if entry.key in self._written:
                    continue  # already in its place (removed by abort unless committed)
                self.store.put_file(
                    prefix + entry.key,
                    str(self._dir / entry.key),
                    sha256=entry.sha256,
                    handed_over=True,  # staged files are never written again
                )
                uploaded.append(prefix + entry.key)
            self.store.sync()  # every object durable before the manifest says they exist
            tried_manifest = True
            self.store.put_bytes(prefix + MANIFEST, body)
            self.store.sync()
        except BaseException as exc:
            state = _manifest_state(self.store, prefix + MANIFEST, body) if tried_manifest else None
            if state == "committed":
                # the manifest landed and its reply was lost (or a later sync failed)
                log.info(
                    "run %s: the store holds its manifest although the write reported %s: "
                    "committed",
                    self.run_id,
                    type(exc).__name__,
                )
                return
            if state is None and _manifest_present(self.store, prefix + MANIFEST):
                state = "a manifest under this run id is already there"
            if state in (None, "absent"):
                # not committed (no manifest): only this run's own objects are garbage
                self._remove(uploaded)
                self.abort()
                raise
            self._written.clear()  # perhaps committed: its objects are kept
            self.abort()
            log.info("run %s: cannot tell whether it committed (%s)", self.run_id, state)
            if not tried_manifest or not isinstance(exc, StorageError):
                raise  # e.g. a run id whose manifest was already there: never touched
            raise StorageError(
                f"{exc}; run {self.run_id} may have committed: its objects are kept "
                "(`archiver runs` and `archiver verify` tell)"
            ) from None

    def _remove(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.store.delete(key)
            except StorageError:
                # the command's one error line says what failed; `archiver gc` removes it later
                log.info("run %s: could not remove uncommitted object %s", self.run_id, key)

    def abort(self) -> None:
        for collection in self._collections.values():
            collection.abandon()
        prefix = run_prefix(self.account_id, self.run_id)
        written, self._written = self._written, {}
        self._remove([prefix + rel for rel in sorted(written)])
        self._cleanup()

    def _cleanup(self) -> None:
        self._done = True
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.abort()


def _manifest_state(store: ObjectStore, key: str, body: bytes) -> str:
    """ "committed" (the store holds exactly these bytes), "absent", or why it cannot tell."""
    try:
        stored = store.digest(key)
    except NotFound:
        return "absent"
    except StorageError as exc:
        return f"unreadable: {exc}"
    if stored == hashlib.sha256(body).hexdigest():
        return "committed"
    return "a different manifest is there"


def _manifest_present(store: ObjectStore, key: str) -> bool:
    try:
        return store.exists(key)
    except StorageError:
        return True  # cannot tell: keep the objects


# -- reading -------------------------------------------------------------------------------
def list_accounts(store: ObjectStore) -> list[str]:
    ids = {key.split("/")[1] for key in store.list("accounts/") if key.endswith("/" + MANIFEST)}
    return sorted(ids)


def list_runs(store: ObjectStore, account_id: str | None = None) -> list[Manifest]:
    """Committed runs, oldest first (run ids sort by time)."""
    prefix = account_prefix(account_id) if account_id else "accounts/"
    manifests = [
        load_manifest_key(store, key)
        for key in store.list(prefix)
        if key.endswith("/" + MANIFEST) and "/runs/" in key
    ]
    return sorted(manifests, key=lambda m: (m.run_id, m.account_id))


def load_manifest_key(store: ObjectStore, key: str) -> Manifest:
    try:
        return Manifest.from_json(read_bytes(store, key))
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"manifest {key} is unreadable: {exc}") from None


def load_manifest(store: ObjectStore, account_id: str, run_id: str) -> Manifest:
    return load_manifest_key(store, run_prefix(account_id, run_id) + MANIFEST)


# what inflating a damaged gzip object raises (a bad header, a truncated member, a bad block)
_ZLIB_NG_ERROR: type[Exception] = zlib_ng.error  # type: ignore[assignment]  # stub: an instance
_INFLATE_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error, _ZLIB_NG_ERROR)


@contextlib.contextmanager
def open_object(store: ObjectStore, key: str) -> Iterator[gzip.GzipFile]:
    """A gzip object of a run (records, served pages), inflated as it is read, by zlib-ng
    (the library that writes them): ~2.7x faster than zlib's inflate through Python's gzip
    (41 -> 15 ms CPU for a 17.6 MB run). A damaged object is a StorageError naming it (the UI
    and the CLI say so in one line)."""
    with store.open(key) as raw, gzip_ng.GzipFile(fileobj=raw) as gz:  # type: ignore[no-untyped-call]
        try:
            yield gz
        except _INFLATE_ERRORS as exc:
            raise StorageError(
                f"{key} in {store.description} is damaged ({exc}); `archiver verify` checks "
                "every run"
            ) from None


READ_CHUNK = 1 << 20  # inflated bytes read at a time by iter_records


def iter_records(
    store: ObjectStore, manifest: Manifest, collection: str
) -> Iterator[dict[str, Any]]:
    """Stream one collection of a run, record by record."""
    entry = manifest.collection(collection)
    if entry is None:
        return
    with open_object(store, manifest.prefix + entry.key) as gz:
        # read a MB at a time and split (gzip's readline is Python code, a call a line)
        rest = b""
        while chunk := gz.read(READ_CHUNK):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if line.strip():
                    yield orjson.loads(line)
        if rest.strip():
            yield orjson.loads(rest)


class RunCache:
    """Decompressed run objects kept for reading again (runs never change once
    committed), at most `max_bytes` in all, the least recently read dropped first. An
    object larger than a quarter of that is never kept: it is streamed each time."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._held: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._held.get(key)
            if data is not None:
                self._held.move_to_end(key)
            return data

    def fits(self, size: int) -> bool:
        return size * 4 <= self.max_bytes

    def put(self, key: str, data: bytes) -> None:
        if not self.fits(len(data)):
            return
        with self._lock:
            if key in self._held:
                return
            self._held[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, dropped = self._held.popitem(last=False)
                self._size -= len(dropped)


def find_records(
    store: ObjectStore,
    manifest: Manifest,
    collection: str,
    ids: Collection[str],
    cache: RunCache | None = None,
) -> Iterator[dict[str, Any]]:
    """The records of one collection of a run whose line holds one of `ids` as a JSON string
    (as its id, in its edit chain or anywhere else: the caller checks). Only those lines are
    decoded, and memory holds one chunk of the run: reading one item from a run of a
    million records costs a decompression, not a million records in memory. With `cache`,
    a small object is decompressed once and then searched in memory."""
    entry = manifest.collection(collection)
    if entry is None or not ids:
        return
    wanted = re.compile(b'"(?:' + b"|".join(re.escape(i.encode()) for i in sorted(ids)) + b')"')
    key = manifest.prefix + entry.key
    held = cache.get(key) if cache is not None else None
    if held is not None:
        yield from _matching_lines(held, len(held), wanted)
        return
    keep: list[bytes] | None = [] if cache is not None and cache.fits(entry.size * 4) else None
    kept = 0
    with open_object(store, key) as gz:
        rest = b""
        while True:
            chunk = gz.read(_CHUNK)
            if keep is not None:
                keep.append(chunk)
                kept += len(chunk)
                if cache is not None and not cache.fits(kept):
                    keep = None  # larger than it looked: stream it
            data = rest + chunk
            end = len(data) if not chunk else data.rfind(b"\n") + 1
            yield from _matching_lines(data, end, wanted)
            if not chunk:
                break
            rest = data[end:]
    if keep is not None and cache is not None:
        cache.put(key, b"".join(keep))


def _matching_lines(data: bytes, end: int, wanted: re.Pattern[bytes]) -> Iterator[dict[str, Any]]:
    after = 0  # lines already decoded: a line naming two ids is read once
    for match in wanted.finditer(data, 0, end):
        if match.start() < after:
            continue
        start = data.rfind(b"\n", 0, match.start()) + 1
        stop = data.find(b"\n", match.end(), end)
        after = end if stop < 0 else stop
        yield orjson.loads(data[start:after])


def iter_run(
    store: ObjectStore, manifest: Manifest, missing: list[str] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every record of a run, collection by collection. A collection whose object is gone
    raises NotFound, unless `missing` is given: then its key is added there and the rest of
    the run is read (a broken run is reported, not a wall for every later run)."""
    for entry in manifest.objects:
        if not entry.collection:
            continue
        try:
            for rec in iter_records(store, manifest, entry.collection):
                yield entry.collection, rec
        except NotFound:
            if missing is None:
                raise
            log.info(
                "run %s lists %s, which is missing from the store (`archiver verify` names "
                "every such object)",
                manifest.run_id,
                entry.key,
            )
            missing.append(manifest.prefix + entry.key)


def missing_warning(missing: list[str]) -> str:
    """One line for a run's readers that met objects its manifest lists and the store lacks."""
    runs = sorted({key.split("/")[3] for key in missing if key.count("/") >= 4})
    return (
        f"{len(missing)} objects listed by earlier runs are missing from the store (runs "
        f"{', '.join(runs)}); their records were read as absent and archived again where "
        "the source still has them; `archiver verify` names every object"
    )


def uncommitted_objects(store: ObjectStore, account_id: str | None = None) -> list[str]:
    """Objects in run folders that have no manifest (a crashed or killed run)."""
    prefix = account_prefix(account_id) if account_id else "accounts/"
    by_run: dict[str, list[str]] = {}
    for key in store.list(prefix):
        parts = key.split("/")
        if len(parts) >= 5 and parts[2] == "runs":
            by_run.setdefault("/".join(parts[:4]), []).append(key)
    return [
        key
        for run, keys in sorted(by_run.items())
        if f"{run}/{MANIFEST}" not in keys
        for key in keys
    ]


@dataclass(frozen=True)
class VerifyProblem:
    run_id: str
    key: str
    problem: str  # "missing" | "altered" | "unreadable manifest"

    def __str__(self) -> str:
        return f"{self.problem}: {self.key} (run {self.run_id})"


def verify_run(store: ObjectStore, manifest: Manifest) -> list[VerifyProblem]:
    problems = []
    for entry in manifest.objects:
        key = manifest.prefix + entry.key
        h = hashlib.sha256()
        size = 0
        try:
            with store.open(key) as fh:
                while chunk := fh.read(_CHUNK):
                    h.update(chunk)
                    size += len(chunk)
        except NotFound:
            problems.append(VerifyProblem(manifest.run_id, key, "missing"))
            continue
        if size != entry.size or h.hexdigest() != entry.sha256:
            problems.append(VerifyProblem(manifest.run_id, key, "altered"))
    return problems
