"""`archiver reconcile`: what the archive holds against what the sources say should exist."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from xapi_dataset import POLICE

from archiver.capture.reconcile import reconcile
from archiver.cli import cli
from storage.records import new_record
from storage.runs import RunWriter, list_runs


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
    day = runs[0].started_at[:10]
    oldest_mention = xapi.world.tweets[acc.mentions[799]]["created_at"][:10]

    report = reconcile(local_store, acc.id)

    assert report.lines() == [
        f"@{POLICE}: 2 gaps",
        "  The profile counts 499 posts; the archive holds 380 (320 captured through the X "
        "API, 60 only from archive ZIPs).",
        "  GAP 119 posts are not in the archive: the X API serves only the newest 3,200; "
        "import the account's official archive ZIP (Settings > Your account > Download an "
        "archive of your data) to fill the gap.",
        "  The archive ZIP of 2023-08-20 lists 60 posts; 60 posts from before 2019 are only "
        "in this 2023 archive ZIP.",
        "  The archive holds 800 mentions (replies and posts from the public naming the "
        f"account), the oldest from {oldest_mention}.",
        f"  GAP Mentions from before {oldest_mention} are not in the archive: the X API serves "
        "only the newest 800 and archive ZIPs do not include them.",
        f"  The X API serves DMs for 30 days only: 6 DMs were captured through it since {day}; "
        "DMs older than 30 days are only in ZIP imports (0 DMs from archive ZIPs).",
        f"  The profile counts 30 followers; the capture of {runs[-1].started_at[:10]} listed 30.",
        "  1 post was deleted on X after capture; the archive keeps it, marked deleted.",
    ]
    assert [f.topic for f in report.gaps] == ["posts", "mentions"]


def test_dms_missed_between_captures_more_than_30_days_apart(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=20)
    backup(configure(acc))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=45)

    report = reconcile(local_store, acc.id, now=later)

    today = dt.date.today()
    (gap,) = [f for f in report.gaps if f.topic == "dms"]
    assert gap.text == (
        f"No DM capture between {today.isoformat()} and {later.date().isoformat()}: DMs sent "
        f"from {today.isoformat()} to {(later - dt.timedelta(days=30)).date().isoformat()} are "
        "only recoverable from an archive ZIP; run the backup daily."
    )


def test_reconcile_command(xapi, configure, backup, local_store, config_file):
    acc = xapi.account(POLICE, posts=20)
    backup(configure(acc))
    result = CliRunner().invoke(
        cli, ["--config", str(config_file()), "reconcile", "--account", POLICE]
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        f"@{POLICE}: no gaps",
        "  The profile counts 20 posts; the archive holds 20 (20 captured through the X API, "
        "0 only from archive ZIPs).",
    ]
    missing = CliRunner().invoke(
        cli, ["--config", str(config_file()), "reconcile", "--account", "Nobody"]
    )
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: no runs for account 'Nobody' in local directory ")
