"""`archiver heads` and `archiver jobs`: what proves the archive and what watched it.
Thin click commands over archiver.heads and archiver.jobs; registered in archiver/cli.py."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson


@click.command("heads")
@click.option("--json", "as_json", is_flag=True, help="Print the heads record (keep this file).")
@click.pass_obj
def heads_cmd(obj: Any, as_json: bool) -> None:
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
            f"  @{acc['account']:<20} {acc['runs']:>5} runs  head {acc['run_id']}"
            f"  sha256 {acc['sha256']}{note}"
        )
    audit = doc["audit"]
    click.echo(f"  audit log            {audit['events']:>5} events  sha256 {audit['sha256']}")
    sig = doc.get("signature")
    click.echo(f"signed by {sig['key_fingerprint']}" if sig else "not signed (no signing key)")


def _echo_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
