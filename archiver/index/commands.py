"""`archiver index` and `archiver search`: a thin click layer over Index.

Registered in archiver/cli.py; the click context object is archiver.clikit.Context (config,
archive).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import sys
from typing import Any

import click

from archiver.clikit import DAY, echo_json
from archiver.index.binding import open_index, rebuild_index
from archiver.index.searching import SORTS, SearchResult
from archiver.platforms.names import handle_label, platform_name
from archiver.timestamps import local_time
from archiver.wording import plural
from storage.records import KINDS, PLATFORMS

_MATCH = re.compile(r'<b class="match">(.*?)</b>', re.S)


class _Bar:
    """A progress bar on a terminal, nothing in cron (the callback Index takes)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command("index")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Build a new index from storage alone, then swap it in (also rebinds an index "
    "built from another store).",
)
@click.pass_obj
def index_cmd(obj: Any, rebuild: bool) -> None:
    """Bring the search index up to date with every committed run."""
    bar = _Bar("rebuilding index" if rebuild else "indexing")
    try:
        if rebuild:  # whichever store the index was built from: this one's from now on
            idx, _ = rebuild_index(obj.archive, progress=bar)
        else:
            idx = open_index(obj.archive)
            idx.update(obj.archive, progress=bar)
    finally:
        bar.close()
    report = idx.last_update
    items = idx.doc_count()
    if rebuild and report is not None:
        click.echo(
            f"rebuilt the index from {plural(report.runs, 'run')}"
            f" ({plural(report.records, 'record')}) in {report.seconds:.1f} s:"
            f" {plural(items, 'item')}"
        )
    elif report is None or not report.runs:
        click.echo(f"the index is up to date: {plural(items, 'item')}")
    else:
        click.echo(
            f"indexed {plural(report.runs, 'run')} ({plural(report.records, 'record')}):"
            f" {plural(items, 'item')}"
        )


@click.command("search")
@click.argument("query", nargs=-1)
@click.option("--account", help="Only this archived account (@handle or id).")
@click.option(
    "--kind",
    type=click.Choice(KINDS, case_sensitive=False),
    help="Only this kind of item.",
)
@click.option(
    "--platform",
    type=click.Choice(PLATFORMS, case_sensitive=False),
    help="Only items of accounts on this platform.",
)
@click.option(
    "--from",
    "from_",
    type=DAY,
    help="Created on or after this day (YYYY-MM-DD).",
)
@click.option("--to", type=DAY, help="Created on or before this day (YYYY-MM-DD).")
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="relevance",
    show_default=True,
    help="Order of the results.",
)
@click.option(
    "--page",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Page of results to show.",
)
@click.option(
    "--limit", type=click.IntRange(1, 100), default=20, show_default=True, help="Results per page."
)
@click.option("--json", "as_json", is_flag=True, help="Print the /api/search JSON shape.")
@click.pass_obj
def search_cmd(
    obj: Any,
    query: tuple[str, ...],
    account: str | None,
    kind: str | None,
    platform: str | None,
    from_: dt.datetime | None,
    to: dt.datetime | None,
    sort: str,
    page: int,
    limit: int,
    as_json: bool,
) -> None:
    """Search the archive: words, "phrases", OR, NOT, from:, to:, #tags, since:, is:deleted..."""
    idx = open_index(obj.archive)
    until = (to.date() + dt.timedelta(days=1)) if to else None
    result = idx.search(
        " ".join(query),
        account=account,
        kind=kind,
        platform=platform,
        since=from_.date() if from_ else None,
        until=until,
        sort=sort,
        page=page,
        per_page=limit,
        highlight=True,
        facets=True,
        zone=obj.config.ui.timezone,
    )
    if as_json:
        echo_json(result.to_dict())
        return
    if result.notice:
        click.echo(f"note: {result.notice}", err=True)
    pending = idx.pending_runs(obj.archive)
    if pending:
        click.echo(
            f"note: {len(pending)} committed runs are not in the index yet; run `archiver index`",
            err=True,
        )
    _print_result(result, " ".join(query), obj.config.ui.timezone)


def _print_result(result: SearchResult, query: str, zone: str) -> None:
    what = f' for "{query}"' if query else ""
    click.echo(f"{plural(result.total, 'result')}{what} (page {result.page} of {result.pages})")
    bold = sys.stdout.isatty()
    for hit in result.hits:
        flags = "".join(
            [
                " [edited]" if hit.edited else "",
                f" [deleted {local_time(hit.deleted_at, zone)}]" if hit.deleted_at else "",
            ]
        )
        day = local_time(hit.created_at, zone, unknown="undated")
        where = handle_label(hit.account, hit.platform)
        click.echo(f"\n{day}  {where}  {hit.kind}  {hit.id}  by @{hit.author}{flags}")
        click.echo("  " + _terminal_text(hit.highlights, bold).replace("\n", "\n  "))
    if result.total:
        kinds = ", ".join(f"{k} {n:,}" for k, n in result.facets.get("kind", {}).items())
        accounts = ", ".join(f"@{a} {n:,}" for a, n in result.facets.get("account", {}).items())
        click.echo(f"\nby kind: {kinds}\nby account: {accounts}")
        platforms = result.facets.get("platform", {})
        if set(platforms) - {"x"}:  # an archive of X alone reads as it always did
            named = ", ".join(f"{platform_name(p)} {n:,}" for p, n in platforms.items())
            click.echo(f"by platform: {named}")


def _terminal_text(highlights: str, bold: bool) -> str:
    def mark(m: re.Match[str]) -> str:
        return click.style(m.group(1), bold=True) if bold else m.group(1)

    return html.unescape(_MATCH.sub(mark, highlights))
