"""The search page: query box, filters, sort, facets as links, highlighted hits, pages.

`SearchRequest` reads and checks the search parameters; the JSON API and the FOI export
use it too, so a search means the same thing everywhere.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from archiver.index import SearchArgumentError, SearchIndexError, SearchResult
from archiver.index.query import PLATFORM_VALUES
from search_ui.auth import login_required
from search_ui.backend import backend
from search_ui.params import BadParam, day, whole_number
from storage.records import KINDS, PLATFORMS

bp = Blueprint("search", __name__)

SORTS = ("relevance", "date")
PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_QUERY = 1000


class BadSearch(ValueError):
    """A search parameter that cannot be used; the message names it."""


def _day(args: MultiDict[str, str], name: str) -> dt.date | None:
    try:
        return day(args, name)
    except BadParam as exc:
        raise BadSearch(exc.description) from None


def _whole(args: MultiDict[str, str], name: str, default: int, top: int) -> int:
    try:
        return whole_number(args, name, default, top)
    except BadParam as exc:
        raise BadSearch(exc.description) from None


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    account: str = ""
    kind: str = ""
    platform: str = ""  # x, bluesky, mastodon
    from_: dt.date | None = None  # created on or after this day
    to: dt.date | None = None  # created on or before this day
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> SearchRequest:
        q = (args.get("q") or "").strip()
        if len(q) > MAX_QUERY:
            raise BadSearch(f"q: the query is longer than {MAX_QUERY} characters")
        kind = (args.get("kind") or "").strip().lower()
        if kind and kind not in KINDS:
            raise BadSearch(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
        platform = (args.get("platform") or "").strip().lower()
        if platform and platform not in PLATFORM_VALUES:
            known = ", ".join(PLATFORMS)
            raise BadSearch(f"platform: expected one of {known}, got {platform[:40]!r}")
        sort = (args.get("sort") or "relevance").strip()
        if sort not in SORTS:
            raise BadSearch(f"sort: expected relevance or date, got {sort!r}")
        from_, to = _day(args, "from"), _day(args, "to")
        if from_ and to and from_ > to:
            raise BadSearch("from: the first day comes after the last day (to)")
        return cls(
            q=q,
            account=(args.get("account") or "").strip().lstrip("@")[:100],
            kind=kind,
            platform=PLATFORM_VALUES.get(platform, ""),
            from_=from_,
            to=to,
            sort=sort,
            page=_whole(args, "page", 1, 10_000),
            per_page=_whole(args, "per_page", PER_PAGE, MAX_PER_PAGE),
        )

    def _filters(self) -> dict[str, Any]:
        """The request's filters as the index takes them (its `until` excludes the day)."""
        return {
            "account": self.account or None,
            "kind": self.kind or None,
            "platform": self.platform or None,
            "since": self.from_,
            "until": self.to + dt.timedelta(days=1) if self.to else None,
            "zone": backend().config.ui.timezone,
        }

    def run(self, *, highlight: bool = True, facets: bool = True) -> SearchResult:
        try:
            return backend().index.search(
                self.q,
                **self._filters(),
                sort=self.sort,
                page=self.page,
                per_page=self.per_page,
                highlight=highlight,
                facets=facets,
            )
        except SearchArgumentError as exc:
            raise BadSearch(str(exc)) from None

    def iter_ids(self) -> list[str]:
        return list(backend().index.iter_ids(self.q, **self._filters()))

    def args(self, **changes: Any) -> dict[str, str]:
        """URL parameters of this search with some changed (empty ones left out)."""
        changed = replace(self, **changes)
        out = {
            "q": changed.q,
            "account": changed.account,
            "kind": changed.kind,
            "platform": changed.platform,
            "from": changed.from_.isoformat() if changed.from_ else "",
            "to": changed.to.isoformat() if changed.to else "",
            "sort": "" if changed.sort == "relevance" else changed.sort,
            "page": "" if changed.page == 1 else str(changed.page),
            "per_page": "" if changed.per_page == PER_PAGE else str(changed.per_page),
        }
        return {k: v for k, v in out.items() if v}

    @property
    def filters(self) -> dict[str, str]:
        return {k: v for k, v in self.args().items() if k not in ("q", "page", "per_page")}

    def audit_detail(self) -> dict[str, Any]:
        return {"query": self.q, "filters": self.filters, "page": self.page}

    def facet_args(self, facet: str, value: str) -> dict[str, str]:
        """The search narrowed to one facet value (back to page 1)."""
        if facet == "account":
            return self.args(account=value, page=1)
        if facet == "kind":
            return self.args(kind=value, page=1)
        if facet == "platform":
            return self.args(platform=value, page=1)
        if facet == "year":
            year = int(value)
            return self.args(from_=dt.date(year, 1, 1), to=dt.date(year, 12, 31), page=1)
        year, month = (int(p) for p in value.split("-"))
        last = calendar.monthrange(year, month)[1]
        return self.args(from_=dt.date(year, month, 1), to=dt.date(year, month, last), page=1)

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["from"] = doc.pop("from_")
        return doc


@bp.route("/")
def index() -> Any:
    return redirect(url_for("search.search"))


@bp.route("/search")
@login_required
def search() -> Any:
    be = backend()
    result, error, status = None, None, 200
    try:
        req = SearchRequest.from_args(request.args)
        result = req.run()
    except BadSearch as exc:
        req = SearchRequest(q=(request.args.get("q") or "")[:MAX_QUERY])
        error, status = str(exc), 400
    except SearchIndexError as exc:
        error, status = f"The search index cannot be used: {exc}", 503
    if result is not None and (req.q or req.filters or req.page > 1):
        # the bare landing page (the newest items) is not a search anyone asked for
        be.audit.record(g.user.name, "search", total=result.total, **req.audit_detail())
    return render_template(
        "search.html",
        req=req,
        result=result,
        error=error,
        accounts=[s.account.username for s in be.catalogue.accounts()],
        kinds=KINDS,
        platforms=PLATFORMS,
    ), status
