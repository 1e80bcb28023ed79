"""What an evidence bundle adds for a Mastodon item: the status as the server served it.

For each Mastodon item the bundle gets `data/mastodon/<n>-status.json`: every API response of
the item's runs that held it (the Status in a timeline, notification, favourites or lookup
page; its edit history page, one StatusEdit per version), each with where it was found (run,
page file and its manifest SHA-256, line), endpoint, params and `retrieved_at`; and the
ActivityStreams activity where it came from an account archive. The page files themselves are
copied beside (`data/source-files/<run>/pages/...`, checked against their manifest hashes), so
anyone can find each response in the file the run committed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from storage.records import platform_of
from storage.runs import Manifest, open_object
from storage.store import ObjectStore

if TYPE_CHECKING:
    from archiver.exports.bundle import BundleBuilder
    from archiver.exports.items import ExportItem

_PAGES = "files/pages/"


def _statuses(body: Any) -> Iterator[dict[str, Any]]:
    """The Status objects a response holds (notifications carry theirs in `status`)."""
    for entry in body if isinstance(body, list) else [body]:
        if isinstance(entry, dict):
            yield entry
            if isinstance(entry.get("status"), dict):
                yield entry["status"]


def _lines(store: ObjectStore, manifest: Manifest, key: str) -> Iterator[tuple[int, Any]]:
    with open_object(store, manifest.prefix + key) as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                yield n, orjson.loads(line)


def add_mastodon_evidence(
    b: BundleBuilder,
    store: ObjectStore,
    manifests: dict[str, Manifest],
    items: Sequence[ExportItem],
) -> None:
    chosen = [i for i in items if platform_of(i.latest) == "mastodon"]
    copied: set[str] = set()
    for n, item in enumerate(chosen, 1):
        uri = item.key
        local_ids = {  # the server's own id of the status (StatusEdit versions carry none)
            str(v["raw"]["id"])
            for v in item.versions
            if v.get("source") == "mastodon-api"
            and isinstance(v.get("raw"), dict)
            and v["raw"].get("id")
        }
        history_paths = {f"/api/v1/statuses/{i}/history" for i in local_ids}
        served: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for run_id in item.seen_in:
            manifest = manifests[run_id]
            for entry in manifest.objects:
                if not (entry.key.startswith(_PAGES) and entry.key.endswith(".jsonl.gz")):
                    continue
                found = False
                for line_no, page in _lines(store, manifest, entry.key):
                    where = {
                        "run_id": run_id,
                        "file": entry.key,
                        "file_sha256": entry.sha256,
                        "line": line_no,
                        **{k: page.get(k) for k in ("endpoint", "path", "params", "status")},
                        "retrieved_at": page.get("retrieved_at"),
                    }
                    body = page.get("response")
                    if page.get("path") in history_paths:
                        history.append({**where, "versions": body})
                        found = True
                        continue
                    for status in _statuses(body):
                        if status.get("uri") == uri:
                            served.append({**where, "served": status})
                            found = True
                if found and f"{run_id}/{entry.key}" not in copied:
                    copied.add(f"{run_id}/{entry.key}")
                    b.add_stored(
                        f"source-files/{run_id}/{entry.key.removeprefix('files/')}",
                        manifest.prefix + entry.key,
                        entry.sha256,
                    )
        activities = [
            {"run_id": v.get("run_id"), "activity": v.get("raw")}
            for v in item.versions
            if v.get("source") == "mastodon-archive"
        ]
        b.add_json(
            f"mastodon/{n:03d}-status.json",
            {
                "item": uri,
                "account_id": item.account_id,
                "collection": item.collection,
                "served": served,
                "edit_history": history,
                "activitypub": activities,
            },
        )
