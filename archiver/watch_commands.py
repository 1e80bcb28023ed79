"""`archiver heads` and `archiver jobs`: what proves the archive and what watched it.
Thin click commands over archiver.heads and archiver.jobs; registered in archiver/cli.py."""

from __future__ import annotations

import sys

import click

from archiver.clikit import Context, echo_json, pass_ctx
from archiver.platforms.names import account_label


@click.command("heads")
@click.option("--json", "as_json", is_flag=True, help="Print the heads record (keep this file).")
@pass_ctx
def heads_cmd(obj: Context, as_json: bool) -> None:
    """The head of every account's manifest chain and of the audit log, signed with the
    archive's key when one is configured. Keep the --json output somewhere else, then
    `archiver verify --against FILE` and `archiver audit verify --against FILE`."""
    from archiver.heads import heads_bytes, take_heads

    doc = take_heads(obj.archive)
    if as_json:
        sys.stdout.buffer.write(heads_bytes(doc))
        return
    click.echo(f"heads of store {doc['store_id']} at {doc['taken_at']}")
    for acc in doc["accounts"]:
        note = "" if acc["chained"] else " (unchained: runs from before chaining)"
        click.echo(
            f"  {account_label(acc['account'], acc['account_id']):<21} {acc['runs']:>5} runs  "
            f"head {acc['run_id']}"
            f"  sha256 {acc['sha256']}{note}"
        )
    audit = doc["audit"]
    click.echo(f"  audit log            {audit['events']:>5} events  sha256 {audit['sha256']}")
    sig = doc.get("signature")
    click.echo(f"signed by {sig['key_fingerprint']}" if sig else "not signed (no signing key)")


@click.command("jobs")
@click.option("--limit", default=30, show_default=True, help="How many recent jobs.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
def jobs_cmd(obj: Context, limit: int, as_json: bool) -> None:
    """Recent jobs (scheduled or manual: backups per account, imports, index, exports,
    verify), newest first, with the scheduled jobs' next run times."""
    from archiver.jobs import JobHistory
    from archiver.schedule import next_runs

    records = JobHistory(obj.archive.store).recent(limit)
    upcoming = next_runs(obj.archive)
    if as_json:
        echo_json(
            {
                "jobs": [r.to_dict() for r in records],
                "next": {job: when.isoformat() for job, when in upcoming.items()},
            }
        )
        return
    if not records:
        click.echo(f"no jobs recorded in {obj.archive.store.description}")
    for record in records:
        click.echo(record.describe())
    for job, when in upcoming.items():
        click.echo(f"next {job:<15} {when:%Y-%m-%d %H:%M %Z}")
