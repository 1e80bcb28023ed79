"""A Bluesky repository as the archive holds it: rebuilt from the CARs its runs kept."""

from __future__ import annotations

from archiver.platforms.bluesky.repo import Repository, read_car, verify_blocks
from storage.runs import Manifest
from storage.store import ObjectStore


def repo_runs(manifests: list[Manifest]) -> list[Manifest]:
    """The runs that keep a repository CAR (imports, full and incremental backups)."""
    return [
        m
        for m in manifests
        if isinstance(m.details.get("repo"), dict) and m.details["repo"].get("car")
    ]


def stored_repository(
    store: ObjectStore, manifests: list[Manifest], upto: str | None = None
) -> Repository | None:
    """The repository at the newest run (or at run `upto`) that keeps one: the newest whole
    CAR up to it and every `since` CAR after that, overlaid (each CAR's blocks checked against
    their CIDs again), walked from that run's commit. None when no run keeps a repository."""
    held = repo_runs(manifests)
    if upto is not None:
        ids = [m.run_id for m in held]
        if upto not in ids:
            return None
        held = held[: ids.index(upto) + 1]
    wholes = [i for i, m in enumerate(held) if not m.details["repo"].get("since")]
    if not wholes:
        return None
    blocks: dict[bytes, bytes] = {}
    for manifest in held[wholes[-1] :]:
        with store.open(manifest.prefix + manifest.details["repo"]["car"]) as fh:
            _, found = read_car(fh.read())
        blocks.update(found)
    last = held[-1]
    return verify_blocks(
        last.details["repo"]["commit"], blocks, did=last.details.get("did"), key=None
    )
