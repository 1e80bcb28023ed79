"""Items as storage holds them, for the item pages: versions, deletion, capture history.

Storage is the source of truth, so an item page reads the account's current view
(storage.view.merge_runs), not the index. Views are cached per account and dropped when
the account's list of committed runs changes; the run list is looked at again at most
every `recheck_seconds`, so a page view does not list the store each time. At most
`max_accounts` views are kept (the least recently viewed is dropped), which bounds memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from archiver.archive import AccountRef, Archive
from storage.runs import Manifest
from storage.view import Item, merge_runs

# when an id names items in several collections (a post the account also liked), the
# account's own posts come first
_COLLECTION_ORDER = ("tweets", "mentions", "dms", "likes", "bookmarks", "lists")


@dataclass(frozen=True)
class FoundItem:
    account: AccountRef
    item: Item
    runs: tuple[Manifest, ...]  # the committed runs that captured a version, oldest first


@dataclass(frozen=True)
class AccountSummary:
    account: AccountRef
    runs: int
    last_run: Manifest | None
    last_good_run: Manifest | None  # committed without gaps or errors


@dataclass
class _AccountView:
    run_ids: tuple[str, ...]
    items: dict[tuple[str, str], Item]
    by_id: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def is_good(manifest: Manifest) -> bool:
    return not manifest.gaps and not manifest.errors


def _collection_rank(key: tuple[str, str]) -> int:
    coll = key[0]
    return _COLLECTION_ORDER.index(coll) if coll in _COLLECTION_ORDER else len(_COLLECTION_ORDER)


class Catalogue:
    def __init__(
        self,
        archive: Archive,
        *,
        recheck_seconds: float = 5.0,
        max_accounts: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.archive = archive
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._runs: dict[str, list[Manifest]] = {}
        self._checked_at: float | None = None
        self._views: OrderedDict[str, _AccountView] = OrderedDict()
        self.max_accounts = max_accounts

    def runs_by_account(self) -> dict[str, list[Manifest]]:
        """Committed runs of every account, oldest first (re-listed when stale)."""
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self.recheck_seconds:
                runs: dict[str, list[Manifest]] = {}
                for manifest in self.archive.runs():
                    runs.setdefault(manifest.account_id, []).append(manifest)
                self._runs, self._checked_at = runs, now
            return self._runs

    def accounts(self) -> list[AccountSummary]:
        out = []
        for manifests in self.runs_by_account().values():
            latest = manifests[-1]
            good = [m for m in manifests if is_good(m)]
            out.append(
                AccountSummary(
                    AccountRef(latest.account_id, latest.account),
                    runs=len(manifests),
                    last_run=latest,
                    last_good_run=good[-1] if good else None,
                )
            )
        return sorted(out, key=lambda s: s.account.username.lower())

    def _view(self, account_id: str, manifests: list[Manifest]) -> _AccountView:
        run_ids = tuple(m.run_id for m in manifests)
        with self._lock:
            view = self._views.get(account_id)
            if view is not None and view.run_ids == run_ids:
                self._views.move_to_end(account_id)
                return view
        items = merge_runs(self.archive.store, manifests)
        view = _AccountView(run_ids, items)
        for key, item in items.items():
            ids = {item.key} | {str(v["id"]) for v in item.versions}
            for rid in ids:
                view.by_id.setdefault(rid, []).append(key)
        with self._lock:
            self._views[account_id] = view
            while len(self._views) > self.max_accounts:
                self._views.popitem(last=False)  # the account viewed longest ago
        return view

    def find(self, item_id: str, *, likely: Sequence[str] = ()) -> list[FoundItem]:
        """Every item an id names (its own id or any version's). Accounts named in `likely`
        (handles or ids, e.g. from the index) are read first; the others only if the id
        is not there, so a page view does not merge every account."""
        runs = self.runs_by_account()
        wanted = {a.lower() for a in likely}
        first = [
            aid for aid, ms in runs.items() if aid in wanted or ms[-1].account.lower() in wanted
        ]
        found = self._find_in(item_id, first)
        if not found:
            found = self._find_in(item_id, [aid for aid in runs if aid not in first])
        return found

    def _find_in(self, item_id: str, account_ids: Iterable[str]) -> list[FoundItem]:
        found = []
        runs = self.runs_by_account()
        for account_id in account_ids:
            manifests = runs[account_id]
            view = self._view(account_id, manifests)
            by_run = {m.run_id: m for m in manifests}
            account = AccountRef(account_id, manifests[-1].account)
            for key in sorted(view.by_id.get(item_id, ()), key=_collection_rank):
                item = view.items[key]
                item_runs = tuple(by_run[r] for r in item.runs if r in by_run)
                found.append(FoundItem(account, item, item_runs))
        return found
