"""FOI exports: the items matching a query and filters, third parties redacted by default.

The query runs on the search index (archiver.index), the same language the UI's search
speaks; with no query, the filters alone select from the current view. DMs are withheld
unless asked for. The bundle carries a redaction log and a disclosure record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from archiver.archive import Archive
from archiver.exports.disclosure import Disclosure, disclose, own_accounts, slug
from archiver.exports.errors import ExportError
from archiver.exports.items import ExportItem, collector_paused_during, load_scope, sort_items
from archiver.exports.redaction import RedactionProfile, Redactor
from archiver.exports.register import default_operator
from archiver.index import Index, open_index
from archiver.timestamps import DISPLAY_TIMEZONE, local_date
from storage.records import KINDS


@dataclass(frozen=True)
class Criteria:
    """What an FOI request covers. Dates are inclusive days in `zone` (export_foi sets it
    to ui.timezone)."""

    query: str = ""
    accounts: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    zone: str = DISPLAY_TIMEZONE

    def describe(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "accounts": list(self.accounts),
            "kinds": list(self.kinds),
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }


# -- FOI selection -----------------------------------------------------------------------------
def _terms(query: str) -> list[str]:
    try:
        return [t.lower() for t in shlex.split(query) if t.strip() and t != "*"]
    except ValueError:
        raise ExportError(f"query has an unmatched quote: {query!r}") from None


def _searchable(rec: dict[str, Any]) -> str:
    author = rec.get("author") or {}
    parts = [
        rec.get("text"),
        author.get("username"),
        author.get("name"),
        *(rec.get("hashtags") or ()),
        *(m for m in rec.get("mentions") or () if isinstance(m, str)),
    ]
    return "\n".join(str(p) for p in parts if p).lower()


def _in_dates(item: ExportItem, criteria: Criteria) -> bool:
    """Created on one of the days asked for, the days read in ui.timezone."""
    since, until = criteria.since, criteria.until
    if since is None and until is None:
        return True
    for rec in item.versions:
        day = local_date(rec.get("created_at"), criteria.zone)
        if not day:
            continue
        if (since is None or day >= since.isoformat()) and (
            until is None or day <= until.isoformat()
        ):
            return True
    return False


def _scan(items: Iterable[ExportItem], criteria: Criteria) -> list[ExportItem]:
    terms = _terms(criteria.query)
    found = []
    for item in items:
        if criteria.kinds and item.kind not in criteria.kinds:
            continue
        if not _in_dates(item, criteria):
            continue
        if terms and not any(
            all(t in text for t in terms) for text in map(_searchable, item.versions)
        ):
            continue
        found.append(item)
    return found


def _search(index: Index, items: Iterable[ExportItem], criteria: Criteria) -> list[ExportItem]:
    until = criteria.until + dt.timedelta(days=1) if criteria.until else None  # exclusive there
    ids: set[str] = set()
    for kind in criteria.kinds or (None,):
        ids.update(
            index.iter_ids(
                criteria.query, kind=kind, since=criteria.since, until=until, zone=criteria.zone
            )
        )
    return [i for i in items if i.key in ids]


def find_items(
    items: Iterable[ExportItem], criteria: Criteria, *, index: Index | None = None
) -> list[ExportItem]:
    """The items an FOI request covers, oldest first. With a search index, the query is the
    index's query language (what the UI's search shows); without one, or with no query, a
    scan of the current view: every word (or "quoted phrase") in the text, author or tags of
    some version, within the kinds and dates (inclusive)."""
    unknown = set(criteria.kinds) - set(KINDS)
    if unknown:
        raise ExportError(f"unknown kind {sorted(unknown)[0]!r}; kinds are {', '.join(KINDS)}")
    if index is not None and criteria.query.strip():
        return sort_items(_search(index, items, criteria))
    return sort_items(_scan(items, criteria))


def current_index(archive: Archive) -> Index:
    """The archive's search index, brought up to date with every committed run."""
    index = open_index(archive)
    if index.pending_runs(archive):
        index.update(archive)
    return index


@collector_paused_during
def export_foi(
    archive: Archive,
    criteria: Criteria,
    *,
    request_ref: str,
    out: str | os.PathLike[str],
    redact: bool = True,
    include_dms: bool = False,
    keep_handles: Sequence[str] = (),
    operator: str | None = None,
    replace: bool = False,
    workdir: str | os.PathLike[str] | None = None,
    index: Index | None = None,
    use_index: bool = True,
) -> Disclosure:
    """The items matching `criteria` as a bag, redacted unless redact=False. The query runs
    on the search index (given, or the archive's, updated first) unless use_index=False."""
    if not criteria.query.strip() and not (
        criteria.kinds or criteria.since or criteria.until or criteria.accounts
    ):
        raise ExportError("an FOI export needs a query or at least one filter")
    criteria = dataclasses.replace(criteria, zone=archive.config.ui.timezone)
    scope = load_scope(archive, criteria.accounts)
    if index is None and use_index and criteria.query.strip():
        index = current_index(archive)
    items = find_items(scope.items, criteria, index=index)
    if not items:
        raise ExportError(f"nothing in the archive matches {criteria.query!r} with those filters")
    redactor = (
        Redactor(
            RedactionProfile.foi(own_accounts(archive), include_dms=include_dms, keep=keep_handles)
        )
        if redact
        else None
    )
    dm_filter = None if redact or include_dms else (lambda i: i.kind != "dm")
    record = {
        "kind": "foi",
        "request_reference": request_ref,
        "operator": operator or default_operator(),
        "criteria": criteria.describe(),
        "include_dms": include_dms,
    }
    return disclose(
        archive,
        scope,
        items,
        kind="foi",
        name=f"foi-{slug(request_ref)}",
        title=f"FOI request {request_ref}",
        description=f"FOI disclosure for request {request_ref}: items matching {criteria.query!r}",
        record=record,
        redactor=redactor,
        dm_filter=dm_filter,
        out=out,
        replace=replace,
        workdir=workdir,
    )
