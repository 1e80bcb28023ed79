"""Answering a search: matching items, their order, a page of hits, highlights and facets.

Totals and facets count every match, so the set of matching documents is computed once
(`matching_docs`) and reused: facets and date order read whole-column arrays cached per
segment (`Columns`) instead of asking Whoosh document by document.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.highlight import ContextFragmenter, Formatter, WholeFragmenter, get_text, highlight
from whoosh.searching import Searcher

from archiver.index import schema as f
from archiver.index.columns import ColumnArrays, Columns, month_label
from archiver.index.docsets import Matches, matching_docs
from archiver.index.items import IndexedItem, account_number
from archiver.index.postings import PostingCache, Postings
from archiver.index.query import ParsedQuery
from archiver.index.ranking import by_relevance, newest
from storage.accountids import account_platform
from storage.records import KINDS

SORTS = ("relevance", "date")
MAX_PER_PAGE = 100
_WHOLE_TEXT = 600  # longer texts (note tweets) are shown as fragments around the matches


@dataclass(frozen=True)
class Hit:
    id: str
    account: str
    kind: str
    author: str  # username
    created_at: str | None  # ISO 8601 UTC, as the source gave it
    text: str  # as written: escape it before putting it in HTML
    highlights: str  # HTML-safe: escaped text with <b class="match">..</b> around matches
    edited: bool
    deleted: bool
    deleted_at: str | None
    score: float
    platform: str = "x"  # x, bluesky, mastodon

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchResult:
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]  # account, platform, kind, year, month -> value -> count
    notice: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        """The /api/search shape (DESIGN.md), also printed by `archiver search --json`."""
        return {
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "results": [hit.to_dict() for hit in self.hits],
            "facets": self.facets,
            "notice": self.notice,
        }


class _Marks(Formatter):
    """Escapes everything but the match markup: tweet text is hostile input."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f'<b class="match">{html.escape(get_text(text, token, replace))}</b>'


_MARKS = _Marks()


def highlight_text(text: str, words: Iterable[str]) -> str:
    words = frozenset(words)
    if words and text:
        fragmenter = (
            WholeFragmenter()
            if len(text) <= _WHOLE_TEXT
            else ContextFragmenter(maxchars=300, surround=60)
        )
        marked: str = highlight(text, words, f.ANALYZER, fragmenter, _MARKS, top=3)
        if marked:
            return marked
    if len(text) > _WHOLE_TEXT:
        return html.escape(text[:300]) + " …"
    return html.escape(text)


def make_hit(
    searcher: Searcher, docnum: int, score: float, words: frozenset[str], with_highlights: bool
) -> Hit:
    stored = searcher.stored_fields(docnum)
    item = IndexedItem.from_stored(stored[f.KEY], stored[f.STATE])
    latest = item.latest
    text = latest["text"]
    return Hit(
        id=item.id,
        account=item.account or "",
        kind=latest.get("kind") or "",
        platform=item.platform,
        author=(latest.get("author") or {}).get("username") or "",
        created_at=latest.get("created_at"),
        text=text,
        highlights=highlight_text(text, words) if with_highlights else html.escape(text),
        edited=item.edited,
        deleted=item.deleted_at is not None,
        deleted_at=item.deleted_at,
        score=round(score, 4),
    )


def run_search(
    searcher: Searcher,
    columns: Columns,
    cache: PostingCache,
    parsed: ParsedQuery,
    query: wq.Query | None,
    *,
    sort: str,
    page: int,
    per_page: int,
    highlight_hits: bool,
    facets: bool,
    account_names: dict[str, str],
    zone: str = "UTC",
) -> SearchResult:
    if parsed.empty:
        return SearchResult(0, page, per_page, [], {}, parsed.notice)
    arrays = columns.arrays(searcher)
    postings = Postings(searcher, cache)
    matches = matching_docs(searcher, query, arrays.created, postings)
    want = page * per_page
    if sort == "relevance" and parsed.scored and matches:
        top = by_relevance(
            searcher, arrays.lengths, arrays.created, postings, parsed.words, matches, want
        )
    else:
        top = newest(arrays.created, matches.ids, want)
    hits = [
        make_hit(searcher, d, score, parsed.words, highlight_hits)
        for score, d in top[want - per_page : want]
    ]
    counts = facet_counts(columns, arrays, matches, account_names, zone) if facets else {}
    return SearchResult(len(matches), page, per_page, hits, counts, parsed.notice)


def facet_counts(
    columns: Columns,
    arrays: ColumnArrays,
    matches: Matches,
    account_names: dict[str, str],
    zone: str = "UTC",
) -> dict[str, dict[str, int]]:
    """Counts by account, platform, kind, year and month over every matching item; years
    and months as they fall in `zone` (ui.timezone), like the date filters."""
    account: Counter[str] = Counter()
    platform: Counter[str] = Counter()
    kind: Counter[str] = Counter()
    by_number = {str(account_number(a)): a for a in account_names}
    for value, n in _counts(arrays.account_kind, matches):
        number, kind_num = columns.account_kind(value)
        account_id = by_number.get(number, number)
        account[account_names.get(account_id, account_id)] += n
        platform[account_platform(account_id)] += n
        kind[KINDS[kind_num - 1] if 0 < kind_num <= len(KINDS) else "unknown"] += n
    year: Counter[str] = Counter()
    month: dict[str, int] = {}
    for month_num, n in _counts(columns.months(arrays, zone), matches):
        if month_num:
            label = month_label(month_num)
            month[label] = n
            year[label[:4]] += n
    return {
        "account": _by_count(account),
        "platform": _by_count(platform),
        "kind": _by_count(kind),
        "year": dict(sorted(year.items(), reverse=True)),
        "month": dict(sorted(month.items(), reverse=True)),
    }


def _counts(column: np.ndarray, matches: Matches) -> list[tuple[int, int]]:
    """(value, number of matches) for each value of the column among the matches."""
    counts = np.bincount(column[matches.ids])
    present = np.flatnonzero(counts)
    return list(zip(present.tolist(), counts[present].tolist(), strict=True))


def _by_count(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower())))
