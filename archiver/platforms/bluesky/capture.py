"""Capturing a Bluesky account: its repository from its PDS, verified, plus what is not in the
repository (followers from the AppView, mentions and replies from its notifications).

    handle -> DID        com.atproto.identity.resolveHandle (or `did` in the config)
    DID -> document      the PLC directory (`[bluesky] plc_url`) or did:web's well-known
    document -> PDS      its #atproto_pds service (or `pds_url` in the config, which must agree)
    repository           com.atproto.sync.getRepo: whole (full), or `since` the last stored
                         revision (incremental), verified against the document's key with the
                         blocks the archive already holds; the CAR is kept verbatim in the run
    blobs                com.atproto.sync.getBlob from the PDS only, each checked against its CID
    followers            app.bsky.graph.getFollowers at `[bluesky] appview_url` (a whole
                         snapshot, like an X archive's follower list)
    mentions             app.bsky.notification.listNotifications with a session from an app
                         password (`app_password_env`; never the account password)

A record the previous revision held and this one does not is a deletion: written again with
`deleted_at`, both revisions named in the run's `details.deletions`. The run is written by the
importer's writer (archiver.imports.write_parsed): news only, snapshots, files.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from archiver import memberships
from archiver.archive import Archive
from archiver.capture.backup import BackupResult, account_run
from archiver.config import AccountConfig, Config
from archiver.errors import ArchiverError, CredentialsError
from archiver.imports import write_parsed
from archiver.imports.fields import FieldError
from archiver.imports.xarchive import Parsed
from archiver.platforms.bluesky.identity import Identity, did_doc_url, is_did, parse_did_doc
from archiver.platforms.bluesky.imports import (
    PickedFiles,
    owner_of,
    raw_blob_cid,
    repo_details,
    repo_records,
)
from archiver.platforms.bluesky.records import (
    API_SOURCE,
    SOURCE,
    blob_refs,
    media_file_name,
    normalise,
    post_fields,
)
from archiver.platforms.bluesky.repo import RepoError, Repository, verify_car
from archiver.platforms.bluesky.stored import stored_repository
from archiver.platforms.bluesky.xrpc import Xrpc, XrpcError
from archiver.timestamps import isoformat, utcnow
from storage.accountids import qualified_account_id
from storage.errors import StorageError
from storage.retry import GaveUp, RetryPolicy
from storage.runs import Manifest, list_runs
from storage.store import ObjectStore

log = logging.getLogger(__name__)
COLLECTION_KIND = {"followers": "follower", "following": "following"}
PAGE = 100
MAX_PAGES = 10_000
MENTION_REASONS = ("mention", "reply", "quote")
_GONE = {
    "RepoDeactivated": "is deactivated",
    "RepoTakendown": "was taken down by its PDS",
    "RepoSuspended": "is suspended by its PDS",
}


class _Capture:
    def __init__(
        self,
        config: Config,
        store: ObjectStore,
        account: AccountConfig,
        progress: Callable[[str], None],
        sleep: Callable[[float], None],
    ) -> None:
        self.config = config
        self.store = store
        self.account = account
        self.name = account.username.lstrip("@")
        self.progress = progress
        bsky = config.bluesky
        self.policy = RetryPolicy(max_retries=bsky.max_retries, backoff_base=bsky.backoff_base)
        self.sleep = sleep
        self.services: list[Xrpc] = []
        self.gaps: list[str] = []
        self.warnings: list[str] = []

    def service(self, base: str) -> Xrpc:
        svc = Xrpc(base, policy=self.policy, sleep=self.sleep)
        self.services.append(svc)
        return svc

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.services)

    # -- identity --------------------------------------------------------------------------
    def identity(self) -> tuple[Identity, bytes, str]:
        """(identity, the DID document as served, the PDS base URL)."""
        bsky = self.config.bluesky
        did = self.account.did or (self.name if is_did(self.name) else None)
        if did is None:
            resolved = self.service(bsky.appview_url).json(
                "com.atproto.identity.resolveHandle", {"handle": self.name}
            )
            did = resolved.get("did")
            if not isinstance(did, str) or not is_did(did):
                raise ArchiverError(f"resolveHandle gave no DID for {self.name}")
        url = did_doc_url(did, bsky.plc_url)
        served = self.service(url.rsplit("/", 1)[0]).fetch(url, "DID document").content
        try:
            doc = orjson.loads(served)
        except orjson.JSONDecodeError:
            raise ArchiverError(f"the DID document of {did} at {url} is not JSON") from None
        ident = parse_did_doc(doc, f"the DID document of {did}")
        if ident.did != did:
            raise ArchiverError(f"the DID document at {url} is for {ident.did}, not {did}")
        pds = (self.account.pds_url or ident.pds or "").rstrip("/")
        if not pds:
            raise ArchiverError(f"the DID document of {did} names no PDS")
        if self.account.pds_url and ident.pds and ident.pds.rstrip("/") != pds:
            raise ArchiverError(
                f"moved to another PDS: its DID document names {ident.pds}, the config's "
                f"pds_url is {pds}; check the move and update pds_url (or remove it)"
            )
        return ident, served, pds

    # -- the repository --------------------------------------------------------------------
    def get_repo(self, pds: Xrpc, did: str, since: str | None) -> bytes:
        params = {"did": did, **({"since": since} if since else {})}
        try:
            return pds.call("com.atproto.sync.getRepo", params).content
        except XrpcError as exc:
            if exc.error in _GONE:
                raise ArchiverError(
                    f"{did} {_GONE[exc.error]} (getRepo at {pds.host}: {exc.error}); "
                    "nothing captured, the archive keeps what it has"
                ) from None
            if exc.error == "RepoNotFound":
                raise ArchiverError(
                    f"{pds.host} does not hold {did}'s repository (RepoNotFound): the account "
                    "may have moved PDS or been deleted; check its DID document"
                ) from None
            raise

    def blobs(
        self, pds: Xrpc, did: str, repo: Repository, stored: set[str], folder: Path
    ) -> list[tuple[str, str]]:
        wanted: dict[str, str | None] = {}
        for rec in repo.records:
            for cid, mime in blob_refs(rec.value):
                wanted.setdefault(cid, mime)
        files = []
        for n, (cid, mime) in enumerate(sorted(wanted.items())):
            if cid in stored:
                continue
            if n and n % 50 == 0:
                self.progress(f"@{self.name} blobs: {n} of {len(wanted)}")
            try:
                data = pds.call("com.atproto.sync.getBlob", {"did": did, "cid": cid}).content
            except XrpcError as exc:
                self.gaps.append(f"blob {cid}: not fetched ({exc})")
                continue
            if raw_blob_cid(data) != cid:
                self.gaps.append(f"blob {cid}: the bytes {pds.host} served do not hash to the CID")
                continue
            (folder / "blobs").mkdir(exist_ok=True)
            (folder / "blobs" / cid).write_bytes(data)
            files.append((media_file_name(cid, mime), f"blobs/{cid}"))
        return files

    # -- outside the repository ------------------------------------------------------------
    def pages(
        self,
        svc: Xrpc,
        method: str,
        params: dict[str, Any],
        folder: Path,
        token: str | None = None,
        stop: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """Every page of a cursor-paginated method (or up to the first `stop` says is the
        last), each kept as a file with its URL and time: (name, page)."""
        out: list[tuple[str, dict[str, Any]]] = []
        cursor: str | None = None
        seen: set[str] = set()
        for n in range(MAX_PAGES):
            page = svc.json(
                method, {**params, **({"cursor": cursor} if cursor else {})}, token=token
            )
            name = f"api/{method}-{n + 1:04d}.json"
            (folder / "api").mkdir(exist_ok=True)
            (folder / name).write_bytes(
                orjson.dumps(
                    {
                        "url": svc.url(method),
                        "params": {**params, "cursor": cursor},
                        "retrieved_at": isoformat(utcnow()),
                        "body": page,
                    }
                )
            )
            out.append((name, page))
            cursor = page.get("cursor") if isinstance(page.get("cursor"), str) else None
            if not cursor or cursor in seen or (stop is not None and stop(page)):
                break
            seen.add(cursor)
        return out

    def followers(
        self, did: str, owner: dict[str, str], at: str, folder: Path
    ) -> tuple[list[tuple[str | None, dict[str, Any]]], list[str]]:
        appview = self.service(self.config.bluesky.appview_url)
        try:
            pages = self.pages(
                appview, "app.bsky.graph.getFollowers", {"actor": did, "limit": PAGE}, folder
            )
        except (XrpcError, GaveUp) as exc:
            self.warnings.append(f"followers not captured ({exc}); the last snapshot stands")
            return [], []
        records: list[tuple[str | None, dict[str, Any]]] = []
        for _, page in pages:
            for i, person in enumerate(page.get("followers") or []):
                if not isinstance(person, dict) or not isinstance(person.get("did"), str):
                    raise ArchiverError(f"getFollowers: follower {i} has no DID")
                records.append((None, _person_record(person, "follower", owner, at)))
        return records, [n for n, _ in pages]

    def mentions(
        self, pds: Xrpc, did: str, owner: dict[str, str], at: str, folder: Path, newest: str
    ) -> tuple[list[tuple[str | None, dict[str, Any]]], list[str], str]:
        env = self.account.app_password_env
        if not env:
            return [], [], newest
        password = os.environ.get(env)
        if not password:
            self.warnings.append(f"${env} is not set: mentions and replies were not captured")
            return [], [], newest
        try:
            session = pds.json(
                "com.atproto.server.createSession", body={"identifier": did, "password": password}
            )
        except XrpcError as exc:
            if exc.status in (400, 401):
                raise CredentialsError(
                    f"the app password in ${env} was refused by {pds.host} ({exc.error}); "
                    "create a new app password and set it"
                ) from None
            raise
        token = session.get("accessJwt")
        if not isinstance(token, str):
            raise CredentialsError(f"createSession at {pds.host} gave no session")

        def reached_old(page: dict[str, Any]) -> bool:  # an incremental run stops there
            items = page.get("notifications") or []
            return bool(newest) and any(
                isinstance(n, dict) and str(n.get("indexedAt") or "\uffff") <= newest for n in items
            )

        method = "app.bsky.notification.listNotifications"
        pages = self.pages(pds, method, {"limit": PAGE}, folder, token=token, stop=reached_old)
        records: list[tuple[str | None, dict[str, Any]]] = []
        latest = newest
        for name, page in pages:
            for i, item in enumerate(page.get("notifications") or []):
                if not isinstance(item, dict):
                    raise ArchiverError(f"listNotifications: notification {i} is not an object")
                latest = max(latest, str(item.get("indexedAt") or ""))
                if item.get("reason") in MENTION_REASONS:
                    try:
                        records.append((None, _mention_record(item, owner, at)))
                    except FieldError as exc:
                        raise exc.at(name, i) from None
        names = [name for name, _ in pages]
        return records, names, latest

    # -- the run ---------------------------------------------------------------------------
    def run(self, result: BackupResult, *, full: bool, wait: float) -> None:
        ident, served_doc, pds_url = self.identity()
        did = ident.did
        account_id = qualified_account_id("bluesky", did)
        result.account_id = account_id
        manifests = list_runs(self.store, account_id)
        prior = None
        if not full:
            try:
                prior = stored_repository(self.store, manifests)
            except (RepoError, StorageError) as exc:  # `archiver verify` names what is wrong
                self.warnings.append(
                    f"the stored repository cannot be read back ({exc}): this run fetches the "
                    "whole repository, and no deletions are inferred from it"
                )
        kind = "incremental" if prior is not None else "full"
        result.kind = kind
        pds = self.service(pds_url)
        self.progress(
            f"@{self.name}: getRepo from {pds.host}" + (f" since {prior.rev}" if prior else "")
        )
        car = self.get_repo(pds, did, prior.rev if prior else None)
        try:
            repo = verify_car(
                car, did=did, key=ident.signing_key, prior=prior.blocks if prior else None
            )
        except RepoError as exc:
            raise ArchiverError(f"the repository {pds.host} served was refused: {exc}") from None
        at = isoformat(utcnow())
        owner = owner_of(Identity(did, ident.signing_key, pds_url, ident.handle or self.name), repo)
        result.account = owner["username"]
        stored = {
            _blob_of(e.key)
            for m in manifests
            for e in m.objects
            if e.key.startswith("files/bluesky_media/")
        }
        archive = Archive(self.config, self.store)
        archive.staging.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="bluesky-capture-", dir=archive.staging) as tmp:
            folder = Path(tmp)
            car_name = f"repo-{repo.rev}" + (f"-since-{prior.rev}" if prior else "") + ".car"
            (folder / car_name).write_bytes(car)
            (folder / "did.json").write_bytes(served_doc)
            records = repo_records(repo, owner, at, f"getRepo from {pds.host}")
            deletions = _deletions(prior, repo, owner, at) if prior else []
            records += [(None, rec) for rec in deletions]
            files = [
                (f"bluesky/{car_name}", car_name),
                (f"bluesky/did-{repo.rev}.json", "did.json"),
            ]
            files += self.blobs(pds, did, repo, stored, folder)
            followers, follower_pages = self.followers(did, owner, at, folder)
            records += followers
            newest = _last_detail(manifests, "notifications_newest")
            mentions, mention_pages, latest = self.mentions(pds, did, owner, at, folder, newest)
            records += mentions
            files += [(f"bluesky/{n}", n) for n in follower_pages + mention_pages]
            details = repo_details(
                repo, car=f"bluesky/{car_name}", did_docs=[f"bluesky/did-{repo.rev}.json"]
            )
            details["repo"]["since"] = prior.rev if prior else None
            details.update(pds=pds_url, generated_at=at, started_at=at)
            if latest:
                details["notifications_newest"] = latest
            if deletions:
                details["deletions"] = {
                    "before": {"rev": prior.rev, "commit": prior.commit_cid} if prior else None,
                    "after": {"rev": repo.rev, "commit": repo.commit_cid},
                    "ids": [r["id"] for r in deletions],
                }
            records = _unchanged_lists_dropped(self.store, manifests, records)
            parsed = Parsed(
                owner=owner,
                era=f"{kind} getRepo",
                records=records,
                files=files,
                gaps=self.gaps,
                warnings=self.warnings,
                details=details,
            )
            names = sorted({src for _, src in files})
            written = write_parsed(
                archive,
                str(folder / car_name),
                parsed,
                SOURCE,
                PickedFiles(folder, names),
                run_kind=kind,
                wait=wait,
            )
        result.manifest = written.manifest
        result.seen.update(written.read)
        result.written.update(written.written)
        result.warnings += [*written.warnings, *(f"gap: {g}" for g in written.gaps)]
        result.media = {"files": sum(1 for n, _ in files if n.startswith("bluesky_media/"))}


def _unchanged_lists_dropped(
    store: ObjectStore, manifests: list[Manifest], records: list[tuple[str | None, dict[str, Any]]]
) -> list[tuple[str | None, dict[str, Any]]]:
    """Followers and follows are whole snapshots; one the archive already has (the same
    members as its newest) is not written again, so a quiet day adds nothing."""
    snapshots = memberships.build(store, manifests)
    drop = set()
    for collection in memberships.MEMBERSHIPS:
        kind = COLLECTION_KIND[collection]
        ids = {str(r["id"]) for _, r in records if r["kind"] == kind and not r.get("deleted_at")}
        newest = snapshots.newest(collection)
        if newest is not None and set(newest.members) == ids:
            drop.add(kind)
    return [(c, r) for c, r in records if r["kind"] not in drop]


def _blob_of(key: str) -> str:
    return key.rsplit("/", 1)[-1].split(".", 1)[0]


def _last_detail(manifests: list[Manifest], name: str) -> str:
    for manifest in reversed(manifests):
        value = manifest.details.get(name)
        if isinstance(value, str):
            return value
    return ""


def _person_record(
    person: dict[str, Any], kind: str, owner: dict[str, str], at: str
) -> dict[str, Any]:
    from storage.records import new_record

    return new_record(
        id=person["did"],
        kind=kind,
        account=owner["username"],
        account_id=owner["id"],
        author={
            "id": person["did"],
            "username": str(person.get("handle") or ""),
            "name": str(person.get("displayName") or ""),
        },
        text=str(person.get("description") or "") or None,
        source=API_SOURCE,
        captured_at=at,
        raw=person,
    )


def _mention_record(item: dict[str, Any], owner: dict[str, str], at: str) -> dict[str, Any]:
    from archiver.imports.fields import Obj
    from storage.records import new_record

    note = Obj(item, "notification")
    uri = note.text("uri")
    if not uri:
        raise FieldError("notification.uri", "an AT URI", None)
    author = note.obj("author")
    fields = post_fields(note.obj("record").value, "notification.record")
    fields.pop("kind")
    return new_record(
        id=uri,
        kind="mention",
        account=owner["username"],
        account_id=owner["id"],
        author={
            "id": author.text("did") or "",
            "username": author.text("handle") or "",
            "name": author.text("displayName") or "",
        },
        source=API_SOURCE,
        captured_at=at,
        raw=item,
        **fields,
    )


def _deletions(
    prior: Repository, repo: Repository, owner: dict[str, str], at: str
) -> list[dict[str, Any]]:
    """Records the previous revision held and this one does not, as deletions (follows are
    memberships: their snapshot says who is no longer followed)."""
    now = {(r.collection, r.rkey) for r in repo.records}
    out = []
    for rec in prior.records:
        if (rec.collection, rec.rkey) in now or rec.collection == "app.bsky.graph.follow":
            continue
        _, record = normalise(rec, owner, at)
        record["deleted_at"] = at
        out.append(record)
    return out


def backup(
    config: Config,
    store: ObjectStore,
    account: AccountConfig,
    *,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
    wait: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> BackupResult:
    """One Bluesky account's backup run; any failure is the result's one-line error."""
    result = BackupResult(account.username.lstrip("@"))
    cap = _Capture(config, store, account, progress or (lambda _m: None), sleep)

    def counters() -> tuple[int, float]:
        return cap.requests, sum(s.waited for s in cap.services)

    with account_run(result, counters, expected=(GaveUp,)):
        cap.run(result, full=full, wait=wait)
    return result
