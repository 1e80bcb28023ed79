"""`archiver backup`, `archiver accounts check` and `archiver reconcile`: a thin click layer
over capture, registered in archiver/cli.py (the click object is archiver.clikit.Context).
Each account gets one line; a failing account does not stop the others, and the command exits
1 when any failed."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from archiver.capture.backup import backup_configured
from archiver.capture.client import XClient
from archiver.capture.credentials import Credentials
from archiver.capture.errors import EndpointNotAllowed
from archiver.capture.reconcile import reconcile
from archiver.clikit import Context, echo_json, update_index
from archiver.config import AccountConfig, Config
from archiver.errors import ArchiverError, ConfigError

wait_option = click.option(
    "--wait",
    default=0.0,
    metavar="SECONDS",
    type=click.FloatRange(min=0),
    help="If another job holds the account's lock, wait this long for it (default: do not wait).",
)


def _accounts(config: Config, wanted: tuple[str, ...]) -> list[AccountConfig]:
    if wanted:
        return [config.account(handle) for handle in wanted]
    if not config.accounts:
        raise ConfigError(
            f"accounts: none configured in {config.source}; add an [[accounts]] table with a "
            "username and the environment variables that hold its tokens"
        )
    return list(config.accounts)


def _terminal_progress() -> Callable[[str], None] | None:
    if not sys.stderr.isatty():
        return None  # quiet in cron

    def show(message: str) -> None:
        click.echo(f"\r\033[K{message}", err=True, nl=False)

    return show


@click.command("backup")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Only this account (@handle); repeat for several. Default: every account.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Walk everything the API allows and check for deletions (default: only "
    "what is new since the last run).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@wait_option
@click.pass_obj
def backup_cmd(
    obj: Context, accounts: tuple[str, ...], full: bool, as_json: bool, wait: float
) -> None:
    """Capture the configured accounts through the X API (resumes an interrupted run).
    SIGTERM stops it after the current page, checkpointed, with exit 0."""
    from archiver.stopping import install_sigterm_handler

    install_sigterm_handler()
    progress = None if as_json else _terminal_progress()
    results = backup_configured(
        obj.config, obj.archive.store, accounts, full=full, progress=progress, wait=wait
    )
    if progress:
        click.echo("\r\033[K", err=True, nl=False)
    if any(r.ok for r in results):
        update_index(obj)
    if as_json:
        echo_json([r.summary() for r in results])
    for result in results:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        if result.ok and not as_json:
            click.echo(result.describe())
        elif not result.ok:
            click.echo(f"error: {result.error}", err=True)
    if not all(r.ok for r in results):
        sys.exit(1)


@click.group("accounts")
def accounts_group() -> None:
    """The X accounts in the config and their credentials."""


@accounts_group.command("check")
@click.option("--account", "accounts", multiple=True, help="Only this account (@handle).")
@click.pass_obj
def accounts_check(obj: Context, accounts: tuple[str, ...]) -> None:
    """Verify each account's credentials against the X API (/2/users/me)."""
    failed = 0
    for acc in _accounts(obj.config, accounts):
        try:
            click.echo(check_account(acc, obj.config))
        except ArchiverError as exc:
            failed += 1
            click.echo(f"error: {exc}", err=True)
    if failed:
        sys.exit(1)


def check_account(acc: AccountConfig, config: Config) -> str:
    """One line saying whose token this is and what it allows; raises what is wrong."""
    if acc.platform != "x":
        from archiver import platforms

        return platforms.check_account(config, acc)
    creds = Credentials.from_config(acc)
    client = XClient.for_account(acc, config.x_api)
    page = client.me() if creds.user_context else client.user_by_username(acc.username)
    if not page.items:
        raise EndpointNotAllowed(f"account @{acc.username}: the API returned no user")
    user = page.items[0]
    if str(user.get("username", "")).lower() != acc.username.lower():
        raise ArchiverError(
            f"account @{acc.username}: the token belongs to @{user.get('username')} "
            f"(id {user.get('id')}); put @{acc.username}'s tokens in "
            f"{', '.join(creds.env_names)}"
        )
    notes = []
    if not creds.user_context:
        notes.append("DMs and likes need a user token")
    if not creds.oauth2_user_token:
        notes.append("bookmarks need an OAuth 2.0 user token")
    line = f"ok: @{user['username']} (id {user['id']}), {creds.kind}"
    return line + (f"; {'; '.join(notes)}" if notes else "")


@click.command("reconcile")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Only this account (@handle or id); default: every account in the archive.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def reconcile_cmd(obj: Context, accounts: tuple[str, ...], as_json: bool) -> None:
    """Compare what the archive holds with what the sources say exists; name the gaps."""
    archive = obj.archive
    refs = [archive.resolve_account(a) for a in accounts] if accounts else archive.accounts()
    if not refs:
        raise ArchiverError(
            f"no runs in {archive.store.description}; run `archiver backup` "
            "or `archiver import` first"
        )
    reports = [reconcile(archive.store, ref.account_id) for ref in refs]
    if as_json:
        echo_json([r.summary() for r in reports])
        return
    for report in reports:
        for line in report.lines():
            click.echo(line)
