"""`archiver demo-data`: write the fictional demo account's archive ZIP (and, if asked, the
public's replies as twarc2 JSONL). A thin layer over `write_demo_archive`."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click

from archiver.demo.archive_zip import DemoSummary, write_demo_archive
from archiver.demo.eras import ERAS, EraSummary, write_era_archive
from archiver.demo.mentions import MentionsSummary, write_demo_mentions_jsonl
from archiver.demo.network import NetworkSummary, write_demo_network_jsonl
from archiver.demo.timeline import MAX_POSTS, MIN_POSTS
from archiver.timestamps import local_time
from archiver.wording import plural


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


def describe_era(s: EraSummary, seconds: float) -> str:
    months = f", {s.months} monthly files and tweets.csv" if s.era == "classic" else ""
    dms = (
        f", {s.likes:,} likes, {s.followers:,} followers, {s.following:,} following, "
        f"{s.dm_conversations} DM conversations ({s.dm_messages:,} messages), "
        f"{s.media_files:,} media files"
        if s.era == "2018"
        else ""
    )
    return (
        f"wrote {s.path} ({s.era} layout): {s.tweets:,} posts by @{s.username}{months}{dms}; "
        f"{s.size_bytes / 1e6:,.1f} MB in {seconds:.1f} s"
    )


def describe_mentions(m: MentionsSummary, seconds: float) -> str:
    return (
        f"wrote {m.path}: {m.mentions:,} posts from the public ({m.replies:,} replies to the "
        f"force's posts) by {m.users:,} accounts, in {plural(m.pages, 'API page')}; {seconds:.1f} s"
    )


def describe_network(n: NetworkSummary, seconds: float) -> str:
    return (
        f"wrote {n.path}: the force's {n.collection} ({plural(n.users, 'account')} with their"
        f" counts) as of {local_time(n.retrieved_at)}, in {plural(n.pages, 'API page')};"
        f" {seconds:.1f} s"
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
    "--era",
    type=click.Choice(ERAS),
    default="2020",
    show_default=True,
    help="The archive's layout: 2020 (data/ + manifest.js, as X writes it today), 2018 "
    "(files at the root, epoch-ms times) or classic (pre-2018 Grailbird: data/js + tweets.csv).",
)
@click.option(
    "--start-year",
    type=click.IntRange(2011, 2100),
    help="The first year of posts.  [default: 2019; 2015 for --era 2018, 2012 for classic]",
)
@click.option(
    "--years",
    type=click.IntRange(1, 30),
    help="How many years the posts cover.  [default: 7; 3 for --era 2018 and classic]",
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
@click.option(
    "--followers-jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the force's followers a month later as twarc2 JSONL (names, counts).",
)
@click.option(
    "--following-jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write whom the force follows a month later as twarc2 JSONL.",
)
@click.option("--force", is_flag=True, help="Replace files that already exist.")
def demo_data_cmd(
    path: Path,
    posts: int,
    seed: int,
    era: str,
    start_year: int | None,
    years: int | None,
    part_size: int | None,
    mentions_jsonl: Path | None,
    followers_jsonl: Path | None,
    following_jsonl: Path | None,
    force: bool,
) -> None:
    """Write a fictional police force's X archive ZIP (demo data, no real person's data)."""
    started = time.monotonic()
    if era != "2020":
        extras = (part_size, mentions_jsonl, followers_jsonl, following_jsonl)
        if any(option is not None for option in extras):
            raise click.UsageError(
                "--part-size, --mentions-jsonl, --followers-jsonl and --following-jsonl "
                "need --era 2020"
            )
        summary_era = write_era_archive(
            path, era, posts=posts, seed=seed, start_year=start_year, years=years, overwrite=force
        )
        click.echo(describe_era(summary_era, time.monotonic() - started))
        return
    start_year = 2019 if start_year is None else start_year
    years = 7 if years is None else years
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
    for collection, target in (("followers", followers_jsonl), ("following", following_jsonl)):
        if target is None:
            continue
        started = time.monotonic()
        network = write_demo_network_jsonl(
            target,
            collection,
            posts=posts,
            seed=seed,
            start_year=start_year,
            years=years,
            overwrite=force,
        )
        click.echo(describe_network(network, time.monotonic() - started))
