"""Imports: an official X archive (ZIP or folder, any era), a classic archive, twarc2 JSONL.

Each source's layout is checked before anything is written; its records then stream into one
`import` run (only what is new to the archive: unseen items, new versions, deletions), and a
bad entry met on the way aborts the run, so nothing half-written is ever committed. Importing
the same source twice adds nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archiver import TOOL, memberships
from archiver.archive import Archive
from archiver.errors import ArchiveFormatError, ArchiverError
from archiver.imports.files import SourceFiles, open_source, strip_root
from archiver.imports.xarchive import OfficialArchive, Parsed, parse_classic
from storage.accountids import is_account_id
from storage.errors import NoSpace
from storage.lock import AccountLock
from storage.records import COLLECTION_OF_KIND
from storage.runs import Manifest, RunWriter, list_runs, missing_warning
from storage.view import EVENTS, AccountState

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    account: str
    account_id: str
    source: str
    era: str
    manifest: Manifest | None
    read: Counter = field(default_factory=Counter)  # records found in the source, by collection
    written: Counter = field(default_factory=Counter)  # records new to the archive
    warnings: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_id": self.account_id,
            "source": self.source,
            "era": self.era,
            "run_id": self.manifest.run_id if self.manifest else None,
            "read": dict(self.read),
            "written": dict(self.written),
            "warnings": self.warnings,
            "gaps": self.gaps,
        }

    def describe(self) -> str:
        read = ", ".join(f"{k} {v}" for k, v in sorted(self.read.items())) or "no records"
        what = self.era if self.era.startswith(self.source) else f"{self.era} {self.source}"
        lines = [f"@{self.account}: read {read} from a {what} source"]
        if self.manifest is None:
            lines.append("nothing new: everything is already in the archive (no run written)")
        else:
            new = ", ".join(f"{k} {v}" for k, v in sorted(self.written.items()))
            lines.append(f"run {self.manifest.run_id} committed: {new}")
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"gap: {g}" for g in self.gaps]
        return "\n".join(lines)


def _sha256(path: str) -> str | None:
    if os.path.isdir(path):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _owner_override(archive: Archive, account: str | None) -> dict[str, str] | None:
    """--account: '@handle' of an archived account, a numeric id, or 'handle:id' for a new one."""
    if not account:
        return None
    handle, _, given_id = account.lstrip("@").partition(":")
    if given_id:
        if not given_id.isdigit():
            raise ArchiverError(f"--account {account}: the id after ':' must be numeric")
        return {"id": given_id, "username": handle, "name": ""}
    ref = archive.find_account(handle)
    if ref:
        return {"id": ref.account_id, "username": ref.username, "name": ""}
    if handle.isdigit():
        return {"id": handle, "username": handle, "name": ""}
    raise ArchiverError(
        f"--account {account}: not in the archive yet; give it as {handle}:<numeric account id>"
    )


def parse_source(
    path: str, *, owner: dict[str, str] | None, allow_partial: bool
) -> tuple[Parsed, str, SourceFiles | None]:
    """Recognise and parse a source: (parsed, source name, its open files for copying)."""
    from archiver import platforms
    from archiver.imports.twarc import is_twarc_jsonl, parse_twarc

    other = platforms.parse_import(path, allow_partial=allow_partial)
    if other is not None:
        return other
    if os.path.isfile(path) and is_twarc_jsonl(path):
        return parse_twarc(path, owner=owner), "twarc", None
    files = open_source(path)
    try:
        root = strip_root(files)
        if files.exists(root + "data/js/tweet_index.js") or files.exists(root + "tweets.csv"):
            parsed = parse_classic(files, root, allow_partial=allow_partial, owner=owner)
        else:
            parsed = OfficialArchive(files, root, allow_partial=allow_partial).parse(owner)
    except BaseException:
        files.close()
        raise
    return parsed, "x-archive", files


def import_path(
    archive: Archive,
    path: str,
    *,
    account: str | None = None,
    allow_partial: bool = False,
    progress: Callable[[int], None] | None = None,
    wait: float = 0.0,
) -> ImportResult:
    """Import one source into the archive as one run (or none, when nothing is new).
    The account's lock is held while writing (waiting up to `wait` seconds for it)."""
    from archiver.imports.twarc import OwnerGuessed

    owner = _owner_override(archive, account)
    try:
        return _import(archive, path, owner, allow_partial, progress, wait)
    except OwnerGuessed as counted:
        # a twarc file whose owner, guessed from its raw lines, was not the one its records
        # counted: that run was abandoned before its commit; import it for the counted one
        return _import(archive, path, counted.owner, allow_partial, progress, wait)


def _import(
    archive: Archive,
    path: str,
    owner: dict[str, str] | None,
    allow_partial: bool,
    progress: Callable[[int], None] | None,
    wait: float,
) -> ImportResult:
    parsed, source, files = parse_source(path, owner=owner, allow_partial=allow_partial)
    try:
        return _write_import(archive, path, parsed, source, files, progress, wait)
    except NoSpace as exc:
        raise NoSpace(
            exc.path, f"{exc}: the import wrote nothing; free space and run it again"
        ) from None
    finally:
        if files is not None:
            files.close()


def _write_import(
    archive: Archive,
    path: str,
    parsed: Parsed,
    source: str,
    files: SourceFiles | None,
    progress: Callable[[int], None] | None,
    wait: float,
    *,
    run_kind: str = "import",
) -> ImportResult:
    """Write a parsed source as one run: an import, or (for platforms whose capture fetches a
    whole snapshot, like a Bluesky repository) a `full` / `incremental` backup run."""
    owner = parsed.owner
    if not is_account_id(owner.get("id", "")):
        raise ArchiveFormatError(
            f"{os.path.basename(path)}: account id {owner.get('id')!r} is not numeric"
        )
    result = ImportResult(
        owner["username"],
        owner["id"],
        source,
        parsed.era,
        None,
        warnings=parsed.warnings,  # the same lists: streaming the records may add to them
        gaps=parsed.gaps,
    )
    lock = AccountLock(
        archive.store,
        owner["id"],
        account=owner["username"],
        job="import" if run_kind == "import" else "backup",
        lease=archive.config.capture.lease_seconds,
        wait=wait,
    )
    with lock:
        _write_locked(archive, path, parsed, files, progress, result, lock, run_kind)
    if result.manifest is not None:
        log.info(
            "account %s: import of %s committed as run %s",
            owner["username"],
            path,
            result.manifest.run_id,
        )
    return result


def _write_locked(
    archive: Archive,
    path: str,
    parsed: Parsed,
    files: SourceFiles | None,
    progress: Callable[[int], None] | None,
    result: ImportResult,
    lock: AccountLock,
    run_kind: str = "import",
) -> None:
    owner = parsed.owner
    source = result.source
    state = AccountState.load(archive.store, owner["id"])
    if state.missing:
        result.warnings.append(missing_warning(state.missing))
    parents = list_runs(archive.store, owner["id"])
    stored_files = {e.key for m in parents for e in m.objects if e.key.startswith("files/")}
    # followers/following are a snapshot at the archive's generation date: kept whole,
    # once per date, with the changes against the snapshots before and after it
    at = str(parsed.details.get("generated_at") or "")
    moments = parsed.snapshots or ({c: at for c in memberships.MEMBERSHIPS} if at else {})
    snapshots = (
        memberships.build(archive.store, parents) if moments else memberships.SnapshotBuilder()
    )
    whole = {c for c, when in moments.items() if not memberships.held_snapshot(snapshots, c, when)}
    taken: dict[str, dict[str, str]] = {c: {} for c in whole}
    with RunWriter(
        archive.store,
        account_id=owner["id"],
        account=owner["username"],
        kind=run_kind,
        source=source,
        tool_version=TOOL,
        parent_run=parents[-1].run_id if parents else None,
        staging_dir=archive.staging,
    ) as run:
        for collection, rec in parsed.records:
            coll = collection or COLLECTION_OF_KIND[rec["kind"]]
            result.read[coll] += 1
            if progress and result.read.total() % 10_000 == 0:
                progress(result.read.total())
            if coll in whole:
                uid = str(rec["id"])
                if uid in taken[coll]:
                    continue
                taken[coll][uid] = str((rec.get("author") or {}).get("username") or "")
            elif not state.is_new(coll, rec):
                continue
            state.add(coll, rec)
            run.write(rec, coll)
            result.written[coll] += 1
        snapshot_details = {}
        for coll in sorted(whole):
            if not taken[coll]:
                continue
            when = moments[coll]
            snap = memberships.Snapshot(coll, when, run.run_id, source, taken[coll])
            for event in memberships.neighbour_events(snapshots, snap):
                run.write(event, EVENTS)
                result.written[EVENTS] += 1
            snapshot_details[coll] = {"at": when, "count": len(taken[coll])}
        if not result.written:
            return
        kept = (
            parsed.files
            if files is None
            else sorted(parsed.files, key=lambda f: files.position(f[1]))
        )
        for name, src in kept:
            if "_media/" in name and f"files/{name}" in stored_files:
                continue  # the same media file is already kept by an earlier run
            if files is None:
                run.add_file(name, src)
            else:
                with files.open(src) as fh:
                    run.add_file(name, fh)
        lock.check()  # never commit after another job took the account over
        result.manifest = run.commit(
            details={
                **parsed.details,
                **({"snapshots": snapshot_details} if snapshot_details else {}),
                "path": os.path.basename(path),
                "sha256": _sha256(path),
                "expected": parsed.expected,
                "read": dict(result.read),
            },
            gaps=parsed.gaps,
            warnings=parsed.warnings,
        )


def write_parsed(
    archive: Archive,
    path: str,
    parsed: Parsed,
    source: str,
    files: SourceFiles | None,
    *,
    run_kind: str,
    wait: float = 0.0,
) -> ImportResult:
    """Write what a platform's capture fetched and checked as one run, exactly as an import
    is written (news only, membership snapshots, files kept); `path` names its main file."""
    return _write_import(archive, path, parsed, source, files, None, wait, run_kind=run_kind)
