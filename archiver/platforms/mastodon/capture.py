"""A Mastodon account's backup run through the REST API: one run, full or incremental.

Walks (each paginated by `Link` headers): the account's statuses of every visibility (boosts
included; each edited status's history, every version kept as a version of the one item),
mentions from the notifications (a direct one is a DM), favourites, bookmarks, followers and
following (complete every run: snapshots and gained/lost events as X's, archiver.memberships),
lists and their members, the profile; then the media bytes of what was written, through X's
media fetcher (only from the account's server and `mastodon.media_hosts`). An incremental
asks for statuses and mentions after the newest id the last API run stored (`since_id`).
Every page is kept verbatim with its provenance under files/pages/<collection>.jsonl.gz.

A failure (a revoked token, a rate limit that will not clear within the wait budget, a
server that keeps failing) is this account's one-line error; the next account still runs.
Nothing of a failed run is committed; the next run starts from the last committed one.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from archiver import TOOL, memberships
from archiver.capture.backup import BackupResult, account_failure, account_run
from archiver.capture.errors import EndpointNotAllowed
from archiver.capture.media import MediaFetcher, held_media
from archiver.capture.runlog import ServedPages, keep_media
from archiver.config import AccountConfig, Config
from archiver.errors import ArchiverError
from archiver.imports.fields import FieldError
from archiver.paths import staging_dir
from archiver.platforms.mastodon.accts import base_url, host_of, instance_of
from archiver.platforms.mastodon.client import GoneFromServer, MastodonClient, Served
from archiver.platforms.mastodon.statuses import (
    SOURCE,
    Owner,
    account_record,
    edit_record,
    list_record,
    status_record,
)
from archiver.timestamps import isoformat, utcnow
from storage.accountids import qualified_account_id
from storage.lock import AccountLock
from storage.records import COLLECTION_OF_KIND, content_hash
from storage.runs import (
    Manifest,
    RunWriter,
    iter_records,
    list_runs,
    missing_warning,
)
from storage.store import ObjectStore
from storage.view import EVENTS, AccountState

log = logging.getLogger(__name__)

SINCE = ("tweets", "mentions")  # walks an incremental starts after the newest id stored
OWN_STATUSES = ("tweets", "dms")  # where the timeline walk's statuses are written


def backup(
    config: Config,
    store: ObjectStore,
    account: AccountConfig,
    *,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
    wait: float = 0.0,
) -> BackupResult:
    """The dispatch contract's entry (archiver/platforms/__init__.py)."""
    try:
        client = MastodonClient.for_account(account, config.mastodon)
    except ArchiverError as exc:
        return BackupResult(account.username.lstrip("@"), error=str(exc))
    return MastodonBackup(
        store,
        client,
        account,
        media_hosts=config.mastodon.media_hosts,
        media=config.capture.media,
        media_max_mb=config.capture.media_max_mb,
        full=full,
        progress=progress,
        lease=config.capture.lease_seconds,
        wait=wait,
        staging=str(staging_dir(config.storage)),
    ).run()


def check_account(acc: AccountConfig, config: Config) -> str:
    """`archiver accounts check` for a Mastodon account: whose token it is, one line."""
    client = MastodonClient.for_account(acc, config.mastodon)
    me = client.get("/api/v1/accounts/verify_credentials", client.api.account_verify_credentials)
    body = me.body if isinstance(me.body, dict) else {}
    user = str(body.get("username") or "")
    acct = f"{user}@{host_of(str(body.get('uri') or '')) or host_of(client.base_url)}".lower()
    if user.lower() != acc.username.lstrip("@").partition("@")[0].lower():
        raise ArchiverError(
            f"account @{acc.username}: the access token belongs to @{acct}; put "
            f"@{acc.username}'s token in {acc.access_token_env}"
        )
    return f"ok: @{acct} (id {body.get('id')}), Mastodon access token on {client.base_url}"


def newest_ids(manifests: Iterable[Manifest]) -> dict[str, str]:
    """Where an incremental starts: the newest ids API runs stored, by walk."""
    newest: dict[str, str] = {}
    for manifest in manifests:
        if manifest.source != SOURCE:
            continue
        for walk in SINCE:
            rid = str((manifest.cursors.get(walk) or {}).get("newest_id") or "")
            if rid.isdigit() and int(rid) > int(newest.get(walk) or 0):
                newest[walk] = rid
    return newest


class MastodonBackup:
    def __init__(
        self,
        store: ObjectStore,
        client: MastodonClient,
        account: AccountConfig,
        *,
        media_hosts: Iterable[str] = (),
        media: bool = True,
        media_max_mb: float = 512.0,
        full: bool = False,
        progress: Callable[[str], None] | None = None,
        lease: float = 300.0,
        wait: float = 0.0,
        staging: str | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.account = account
        self.username = account.username.lstrip("@")
        self.media_hosts = tuple(media_hosts)
        self.media = media
        self.media_max = int(media_max_mb * 1_000_000)
        self.full = full
        self.progress = progress or (lambda _msg: None)
        self.lease = lease
        self.wait = wait
        self.staging = staging

    def run(self) -> BackupResult:
        result = BackupResult(self.username)
        limiter = self.client.limiter
        with account_run(
            result, lambda: (limiter.requests, limiter.waited), self._one_line, (FieldError,)
        ):
            self._run(result)
        return result

    def _one_line(self, exc: Exception) -> str:
        if isinstance(exc, FieldError):  # the server served an entity of the wrong shape
            return f"account @{self.username}: the server's response: {exc}"
        return account_failure(self.username, str(exc))

    def _run(self, result: BackupResult) -> None:
        c = self.client
        me = c.get("/api/v1/accounts/verify_credentials", c.api.account_verify_credentials)
        if not isinstance(me.body, dict) or not me.body.get("id"):
            raise ArchiverError(f"account @{self.username}: the server returned no account")
        # the account's domain: where its ActivityPub id lives, as the archive's actor says
        host = host_of(str(me.body.get("uri") or "")) or host_of(c.base_url)
        user = str(me.body.get("username") or "").lower()
        account_id = qualified_account_id("mastodon", f"{user}@{host}")
        acct = account_id.partition(":")[2]
        configured = self.username.lower()
        if configured.partition("@")[0] != user:
            raise ArchiverError(
                f"account @{self.username}: the access token belongs to @{acct}, "
                "not to the configured account"
            )
        result.account_id = account_id
        owner = Owner(account_id, acct, str(me.body.get("display_name") or ""), host)
        with AccountLock(
            self.store, account_id, account=acct, job="backup", lease=self.lease, wait=self.wait
        ) as lock:
            self._locked(result, owner, me, lock)

    def _locked(self, result: BackupResult, owner: Owner, me: Served, lock: AccountLock) -> None:
        manifests = list_runs(self.store, owner.account_id)
        state = AccountState.load(self.store, owner.account_id)
        if state.missing:
            result.warnings.append(missing_warning(state.missing))
        since = {} if self.full else newest_ids(manifests)
        kind = "incremental" if since else "full"
        result.kind = kind
        snapshots = memberships.build(self.store, manifests)
        with RunWriter(
            self.store,
            account_id=owner.account_id,
            account=owner.acct,
            kind=kind,
            source=SOURCE,
            tool_version=TOOL,
            parent_run=manifests[-1].run_id if manifests else None,
            staging_dir=self.staging,
        ) as writer:
            run = _Run(self, writer, state, owner, result)
            try:
                run.started_at = isoformat(utcnow())
                if self.media:
                    run.media = MediaFetcher(
                        self.store,
                        account_id=owner.account_id,
                        run_id=writer.run_id,
                        limiter=self.client.limiter.sibling(),
                        hosts={instance_host(self.account), *self.media_hosts},
                        max_bytes=self.media_max,
                        hosts_setting="mastodon.media_hosts (beside the account's server)",
                        timeout=self.client.timeout,
                        held=held_media(self.store, manifests),
                    )
                run.walk_all(me, since)
                if kind == "full":
                    run.confirm_deletions(manifests)
                run.membership_events(snapshots)
                if run.media is not None:
                    run.media.fetch_all()
                    run.keep_media()
                lock.check()  # never commit after another job took the account over
                result.manifest = run.commit(since)
            finally:
                run.close()


def instance_host(account: AccountConfig) -> str:
    """The server's host name, as media URLs name it (no port: check_url compares names)."""
    return host_of(base_url(instance_of(account))).partition(":")[0]


class _Run:
    """One backup run being written: pages in, records and events out."""

    def __init__(
        self,
        backup: MastodonBackup,
        writer: RunWriter,
        state: AccountState,
        owner: Owner,
        result: BackupResult,
    ) -> None:
        self.backup = backup
        self.client = backup.client
        self.writer = writer
        self.state = state
        self.owner = owner
        self.result = result
        self.full = writer.kind == "full"
        self.started_at = ""
        self.media: MediaFetcher | None = None
        self.complete: set[str] = set()
        self.pages: Counter[str] = Counter()
        self.newest: dict[str, int] = {}
        self.members: dict[str, dict[str, str]] = {c: {} for c in memberships.MEMBERSHIPS}
        self.membership_base: dict[str, str | None] = {}
        self.uris: dict[str, str] = {}  # local status id -> URI, for replies
        self.seen: set[tuple[str, str]] = set()  # (collection, id) this run saw
        self._written: set[tuple[str, str, str]] = set()
        self._pages = ServedPages(writer)

    # -- walks -----------------------------------------------------------------------------
    def walk_all(self, me: Served, since: dict[str, str]) -> None:
        c = self.client
        api = c.api
        limit = c.settings.page_limit
        uid = str(me.body["id"])
        self.keep("profile", me)
        self.write("profile", account_record(self.owner, me.body, "profile", me.retrieved_at))
        self._statuses(uid, since.get("tweets"), limit)
        self._walk(
            "mentions",
            None,  # a direct mention is a DM: its kind's own collection
            "/api/v1/notifications",
            lambda: api.notifications(
                types=["mention"], since_id=since.get("mentions"), limit=limit
            ),
            self._mention,
            since=since.get("mentions"),
        )
        for walk, endpoint, fetch, kind in (
            ("likes", "/api/v1/favourites", api.favourites, "like"),
            ("bookmarks", "/api/v1/bookmarks", api.bookmarks, "bookmark"),
        ):
            self._walk(
                walk,
                walk,
                endpoint,
                lambda fetch=fetch: fetch(limit=limit),  # type: ignore[misc]
                lambda body, at, kind=kind: [  # type: ignore[misc]
                    status_record(self.owner, body, at, kind=kind, with_media=False)
                ],
                stop_at_known=True,
            )
        for walk, fetch in (
            ("followers", api.account_followers),
            ("following", api.account_following),
        ):
            self._walk(
                walk,
                walk,
                f"/api/v1/accounts/:id/{walk}",
                lambda fetch=fetch: fetch(uid, limit=80),  # type: ignore[misc]
                lambda body, at, walk=walk: [  # type: ignore[misc]
                    account_record(self.owner, body, walk.rstrip("s"), at)
                ],
            )
        lists: list[str] = []
        self._walk(
            "lists",
            "lists",
            "/api/v1/lists",
            api.lists,
            lambda body, at: [list_record(self.owner, body, at)],
            on_item=lambda body: lists.append(str(body.get("id"))),
        )
        for list_id in lists:
            self._walk(
                f"members-{list_id}",
                "lists",
                "/api/v1/lists/:id/accounts",
                lambda list_id=list_id: api.list_accounts(list_id, limit=80),  # type: ignore[misc]
                lambda body, at, list_id=list_id: [  # type: ignore[misc]
                    account_record(self.owner, body, "list_member", at, list_id=list_id)
                ],
            )

    def _statuses(self, uid: str, since: str | None, limit: int) -> None:
        """The timeline, newest first. A reply's parent is usually further down the same walk:
        replies are named by the parent's URI once the walk has seen it (else looked up)."""
        api = self.client.api
        held: list[tuple[str, dict[str, Any]]] = []

        def build(body: Any, at: str) -> list[dict[str, Any]]:
            rec = status_record(self.owner, body, at)
            out = [rec]
            if isinstance(body, dict) and body.get("edited_at") and not body.get("reblog"):
                out += self._history(rec, str(body.get("id")))
            return out

        self._walk(
            "tweets",
            None,
            "/api/v1/accounts/:id/statuses",
            lambda: api.account_statuses(uid, exclude_reblogs=False, since_id=since, limit=limit),
            build,
            since=since,
            on_item=lambda body: self.uris.setdefault(str(body.get("id")), str(body.get("uri"))),
            hold=held,
        )
        for collection, rec in held:
            local = rec["in_reply_to_id"]
            uri = self._uri_of(local) if local and "://" not in local else None
            if uri:
                rec["in_reply_to_id"] = uri
                rec["referenced"] = [
                    {**r, "id": uri} if r["type"] == "replied_to" else r for r in rec["referenced"]
                ]
            self.write(collection, rec)

    def _history(self, rec: dict[str, Any], local_id: str) -> list[dict[str, Any]]:
        """Every version of an edited status (StatusEdit, oldest first) as its versions."""
        try:
            page = self.client.get(
                "/api/v1/statuses/:id/history", lambda: self.client.api.status_history(local_id)
            )
        except EndpointNotAllowed as exc:  # deleted since the timeline page: the status stays
            self.warn(str(exc))
            return []
        self.keep("history", page)
        return [edit_record(self.owner, rec, e, page.retrieved_at) for e in page.items]

    def _uri_of(self, local_id: str) -> str | None:
        """A replied-to status's URI: the account's own are known from the timeline; others
        are looked up once (/api/v1/statuses/:id), the page kept."""
        if local_id in self.uris:
            return self.uris[local_id]
        try:
            page = self.client.get("/api/v1/statuses/:id", lambda: self.client.api.status(local_id))
        except EndpointNotAllowed:  # deleted or not visible: the local id is kept
            self.uris[local_id] = ""
            return None
        self.keep("lookups", page)
        uri = page.body.get("uri") if isinstance(page.body, dict) else None
        self.uris[local_id] = str(uri or "")
        return self.uris[local_id] or None

    def _mention(self, body: Any, at: str) -> list[dict[str, Any]]:
        status = body.get("status") if isinstance(body, dict) else None
        if body.get("type") != "mention" or not isinstance(status, dict):
            return []
        return [status_record(self.owner, status, at, kind="mention", uri_of=self._uri_of)]

    def _walk(
        self,
        walk: str,
        collection: str | None,
        endpoint: str,
        first: Callable[[], Any],
        build: Callable[[Any, str], list[dict[str, Any]]],
        *,
        since: str | None = None,
        stop_at_known: bool = False,
        on_item: Callable[[dict[str, Any]], object] | None = None,
        hold: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> None:
        """Page through one endpoint; an endpoint the token may not read is a warning.
        With `hold`, records are collected there for the caller to write."""
        floor = int(since) if since and since.isdigit() else 0
        done = False

        def stop(page: Served) -> bool:
            return done

        try:
            for page in self.client.pages(endpoint, first, stop):
                self.pages[walk] += 1
                self.keep(collection or walk, page)
                for body in page.items:
                    local = str(body.get("id") or "")
                    if floor and local.isdigit() and int(local) <= floor:
                        done = True  # older than where this incremental starts
                        continue
                    if local.isdigit() and walk in SINCE:
                        self.newest[walk] = max(self.newest.get(walk, 0), int(local))
                    if on_item is not None:
                        on_item(body)
                    for rec in build(body, page.retrieved_at):
                        coll = collection or _collection(rec)
                        if stop_at_known and not self.full and not self.state.is_new(coll, rec):
                            done = True
                        if hold is not None:
                            hold.append((coll, rec))
                        else:
                            self.write(coll, rec)
                self.backup.progress(f"@{self.owner.acct} {walk}: {self.pages[walk]} pages")
        except EndpointNotAllowed as exc:
            self.warn(str(exc))
            return
        self.complete.add(walk)

    # -- deletions -----------------------------------------------------------------------------
    def confirm_deletions(self, manifests: list[Manifest]) -> None:
        """Statuses an earlier API run captured that this full walk did not see: looked up by
        their local id; a 404 is a deletion, with the answer as its evidence."""
        if "tweets" not in self.complete:
            return  # a walk cut short proves nothing
        held: dict[tuple[str, str], str] = {}  # (collection, uri) -> the server's local id
        for manifest in manifests:
            if manifest.source != SOURCE:
                continue
            for collection in OWN_STATUSES:
                for rec in iter_records(self.backup.store, manifest, collection):
                    raw = rec.get("raw")
                    own = (rec.get("author") or {}).get("id") == self.owner.acct
                    if own and isinstance(raw, dict) and raw.get("id"):
                        held[(collection, str(rec["id"]))] = str(raw["id"])
        for (collection, uri), local_id in sorted(held.items()):
            if (collection, uri) in self.seen or self.state.is_deleted(collection, uri):
                continue
            try:
                page = self.client.get(
                    "/api/v1/statuses/:id", partial(self.client.api.status, local_id)
                )
            except GoneFromServer as gone:
                self.event(
                    {
                        "type": "deleted",
                        "collection": collection,
                        "id": uri,
                        "at": gone.retrieved_at,
                        "evidence": {
                            "endpoint": f"/api/v1/statuses/{local_id}",
                            "retrieved_at": gone.retrieved_at,
                            "status": 404,
                            "error": gone.error,
                        },
                    }
                )
                continue
            self.keep("lookups", page)  # still there (not visible in the timeline)

    # -- records, pages, events ---------------------------------------------------------------
    def write(self, collection: str, rec: dict[str, Any]) -> None:
        key = (collection, rec["id"], content_hash(rec))
        self.seen.add((collection, rec["id"]))
        if key not in self._written:
            self.result.seen[collection] += 1
        if collection in memberships.MEMBERSHIPS:
            self.members[collection][rec["id"]] = rec["author"].get("username") or ""
        if key in self._written or not self.state.is_new(collection, rec):
            return
        self._written.add(key)
        self.state.add(collection, rec)
        self.writer.write(rec, collection)
        self.result.written[collection] += 1
        if self.media is not None and rec["media"]:
            self.media.want(collection, rec)

    def keep(self, collection: str, page: Served) -> None:
        self._pages.keep(collection, page.evidence())

    def warn(self, message: str) -> None:
        log.warning("%s", message)
        self.result.warnings.append(message)

    def event(self, event: dict[str, Any]) -> None:
        self.writer.write(event, EVENTS)
        self.result.events[event["type"]] += 1

    def membership_events(self, snapshots: memberships.SnapshotBuilder) -> None:
        """Gains and losses against the newest snapshot the archive holds (any source)."""
        for collection in memberships.MEMBERSHIPS:
            if collection not in self.complete:
                continue
            base = snapshots.newest(collection)
            self.membership_base[collection] = base.run_id if base else None
            now = memberships.Snapshot(
                collection, self.started_at, self.writer.run_id, SOURCE, self.members[collection]
            )
            for event in memberships.change_events(collection, base, now, snapshots.names):
                self.event(event)

    def keep_media(self) -> None:
        assert self.media is not None
        self.result.media = keep_media(self.writer, self.media, self.warn)

    def commit(self, since: dict[str, str]) -> Manifest:
        self._pages.add_to_run()
        cursors = {}
        for walk in SINCE:
            newest = max(int(since.get(walk) or 0), self.newest.get(walk, 0))
            if walk in self.complete and newest:
                cursors[walk] = {"newest_id": str(newest)}
            elif since.get(walk):
                cursors[walk] = {"newest_id": since[walk]}  # a cut-short walk moves nothing
        limiter = self.client.limiter
        return self.writer.commit(
            cursors=cursors,
            details={
                "started_at": self.started_at,
                "since": since,
                "complete": sorted(self.complete),
                "membership_base": self.membership_base,
                "seen": dict(self.result.seen),
                "written": dict(self.result.written),
                "events": dict(self.result.events),
                **({"media": self.result.media} if self.result.media else {}),
                "pages": dict(self.pages),
                "requests": limiter.requests,
                "retries": limiter.retries,
                "waited_seconds": round(limiter.waited, 3),
                "api": self.client.base_url,
            },
            warnings=self.result.warnings,
        )

    def close(self) -> None:
        self._pages.close()


def _collection(rec: dict[str, Any]) -> str:
    return COLLECTION_OF_KIND[rec["kind"]]


__all__ = ["MastodonBackup", "backup", "check_account", "newest_ids"]
