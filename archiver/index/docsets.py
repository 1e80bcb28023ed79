"""The set of documents a query matches, in full: totals, facets and date order need it.

Whoosh can only enumerate matches one Python call per document. Here the common shapes
(terms, and/or/not of them, day ranges) are evaluated on whole posting blocks and Python
sets instead; anything else (phrases, prefixes) falls back to Whoosh's own matcher for
that clause. The answer is the same either way (tests compare both).
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh.searching import Searcher

from archiver.index import schema as f


def meta_docnum(searcher: Searcher) -> int | None:
    return searcher.document_number(**{f.KEY: f.META_KEY})


def matching_docs(searcher: Searcher, query: wq.Query | None) -> list[int]:
    """Global document numbers of every live item matching the query (None = all)."""
    meta = meta_docnum(searcher)
    docs = searcher.reader().all_doc_ids() if query is None else searcher.docs_for_query(query)
    return [d for d in docs if d != meta]
