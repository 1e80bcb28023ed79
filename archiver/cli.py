"""The `archiver` command: a thin click layer over Archive and the engine modules.

Exit 0 on success, 1 on a failure the operator must act on (one line on stderr, traceback
only with --debug), 2 on bad usage.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from archiver import __version__
from archiver.capture.commands import accounts_group, backup_cmd, reconcile_cmd, wait_option
from archiver.clikit import Context, echo_json, pass_ctx, show_count, update_index
from archiver.demo.command import demo_data_cmd
from archiver.errors import USER_ERRORS
from archiver.exports.commands import export, verify_bundle_cmd
from archiver.index.commands import index_cmd, search_cmd
from archiver.jobs import note_job, track_command
from archiver.platforms.names import account_label
from archiver.review_commands import followers_group
from archiver.timestamps import local_time
from archiver.watch_commands import heads_cmd, jobs_cmd
from archiver.wording import plural
from search_ui.cli import audit_group, serve_cmd, users_group
from storage.accountids import account_platform

log = logging.getLogger("archiver")


class ArchiverGroup(click.Group):
    """Turns the archiver's own errors into one line and exit 1; anything else (a bug) into
    one line naming the command, exit 1. Only --debug shows a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        command = self.command_words(ctx)
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if ctx.params.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # usage errors (exit 2), --help, Ctrl-C at a prompt: click's own
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            log.debug("unexpected error in %s", command, exc_info=True)
            click.echo(
                f"error: archiver {command} failed unexpectedly ({type(exc).__name__}); "
                "run with --debug for details",
                err=True,
            )
            sys.exit(1)

    def command_words(self, ctx: click.Context) -> str:
        """The (sub)command being run, e.g. `users add`, from the arguments left to parse."""
        args = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        words: list[str] = []
        group: click.Command = self
        for arg in args:
            if not isinstance(group, click.Group) or arg not in group.commands:
                break
            words.append(arg)
            group = group.commands[arg]
        return " ".join(words) or "(no command)"


def _setup_logging(debug: bool, verbose: bool) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # tweepy logs request headers (bearer tokens) at DEBUG: never let it
    logging.getLogger("tweepy").setLevel(max(level, logging.INFO))
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


@click.group(cls=ArchiverGroup)
@click.option(
    "--config",
    "config_path",
    envvar="ARCHIVER_CONFIG",
    type=click.Path(dir_okay=False),
    help="TOML config file (default: $ARCHIVER_CONFIG, else built-in defaults).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress at INFO level.")
@click.version_option(__version__, prog_name="archiver")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, debug: bool, verbose: bool) -> None:
    """social-archive: back up, search and export a public body's X accounts."""
    _setup_logging(debug, verbose)
    ctx.obj = Context(config_path, debug)


@cli.command()
@click.option("--posts", default=3000, show_default=True, help="Posts in the demo archive.")
@click.option("--seed", default=7, show_default=True, help="Same seed, same demo data.")
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="Serve the search UI on localhost afterwards.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@pass_ctx
def demo(obj: Context, posts: int, seed: int, serve: bool, host: str, port: int) -> None:
    """Main job on the embedded default: build the demo account's archive, import it,
    index it, search it, then serve the UI on localhost."""
    import secrets

    from archiver.quickstart import demo_login, run_demo

    run_demo(obj.archive, posts=posts, seed=seed, say=click.echo)
    if not serve:
        return
    from search_ui import create_app
    from search_ui import serve as serve_app
    from search_ui.backend import EXTENSION

    app = create_app({"SECRET_KEY": secrets.token_hex(32)}, archive=obj.archive)
    password = demo_login(app.extensions[EXTENSION].users)
    click.echo(f"search UI: http://{host}:{port}/  (log in as demo / {password}; Ctrl-C stops)")
    serve_app(app, host, port)


@cli.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.option("--account", help="Account the data belongs to (default: read from the archive).")
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Import what is there when files listed in the archive's manifest are missing.",
)
@click.option(
    "--no-index",
    "no_index",
    is_flag=True,
    help="Do not update the search index afterwards (bulk loads: run `archiver index` once).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@wait_option
@pass_ctx
def import_cmd(
    obj: Context,
    path: str,
    account: str | None,
    allow_partial: bool,
    no_index: bool,
    as_json: bool,
    wait: float,
) -> None:
    """Import an X archive ZIP (any era, or its unpacked folder) or twarc2 JSONL."""
    from archiver.imports import import_path

    result = import_path(
        obj.archive,
        path,
        account=account,
        allow_partial=allow_partial,
        wait=wait,
        progress=show_count("records read") if sys.stderr.isatty() else None,
    )
    if sys.stderr.isatty() and result.read.total() >= 10_000:
        click.echo(err=True)  # end the progress line
    note_job(
        account=result.account,
        run_id=result.manifest.run_id if result.manifest else None,
        counts=dict(result.written),
    )
    if result.manifest is not None and not no_index:
        update_index(obj)
    elif result.manifest is not None:
        click.echo("note: the search index was not updated; run `archiver index`", err=True)
    if as_json:
        echo_json(result.summary())
        return
    click.echo(result.describe())


@cli.command()
@click.option("--account", help="Only this account (@handle or id).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_ctx
def runs(obj: Context, account: str | None, as_json: bool) -> None:
    """List committed runs with their counts."""
    manifests = obj.archive.runs(account)
    if as_json:
        echo_json(
            [
                {
                    "run_id": m.run_id,
                    "account": m.account,
                    "account_id": m.account_id,
                    "platform": account_platform(m.account_id),
                    "kind": m.kind,
                    "source": m.source,
                    "committed_at": m.committed_at,
                    "counts": m.counts,
                    "gaps": list(m.gaps),
                    "warnings": list(m.warnings),
                }
                for m in manifests
            ]
        )
        return
    if not manifests:
        click.echo(f"no runs in {obj.archive.store.description}")
        return
    for m in manifests:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(m.counts.items())) or "no records"
        flag = " (partial)" if m.gaps else ""
        when = local_time(m.committed_at, obj.config.ui.timezone)
        who = account_label(m.account, m.account_id)
        click.echo(f"{m.run_id}  {when:<21} {who:<21} {m.kind:<11} {m.source:<9} {counts}{flag}")
    garbage = obj.archive.garbage(account)
    if garbage:
        click.echo(
            f"{plural(len(garbage), 'object')} belong to uncommitted runs (not part of the archive)"
        )


@cli.command()
@click.option("--account", help="Only this account (@handle or id).")
@click.option(
    "--against",
    "against",
    type=click.Path(dir_okay=False),
    help="A heads file (`archiver heads --json`): also detect runs removed or rewritten since.",
)
@pass_ctx
def verify(obj: Context, account: str | None, against: str | None) -> None:
    """Re-hash every stored object against its run's manifest and check each account's
    manifest chain (and, with --against, that nothing was cut off or rewritten since)."""
    from archiver.heads import check_runs_against, load_heads
    from storage.runs import VerifyProblem

    heads = load_heads(obj.archive, against) if against else None
    manifests = obj.archive.runs(account)
    found = obj.archive.verify(account)
    bad_objects = sum(isinstance(p, VerifyProblem) for p in found)
    problems = [str(p) for p in found]
    if heads is not None:
        account_id = obj.archive.resolve_account(account).account_id if account else None
        problems += check_runs_against(obj.archive, heads, account_id)
    for problem in problems:
        click.echo(problem, err=True)
    by_run: dict[str, int] = {}
    for found_problem in found:
        if isinstance(found_problem, VerifyProblem):
            by_run[found_problem.run_id] = by_run.get(found_problem.run_id, 0) + 1
    for m in manifests:
        if m.run_id in by_run:
            click.echo(
                f"run {m.run_id} of {account_label(m.account, m.account_id)} is broken: "
                f"{by_run[m.run_id]} of "
                f"{len(m.objects)} objects missing or altered",
                err=True,
            )
    objects = sum(len(m.objects) for m in manifests)
    note_job(counts={"runs": len(manifests), "objects": objects, "problems": len(problems)})
    if problems:
        parts = [f"{bad_objects} of {objects} objects failed verification"] if bad_objects else []
        if len(problems) > bad_objects:
            n = len(problems) - bad_objects
            parts.append(
                f"{n} chain {'problem' if n == 1 else 'problems'} in {len(manifests)} runs"
            )
        click.echo("error: " + "; ".join(parts), err=True)
        note_job(error=f"{'; '.join(parts)} (first: {problems[0]})")
        sys.exit(1)
    since = f"; nothing removed or rewritten since {heads['taken_at']}" if heads else ""
    click.echo(
        f"ok: {plural(objects, 'object')} in {plural(len(manifests), 'run')} match their"
        " manifests, chains intact" + since
    )


@cli.command()
@click.option(
    "--once",
    type=click.Choice(["incremental", "full", "monthly_export", "index", "fixity"]),
    help="Run this job now and exit (1 if it failed) instead of scheduling.",
)
@click.option("--list", "list_jobs", is_flag=True, help="Show the jobs and their next run times.")
@pass_ctx
def schedule(obj: Context, once: str | None, list_jobs: bool) -> None:
    """Run the scheduler: backups, index, monthly export and fixity (see [schedule]). Jobs
    missed while it was down run once at start; SIGTERM stops it after the current page."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from archiver.schedule import build_scheduler, catch_up, next_runs, run_job
    from archiver.stopping import install_sigterm_handler, request_stop, wait_for_stop

    install_sigterm_handler()
    if once:
        outcome = run_job(obj.archive, once)  # a failure is logged (and alerted) there
        if outcome.ok:
            click.echo(outcome.describe())
        sys.exit(0 if outcome.ok else 1)
    if list_jobs:
        for job, when in next_runs(obj.archive).items():
            click.echo(f"{job:<15} next {when:%Y-%m-%d %H:%M %Z}")
        return
    scheduler = build_scheduler(obj.archive, BackgroundScheduler)
    scheduler.add_job(catch_up, args=(obj.archive,), id="_catch_up", name="catch up")
    click.echo(f"scheduler running {len(scheduler.get_jobs())} jobs; Ctrl-C stops", err=True)
    scheduler.start()
    try:
        wait_for_stop()
    except KeyboardInterrupt:
        request_stop()
    click.echo("stopping: the running job stops after its current page", err=True)
    scheduler.shutdown(wait=True)


@cli.command()
@click.option(
    "--older-than",
    default=6.0,
    show_default=True,
    metavar="HOURS",
    help="Only runs that started at least this long ago (younger ones may be running).",
)
@pass_ctx
def gc(obj: Context, older_than: float) -> None:
    """Remove what killed runs left: objects of runs that never committed, checkpoints no
    backup can resume, staging folders and index rebuilds. Committed runs stay."""
    import datetime as dt

    age = dt.timedelta(hours=older_than)
    removed = obj.archive.collect_garbage(age)
    leftovers = obj.archive.collect_leftovers(age)
    for line in leftovers.lines():
        click.echo(line)
    click.echo(f"removed {plural(len(removed), 'object')} of uncommitted runs")


# Command registration: the one place commands join `archiver`. The ones above are defined
# on `cli` directly; a command that lives beside its engine (a `commands.py` importing its
# helpers from archiver.clikit, never from here) is imported at the top and listed here.
MODULE_COMMANDS: tuple[click.Command, ...] = (
    index_cmd,
    search_cmd,
    export,
    verify_bundle_cmd,
    backup_cmd,
    accounts_group,
    reconcile_cmd,
    followers_group,
    demo_data_cmd,
    serve_cmd,
    users_group,
    audit_group,
    heads_cmd,
    jobs_cmd,
)
for _command in MODULE_COMMANDS:
    cli.add_command(_command)

# every job leaves a record in the store's job history (archiver/jobs.py); backups record
# one per account themselves
for _command, _job in (
    (import_cmd, "import"),
    (verify, "verify"),
    (index_cmd, "index"),
    *((export.commands[name], "export") for name in ("monthly", "foi", "sar", "evidence")),
):
    track_command(_command, _job)


def main() -> None:
    cli(prog_name="archiver")
