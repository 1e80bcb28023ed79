"""`archiver reconcile`: what the archive holds against what the sources say should exist."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from xapi_dataset import POLICE

from archiver.capture.reconcile import reconcile
from archiver.cli import cli
from archiver.timestamps import local_time
from storage.records import new_record
from storage.runs import RunWriter, list_runs


def day(when: str | dt.datetime) -> str:
    """A day as the report writes it: '20 Aug 2023' in ui.timezone's default."""
    return " ".join(local_time(when).split()[:3])


def _zip_import(store, acc, *, posts: int, year: int) -> None:
    """An archive-ZIP import run, as the importer writes one (older posts than the API has)."""
    with RunWriter(
        store,
        account_id=acc.id,
        account=POLICE,
        kind="import",
        source="x-archive",
        tool_version="test",
    ) as run:
        for n in range(posts):
            run.write(
                new_record(
                    id=str(900000000000000000 + n),
                    kind="post",
                    account=POLICE,
                    account_id=acc.id,
                    created_at=f"{year}-0{1 + n % 9}-01T10:00:00.000Z",
                    text=f"Old appeal {n}",
                    source="x-archive",
                    raw={"id_str": str(n)},
                )
            )
        run.commit(
            details={"expected": {"tweets": posts}, "generated_at": "2023-08-20T15:32:53.698Z"}
        )


def test_gaps_are_named_in_a_records_officers_words(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=500, mentions=900, dms=12)
    xapi.windows["/2/users/:id/tweets"] = 320  # a small window keeps the test quick
    backup(configure(acc))
    _zip_import(local_store, acc, posts=60, year=2018)
    xapi.world.delete(acc, acc.timeline[4])
    backup(configure(acc), full=True)
    runs = list_runs(local_store, acc.id)
    first, read = day(runs[0].started_at), day(runs[-1].started_at)
    oldest_mention = day(xapi.world.tweets[acc.mentions[799]]["created_at"])

    report = reconcile(local_store, acc.id)

    # one count per collection and source, and every later line agrees with it
    assert report.lines() == [
        f"@{POLICE}: 2 gaps",
        "  The archive holds (each item once, whatever its versions or captures): 381 posts "
        "(321 through the X API, 60 from archive ZIPs); 800 mentions (800 through the X API); "
        "15 likes (15 through the X API); 3 bookmarks (3 through the X API); 30 followers "
        "(30 through the X API); 10 followed accounts (10 through the X API); 6 DMs (6 through "
        "the X API); 6 lists (6 through the X API).",
        f"  The profile (read {read}) counts 499 posts; the archive holds 380 of them still on X.",
        "  GAP 119 posts on the profile are not in the archive: the X API serves only the "
        "newest 3,200; import the account's official archive ZIP (Settings > Your account > "
        "Download an archive of your data) to fill the gap.",
        f"  The profile (read {read}) counts 30 followers; the archive holds 30 (that capture "
        "listed 30).",
        f"  The profile (read {read}) counts 10 followed accounts; the archive holds 10 (that "
        "capture listed 10).",
        # dated by the ZIP's own generation date, not the day it was imported
        "  The archive ZIP generated on 20 Aug 2023 lists 60 posts; 60 of the archive's posts "
        "came from it, 60 of them from archive ZIPs alone, the newest of those from 1 Sep 2018.",
        "  The archive holds 800 mentions (replies and posts from the public naming the "
        f"account), the oldest from {oldest_mention}.",
        f"  GAP Mentions from before {oldest_mention} are not in the archive: the X API serves "
        "only the newest 800 and archive ZIPs do not include them.",
        f"  The X API serves DMs for 30 days only: 6 DMs were captured through it since {first}; "
        "DMs older than 30 days are only in ZIP imports (0 DMs from archive ZIPs).",
        "  1 post was deleted on X after capture; the archive keeps it, marked deleted.",
    ]
    assert [f.topic for f in report.gaps] == ["posts", "mentions"]


def test_dms_missed_between_captures_more_than_30_days_apart(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=20)
    backup(configure(acc))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=45)

    report = reconcile(local_store, acc.id, now=later)

    started = list_runs(local_store, acc.id)[0].started_at
    (gap,) = [f for f in report.gaps if f.topic == "dms"]
    assert gap.text == (
        f"No DM capture between {day(started)} and {day(later)}: DMs sent "
        f"from {day(started)} to {day(later - dt.timedelta(days=30))} are "
        "only recoverable from an archive ZIP; run the backup daily."
    )


def test_reconcile_command(xapi, configure, backup, local_store, config_file):
    acc = xapi.account(POLICE, posts=20)
    backup(configure(acc))
    result = CliRunner().invoke(
        cli, ["--config", str(config_file()), "reconcile", "--account", POLICE]
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"@{POLICE}: no gaps"
    assert lines[1].startswith("  The archive holds (each item once, whatever its versions or")
    assert "20 posts (20 through the X API)" in lines[1]
    assert lines[2].endswith("counts 20 posts; the archive holds 20 of them still on X.")
    missing = CliRunner().invoke(
        cli, ["--config", str(config_file()), "reconcile", "--account", "Nobody"]
    )
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: no runs for account 'Nobody' in local directory ")
