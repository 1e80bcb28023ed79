"""What an export holds of an item, which items an export draws on, and in what order.

Also the one performance measure every export shares: the garbage collector held off while a
month of records is alive in memory (see collector_paused).
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from archiver.archive import AccountRef, Archive
from archiver.exports.errors import ExportError
from archiver.parties import with_parties
from storage.runs import Manifest, list_runs
from storage.view import Item, merge_runs

P = ParamSpec("P")
R = TypeVar("R")
_GC_LOCK = threading.Lock()
_gc_pauses = [0, False]  # exports running, whether to re-enable the collector after them


@dataclass
class ExportItem:
    """One item as a bundle holds it: its versions (oldest first) and deletion time."""

    account_id: str
    collection: str
    key: str
    versions: list[dict[str, Any]]
    deleted_at: str | None = None
    seen_in: tuple[str, ...] = ()  # every run that captured the item, oldest first

    @classmethod
    def of(cls, account_id: str, item: Item) -> ExportItem:
        return cls(
            account_id,
            item.collection,
            item.key,
            [with_parties(rec) for rec in item.versions],  # older runs: derived from raw
            item.deleted_at,
            tuple(item.runs),
        )

    @property
    def latest(self) -> dict[str, Any]:
        return self.versions[-1]

    @property
    def kind(self) -> str:
        return str(self.latest.get("kind"))

    def sort_key(self) -> tuple[str, str, int, str]:
        first = self.versions[0]
        return (
            first.get("created_at") or "~",  # undated items after dated ones
            self.collection,
            int(self.key) if self.key.isdigit() else 0,
            self.key,
        )


def sort_items(items: Iterable[ExportItem]) -> list[ExportItem]:
    """Oldest first: the order every listing in a bundle uses."""
    return sorted(items, key=ExportItem.sort_key)


@dataclass
class Scope:
    """The accounts an export draws on: their runs and every item of their current view."""

    refs: list[AccountRef]
    manifests: list[Manifest]
    items: list[ExportItem]


def load_scope(archive: Archive, accounts: Sequence[str] = ()) -> Scope:
    """The named accounts (@handle or id), or every account in the archive."""
    refs = [archive.resolve_account(a) for a in accounts] or archive.accounts()
    if not refs:
        raise ExportError(f"no accounts in {archive.store.description}")
    manifests: list[Manifest] = []
    items: list[ExportItem] = []
    for ref in refs:
        runs = list_runs(archive.store, ref.account_id)
        manifests.extend(runs)
        view = merge_runs(archive.store, runs)
        items.extend(ExportItem.of(ref.account_id, i) for i in view.values())
    return Scope(refs, manifests, items)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while an export runs. With a month of records
    alive (a million small dicts), every collection rescans them all: 2-4 times slower
    overall in ops/bench/export_bench.py. Reference counting still frees memory as usual;
    the collector resumes when the last export in the process ends."""
    with _GC_LOCK:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def collector_paused_during(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate an export function with collector_paused()."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return fn(*args, **kwargs)

    return wrapper
