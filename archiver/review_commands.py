"""`archiver followers review`: the periodic follower review, as a table, JSON or CSV; `--done`
marks it completed (the audit log records who and when, and the next review starts there)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from archiver.audit import cli_actor
from archiver.clikit import echo_json, pass_ctx
from archiver.errors import ArchiverError
from archiver.followers import Review, mark_done, review
from archiver.platforms.names import account_label
from archiver.timestamps import local_time
from archiver.wording import plural


@click.group("followers")
def followers_group() -> None:
    """Followers and following: the periodic review (serial followers, spoofers, changes)."""


@followers_group.command("review")
@click.option(
    "--account", "accounts", multiple=True, help="@handle or id (default: every account)."
)
@click.option(
    "--since",
    help="Changes after this day (YYYY-MM-DD, ui.timezone); default: the last completed review.",
)
@click.option(
    "--from-run",
    metavar="RUN",
    help="Gains and losses after the follower list as of this run (an id or its unique start).",
)
@click.option(
    "--to-run",
    metavar="RUN",
    help="Review the follower list as of this run, not the newest (with --from-run: between).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="The review as JSON (a contract for scripts)."
)
@click.option(
    "--csv", "as_csv", is_flag=True, help="The review as CSV, one row per person and section."
)
@click.option("--done", is_flag=True, help="Mark the review completed (recorded in the audit log).")
@pass_ctx
def review_cmd(
    obj: Any,
    accounts: tuple[str, ...],
    since: str | None,
    from_run: str | None,
    to_run: str | None,
    as_json: bool,
    as_csv: bool,
    done: bool,
) -> None:
    """The follower review of each account: counts, gains and losses since the last completed
    review (or between two runs), serial followers, possible spoofers, who does not follow
    back."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    if since and from_run:
        raise click.UsageError("choose one of --since and --from-run")
    if (from_run or to_run) and done:
        raise click.UsageError("--done marks the review of the newest list; drop --from/--to-run")
    day = None
    if since:
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            raise ArchiverError(f"--since needs a day as YYYY-MM-DD, got {since!r}") from None
    archive = obj.archive
    refs = [archive.resolve_account(a) for a in accounts] or archive.accounts()
    if not refs:
        raise ArchiverError(f"no accounts in {archive.store.description}")
    if (from_run or to_run) and len(refs) > 1:
        raise click.UsageError("--from-run and --to-run are runs of one account: give --account")
    reviews = [review(archive, ref, since=day, from_run=from_run, to_run=to_run) for ref in refs]
    if as_json:
        docs = [r.to_dict() for r in reviews]
        echo_json(docs[0] if len(docs) == 1 else docs)
    elif as_csv:
        for n, r in enumerate(reviews):
            text = r.csv()
            sys.stdout.write(text if n == 0 else text.split("\r\n", 1)[1])
    else:
        for r in reviews:
            _print(r, obj.config.ui.timezone)
    if done:
        for ref in refs:
            marked = mark_done(archive, ref, cli_actor())
            who = account_label(ref.username, ref.account_id)
            click.echo(f"{who}: review marked done by {marked['by']}", err=True)


def _print(r: Review, zone: str) -> None:
    if r.from_run:
        since = f"changes after the list of {local_time(r.since, zone)}"
    elif r.since and r.last_review and r.since in r.last_review.values():
        since = f"since the review of {local_time(r.since, zone)}"
    elif r.since:
        since = f"changes after {local_time(r.since, zone)}"
    else:
        since = "no completed review yet"
    if r.until:
        since += f"; the list of {local_time(r.until['at'], zone)}, run {r.until['run']}"
    click.echo(
        f"{account_label(r.account.username, r.account.account_id)}:"
        f" {plural(len(r.followers), 'follower')},"
        f" following {len(r.following):,} ({since})"
    )
    for section, users in r.sections():
        title = section.replace("_", " ")
        click.echo(f"  {title}: {len(users):,}")
        for u in users[:20]:
            extra = (
                f"  imitates @{u['imitates']}: {'; '.join(u['why'])}" if u.get("imitates") else ""
            )
            counts = (
                f" (follows {u['following_count']:,}, followed by {u['followers_count']:,})"
                if u.get("following_count") is not None and u.get("followers_count") is not None
                else ""
            )
            click.echo(
                f"    @{u.get('username') or '?'} {u.get('name') or ''} id {u['id']}{counts}{extra}"
            )
        if len(users) > 20:
            click.echo(f"    ... and {len(users) - 20:,} more (--csv lists everyone)")
