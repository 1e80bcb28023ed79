"""The manifest chain: each account's runs linked by the SHA-256 of the previous manifest.

A manifest written by this version carries `chain`: `previous` names the account's
previous manifest (run id and SHA-256 of its stored bytes; null for the account's first
run) and `legacy` lists, once, the manifests that were committed before chaining existed
(so an existing store is upgraded without rewriting a committed run: the first chained
manifest links the unchained ones by hash). The chain follows commit order, not run-id
order: a resumed backup keeps the run id it started with.

`check_chain` names every manifest that was altered (its successor recorded another hash),
removed (a successor names it but it is gone), inserted (nothing in the chain leads to it)
or forked. The newest manifest has no successor, so removing or altering it is only
visible against a saved head (`heads`): see archiver/heads.py.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from storage.errors import NotFound, StorageError
from storage.manifest import MANIFEST, ChainLink, Manifest, RunRef, run_prefix
from storage.store import ObjectStore, read_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredManifest:
    """A manifest with the SHA-256 of its bytes as stored (what the next one links to)."""

    manifest: Manifest
    sha256: str
    key: str = ""  # where it was read from

    @property
    def run_id(self) -> str:
        return self.manifest.run_id


@dataclass(frozen=True)
class ChainHead:
    account_id: str
    account: str
    run_id: str
    sha256: str
    runs: int  # manifests in the chain, legacy ones included
    chained: bool  # False: the account has only manifests from before chaining


@dataclass(frozen=True)
class ChainProblem:
    account_id: str
    run_id: str
    problem: str

    def __str__(self) -> str:
        return f"chain: {self.problem} (account {self.account_id}, run {self.run_id})"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# manifests read for commits and heads, by (store, key): a committed manifest never changes,
# so a process reads each once (verify always reads afresh: that is where changes show)
_SEEN: OrderedDict[tuple[str, str], StoredManifest] = OrderedDict()
_SEEN_MAX = 100_000


def clear_cache() -> None:
    """Forget manifests read before (a test that rewrites a store behind the process)."""
    _SEEN.clear()


def account_manifests(
    store: ObjectStore, account_id: str, *, cached: bool = False
) -> list[StoredManifest]:
    """Every committed manifest of one account with its digest, oldest run id first.
    `cached`: reuse what this process read before (for links and heads, not for verify)."""
    found: list[StoredManifest] = []
    for key in store.list(f"accounts/{account_id}/runs/"):
        if not key.endswith("/" + MANIFEST):
            continue
        seen = _SEEN.get((store.description, key)) if cached else None
        if seen is not None:
            found.append(seen)
            continue
        data = read_bytes(store, key)
        try:
            manifest = Manifest.from_json(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"manifest {key} is unreadable: {exc}") from None
        stored = StoredManifest(manifest, sha256_bytes(data), key)
        _SEEN[(store.description, key)] = stored
        if len(_SEEN) > _SEEN_MAX:
            _SEEN.popitem(last=False)
        found.append(stored)
    return sorted(found, key=lambda s: s.run_id)


def _successors(chained: Iterable[StoredManifest]) -> dict[str, list[str]]:
    """run id -> the chained runs that name it as their predecessor."""
    named: dict[str, list[str]] = {}
    for s in chained:
        link = s.manifest.chain
        assert link is not None
        if link.previous is not None:
            named.setdefault(link.previous.run_id, []).append(s.run_id)
    return named


def _heads(manifests: list[StoredManifest]) -> list[StoredManifest]:
    chained = [s for s in manifests if s.manifest.chain is not None]
    named = _successors(chained)
    return [s for s in chained if s.run_id not in named]


def next_link(store: ObjectStore, account_id: str) -> ChainLink:
    """The `chain` of the account's next manifest: its current head, or (first chained run
    of an upgraded store) every unchained manifest by hash."""
    manifests = account_manifests(store, account_id, cached=True)
    if not manifests:
        return ChainLink(None, ())
    heads = _heads(manifests)
    if not heads:
        # an upgraded store: link the manifests from before chaining, unchanged
        return ChainLink(None, tuple(RunRef(s.run_id, s.sha256) for s in manifests))
    if len(heads) > 1:
        log.warning(
            "account %s: the manifest chain forks (%s); continuing from the newest;"
            " run `archiver verify`",
            account_id,
            ", ".join(h.run_id for h in heads),
        )
    newest = max(heads, key=lambda s: (s.manifest.committed_at, s.run_id))
    return ChainLink(RunRef(newest.run_id, newest.sha256), ())


def chain_head(manifests: list[StoredManifest]) -> ChainHead | None:
    """The account's head: the chained manifest nothing follows (or the newest one of an
    unchained account). None for an account with no runs."""
    if not manifests:
        return None
    first = manifests[0].manifest
    heads = _heads(manifests)
    if not heads:
        newest = manifests[-1]
        return ChainHead(
            first.account_id,
            newest.manifest.account,
            newest.run_id,
            newest.sha256,
            len(manifests),
            chained=False,
        )
    head = max(heads, key=lambda s: (s.manifest.committed_at, s.run_id))
    return ChainHead(
        first.account_id,
        head.manifest.account,
        head.run_id,
        head.sha256,
        len(walk_back(manifests, head.run_id)),
        chained=True,
    )


def walk_back(manifests: list[StoredManifest], run_id: str) -> list[str]:
    """Run ids from `run_id` back to the start of the chain (legacy ones included)."""
    by_id = {s.run_id: s for s in manifests}
    out: list[str] = []
    seen: set[str] = set()
    current: str | None = run_id
    while current is not None and current in by_id and current not in seen:
        seen.add(current)
        out.append(current)
        link = by_id[current].manifest.chain
        if link is None:
            break
        out.extend(ref.run_id for ref in link.legacy if ref.run_id in by_id)
        current = link.previous.run_id if link.previous else None
    return out


def check_chain(manifests: list[StoredManifest]) -> list[ChainProblem]:
    """Every break in one account's chain (see the module docstring)."""
    if not manifests:
        return []
    account_id = manifests[0].manifest.account_id
    by_id = {s.run_id: s for s in manifests}
    chained = [s for s in manifests if s.manifest.chain is not None]
    if not chained:
        return []  # a store from before chaining: the first new run links these
    problems: list[ChainProblem] = []

    def problem(run_id: str, text: str) -> None:
        problems.append(ChainProblem(account_id, run_id, text))

    linked: dict[str, str] = {}  # run id -> the run whose chain names it
    roots: list[str] = []
    removed = False
    for s in chained:
        link = s.manifest.chain
        assert link is not None
        refs = [*link.legacy, *([link.previous] if link.previous else [])]
        if link.previous is None:
            roots.append(s.run_id)
        for ref in refs:
            target = by_id.get(ref.run_id)
            if target is None:
                removed = True
                problem(ref.run_id, f"manifest removed (run {s.run_id} names it before itself)")
            elif target.sha256 != ref.sha256:
                problem(
                    ref.run_id,
                    f"manifest altered (run {s.run_id} recorded another SHA-256 of it)",
                )
            if ref.run_id in linked:
                problem(
                    ref.run_id,
                    f"chain forks: runs {linked[ref.run_id]} and {s.run_id} both follow it"
                    " (one was inserted)",
                )
            else:
                linked[ref.run_id] = s.run_id
    if len(roots) > 1:
        for run_id in roots[1:]:
            problem(run_id, "manifest inserted (a second start of the chain)")
    for s in manifests:
        if s.manifest.chain is None and s.run_id not in linked:
            problem(s.run_id, "manifest inserted (no chain link and no chained run names it)")
    heads = [s for s in chained if s.run_id not in linked]
    # a removed manifest leaves the one before it with no successor: that is the removal
    if len(heads) > 1 and not removed:
        newest = max(heads, key=lambda s: (s.manifest.committed_at, s.run_id))
        for s in heads:
            if s is not newest:
                problem(
                    s.run_id,
                    "manifest inserted (the chain leads elsewhere: nothing follows it"
                    f" and run {newest.run_id} is newer)",
                )
    for s in manifests:
        if s.key and s.key != s.manifest.prefix + MANIFEST:
            problem(s.run_id, f"manifest stored at {s.key} names another run or account")
    return problems


def load_stored(store: ObjectStore, account_id: str, run_id: str) -> StoredManifest | None:
    """One manifest with its digest, or None if it is gone."""
    key = run_prefix(account_id, run_id) + MANIFEST
    try:
        data = read_bytes(store, key)
    except NotFound:
        return None
    try:
        return StoredManifest(Manifest.from_json(data), sha256_bytes(data), key)
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None
