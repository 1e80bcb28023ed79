"""`archiver serve`, `archiver users ...` and `archiver audit ...`: thin click commands over
search_ui and archiver.audit. Registered in archiver/cli.py; `obj` is archiver.clikit.Context.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from archiver.audit import ACTIONS, AuditLog, cli_actor
from archiver.clikit import echo_json
from archiver.timestamps import local_time
from archiver.wording import plural
from search_ui.users import (
    MIN_PASSWORD,
    ROLE_HELP,
    ROLES,
    UserFile,
    fold_name,
    normalise_name,
    users_path,
)


def _users(obj: Any) -> UserFile:
    return UserFile(users_path(obj.config))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(
        f"Password (at least {MIN_PASSWORD} characters)",
        hide_input=True,
        confirmation_prompt=True,
    )


_ROLE = click.Choice(ROLES)
_ROLES_TEXT = "; ".join(f"{r}: {h}" for r, h in ROLE_HELP.items())


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.pass_obj
def serve_cmd(obj: Any, host: str, port: int) -> None:
    """Serve the search UI and JSON API (secret key from the env var ui.secret_key_env names)."""
    from search_ui import create_app, make_server

    app = create_app(archive=obj.archive)
    if not _users(obj).list():
        click.echo(
            "note: no users yet; add one with `archiver users add NAME --role admin`", err=True
        )
    server = make_server(app, host, port)
    click.echo(
        f"serving the archive on http://{host}:{server.effective_port}/ (Ctrl-C to stop)",
        err=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.close()


@click.group("users")
def users_group() -> None:
    """Manage who can log in to the search UI, and their roles."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=_ROLE, default="viewer", show_default=True, help=_ROLES_TEXT)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of prompting.",
)
@click.pass_obj
def users_add(obj: Any, name: str, role: str, password_stdin: bool) -> None:
    """Add a user (the password is prompted for, never given on the command line)."""
    users = _users(obj)
    user = users.add(name, _read_password(password_stdin), role)
    AuditLog(obj.archive.store).record(cli_actor(), "user_added", name=user.name, role=role)
    click.echo(f"added {user.name} ({user.role}) to {users.path}")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def users_list(obj: Any, as_json: bool) -> None:
    """List users and their roles."""
    users = _users(obj).list()
    if as_json:
        rows = [{"name": u.name, "role": u.role, "created_at": u.created_at} for u in users]
        echo_json(rows)
        return
    if not users:
        click.echo(f"no users in {_users(obj).path}")
        return
    for u in users:
        click.echo(f"{u.name:<24} {u.role:<9} added {u.created_at}")


@users_group.command("remove")
@click.argument("name")
@click.pass_obj
def users_remove(obj: Any, name: str) -> None:
    """Remove a user; their sessions end (the last admin cannot be removed)."""
    user = _users(obj).remove(name)
    AuditLog(obj.archive.store).record(cli_actor(), "user_removed", name=user.name)
    click.echo(f"removed {user.name}")


@users_group.command("set-role")
@click.argument("name")
@click.argument("role", type=_ROLE)
@click.pass_obj
def users_set_role(obj: Any, name: str, role: str) -> None:
    """Change a user's role (viewer, exporter or admin); their sessions end."""
    user = _users(obj).set_role(name, role)
    AuditLog(obj.archive.store).record(cli_actor(), "role_changed", name=user.name, role=role)
    click.echo(f"{user.name} is now {user.role}")


@users_group.command("set-password")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of prompting.",
)
@click.pass_obj
def users_set_password(obj: Any, name: str, password_stdin: bool) -> None:
    """Set a new password for a user; their sessions end."""
    user = _users(obj).set_password(name, _read_password(password_stdin))
    AuditLog(obj.archive.store).record(cli_actor(), "password_changed", name=user.name)
    click.echo(f"password of {user.name} changed")


@users_group.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Remove the user's token instead.")
@click.pass_obj
def users_token(obj: Any, name: str, revoke: bool) -> None:
    """Issue an API token for a user (shown once; it replaces any earlier token). Tools send
    it as `Authorization: Bearer <token>` to /api/...; it has the user's role."""
    users = _users(obj)
    store = obj.archive.store
    name = normalise_name(name)
    if revoke:
        users.revoke_token(name)
        AuditLog(store).record(cli_actor(), "token_revoked", name=name)
        click.echo(f"the API token of {name} is revoked")
        return
    token = users.issue_token(name)
    AuditLog(store).record(cli_actor(), "token_issued", name=name)
    click.echo(token)


@click.group("audit")
def audit_group() -> None:
    """Read and check the audit log of who searched, viewed and exported."""


@audit_group.command("verify")
@click.option(
    "--against",
    type=click.Path(dir_okay=False),
    help="A heads file (`archiver heads --json`): also detect events cut off or rewritten since.",
)
@click.pass_obj
def audit_verify(obj: Any, against: str | None) -> None:
    """Check the audit log's hash chain: no event removed or altered."""
    from archiver.heads import check_audit_against, load_heads

    heads = load_heads(obj.archive, against) if against else None
    log = AuditLog(obj.archive.store)
    problems = log.verify()
    if heads is not None:
        problems += check_audit_against(obj.archive.store, heads)
    for problem in problems:
        click.echo(problem, err=True)
    head = log.head()
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        click.echo(
            f"error: {len(problems)} {noun} in the audit log of {head.events} events", err=True
        )
        sys.exit(1)
    since = f"; nothing removed or rewritten since {heads['taken_at']}" if heads else ""
    events = plural(head.events, "event")
    click.echo(f"ok: {events}, chain intact; newest event sha256 {head.digest}{since}")


@audit_group.command("list")
@click.option("--user", help="Only this user's events.")
@click.option("--action", type=click.Choice(ACTIONS), help="Only this action.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Newest events to show.",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON lines.")
@click.pass_obj
def audit_list(obj: Any, user: str | None, action: str | None, limit: int, as_json: bool) -> None:
    """Show the newest audit events."""
    who = fold_name(user) if user else None
    events = AuditLog(obj.archive.store).events(user=who, action=action, limit=limit)
    for e in events:
        if as_json:
            click.echo(e.to_json().decode())
            continue
        detail = " ".join(f"{k}={orjson.dumps(v).decode()}" for k, v in e.detail.items())
        when = local_time(e.at, obj.config.ui.timezone, seconds=True)
        click.echo(f"{e.seq:>6} {when} {e.user:<16} {e.action:<13} {detail}")
