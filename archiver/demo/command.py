"""`archiver demo-data`: write the fictional demo account's archive ZIP (and, if asked, the
public's replies as twarc2 JSONL). A thin layer over `write_demo_archive`."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click

from archiver.demo.archive_zip import DemoSummary, write_demo_archive
from archiver.demo.mentions import MentionsSummary, write_demo_mentions_jsonl
from archiver.demo.timeline import MAX_POSTS, MIN_POSTS


def describe_archive(s: DemoSummary, seconds: float) -> str:
    k = s.kinds
    return (
        f"wrote {s.path}: {s.tweets:,} posts by @{s.username} ({k['post']:,} posts, "
        f"{k['reply']:,} replies, {k['repost']:,} reposts, {k['quote']:,} quotes; "
        f"{s.edited} edited, {s.note_tweets} long, {s.deleted} deleted), "
        f"{s.media_files:,} media files, "
        f"{s.likes:,} likes, {s.followers:,} followers, {s.following:,} following, "
        f"{s.dm_conversations} DM conversations ({s.dm_messages:,} messages), "
        f"{s.group_conversations} group DM ({s.group_messages:,} messages); "
        f"{s.size_bytes / 1e6:,.1f} MB in {seconds:.1f} s"
    )


def describe_mentions(m: MentionsSummary, seconds: float) -> str:
    return (
        f"wrote {m.path}: {m.mentions:,} posts from the public ({m.replies:,} replies to the "
        f"force's posts) by {m.users:,} accounts, in {m.pages:,} API pages; {seconds:.1f} s"
    )


@click.command("demo-data")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--posts",
    type=click.IntRange(MIN_POSTS, MAX_POSTS),
    default=3000,
    show_default=True,
    help="Entries in tweets.js (the force's posts, replies, reposts).",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=7,
    show_default=True,
    help="Same seed, same bytes; another seed, another (equally fictional) history.",
)
@click.option(
    "--start-year",
    type=click.IntRange(2011, 2100),
    default=2019,
    show_default=True,
    help="The first year of posts.",
)
@click.option(
    "--years",
    type=click.IntRange(1, 30),
    default=7,
    show_default=True,
    help="How many years the posts cover.",
)
@click.option(
    "--part-size",
    type=click.IntRange(1),
    metavar="N",
    help="Split tweets.js into tweets-partN.js files of at most N entries.",
)
@click.option(
    "--mentions-jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the public's replies as twarc2 JSONL (API v2 mentions pages).",
)
@click.option("--force", is_flag=True, help="Replace files that already exist.")
def demo_data_cmd(
    path: Path,
    posts: int,
    seed: int,
    start_year: int,
    years: int,
    part_size: int | None,
    mentions_jsonl: Path | None,
    force: bool,
) -> None:
    """Write a fictional police force's X archive ZIP (demo data, no real person's data)."""
    started = time.monotonic()
    tty = sys.stderr.isatty()
    bar = click.progressbar(length=100, label="generating posts", file=sys.stderr)
    with bar if tty else contextlib.nullcontext():
        summary = write_demo_archive(
            path,
            posts=posts,
            seed=seed,
            start_year=start_year,
            years=years,
            part_size=part_size,
            overwrite=force,
            progress=(lambda done, total: bar.update(done * 100 // total - bar.pos))
            if tty
            else None,
        )
    click.echo(describe_archive(summary, time.monotonic() - started))
    if mentions_jsonl is not None:
        started = time.monotonic()
        mentions = write_demo_mentions_jsonl(
            mentions_jsonl,
            posts=posts,
            seed=seed,
            start_year=start_year,
            years=years,
            overwrite=force,
        )
        click.echo(describe_mentions(mentions, time.monotonic() - started))
