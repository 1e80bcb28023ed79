"""A second baseline: tantivy (Rust, through its Python binding) over the same runs, doing
the same work per query as Index.search and the FTS5 baseline: count every match, the top 20
by BM25 or by date with highlighted snippets, facet counts by account, kind and month.

Benchmark only: `pip install tantivy` into the venv; the archiver never imports it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import tantivy

from storage.records import item_key
from storage.runs import iter_records, list_runs
from storage.store import ObjectStore

COLLECTIONS = ("tweets", "mentions")


def _schema() -> Any:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("text", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("key", stored=False, tokenizer_name="raw")
    for name in ("account", "kind", "month"):
        sb.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    sb.add_integer_field("created", stored=True, indexed=True, fast=True)
    return sb.build()


def _epoch(created_at: str | None) -> int:
    if not created_at:
        return 0
    return int(dt.datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp())


def build(store: ObjectStore, path: Path) -> int:
    """Every post's latest text; an edited post replaces its earlier document."""
    path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_schema(), path=str(path))
    writer = index.writer(heap_size=256 * 2**20, num_threads=2)
    count = _insert(writer, store, list_runs(store))
    writer.commit()
    writer.wait_merging_threads()
    return count


def _insert(writer: Any, store: ObjectStore, manifests: list[Any]) -> int:
    count = 0
    for manifest in manifests:
        for collection in COLLECTIONS:
            for rec in iter_records(store, manifest, collection):
                key = f"{manifest.account_id}/{collection}/{item_key(rec)}"
                writer.delete_documents("key", key)  # deletes what was added before it
                created = rec["created_at"] or ""
                writer.add_document(
                    tantivy.Document(
                        text=rec["text"] or "",
                        key=key,
                        account=rec["account"],
                        kind=rec["kind"],
                        month=created[:7],
                        created=_epoch(created),
                    )
                )
                count += 1
    return count


class Searcher:
    def __init__(self, path: Path) -> None:
        self.index = tantivy.Index.open(str(path))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def search(
        self,
        q: str,
        *,
        account: str | None = None,
        since: str | None = None,
        until: str | None = None,
        sort: str = "relevance",
        highlight: bool = True,
        facets: bool = True,
    ) -> tuple[int, list[Any], dict[str, Any]]:
        query = self.index.parse_query(q, ["text"])
        must = [(tantivy.Occur.Must, query)]
        if account:
            term = tantivy.Query.term_query(self.schema, "account", account)
            must.append((tantivy.Occur.Must, term))
        if since or until:
            low = _epoch(f"{since}T00:00:00Z") if since else 1
            high = _epoch(f"{until}T00:00:00Z") - 1 if until else 2**62
            rng = tantivy.Query.range_query(
                self.schema, "created", tantivy.FieldType.Integer, low, high
            )
            must.append((tantivy.Occur.Must, rng))
        if len(must) > 1:
            query = tantivy.Query.boolean_query(must)
        searcher = self.searcher
        found = (
            searcher.search(query, 20, count=True, order_by_field="created")
            if sort == "date"
            else searcher.search(query, 20, count=True)
        )
        hits = []
        snippets = (
            tantivy.SnippetGenerator.create(searcher, query, self.schema, "text")
            if highlight
            else None
        )
        for _, address in found.hits:
            doc = searcher.doc(address)
            text = snippets.snippet_from_doc(doc).to_html() if snippets else doc["text"][0]
            hits.append((text, doc["account"], doc["kind"], doc["created"]))
        counts: dict[str, Any] = {}
        if facets:
            counts = searcher.aggregate(
                query,
                {
                    name: {"terms": {"field": name, "size": size}}
                    for name, size in (("account", 100), ("kind", 20), ("month", 1000))
                },
            )
        return found.count or 0, hits, counts
