"""Mastodon accounts by their acct (`user@domain`, lower case): the one place that builds it.

The API names a local account by its bare username (`acct: "alice"`) and a remote one as
`alice@other.example`; ActivityPub names actors by URI and mentions as `@alice` or
`@alice@other.example`. Records always carry the full, lower-case acct (PLATFORMS.md).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from archiver.config import AccountConfig
from archiver.errors import ConfigError


def full_acct(acct: str, local_host: str) -> str:
    """`alice` on `police.social` -> `alice@police.social`; a full acct stays as it is."""
    name = acct.strip().lstrip("@").lower()
    return name if "@" in name else f"{name}@{local_host.lower()}"


def mention_acct(name: str | None, href: str | None) -> str | None:
    """A Mention tag's acct: its name (`@alice@host`, or `@alice` on the href's server)."""
    host = (urlsplit(href or "").hostname or "").lower()
    bare = (name or "").strip().lstrip("@")
    if not bare:
        return None
    if "@" in bare:
        return bare.lower()
    return f"{bare.lower()}@{host}" if host else None


def instance_of(account: AccountConfig) -> str:
    """The account's server as configured: `instance`, else the part after `@` in username."""
    if account.instance:
        return account.instance.strip()
    _, _, host = account.username.lstrip("@").partition("@")
    if not host:
        raise ConfigError(
            f"account {account.username}: a Mastodon account needs its server "
            '(username = "user@instance" or instance = "host")'
        )
    return host


def base_url(instance: str) -> str:
    """`police.social` -> `https://police.social`; a full URL (tests, a port) is kept."""
    text = instance.strip().rstrip("/")
    if text.startswith(("http://", "https://")):
        return text
    return f"https://{text}"


def host_of(url: str) -> str:
    """The host (with a port, if any) a URL names, lower case."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def user_of(account: AccountConfig) -> str:
    """The configured username without its @instance."""
    return account.username.lstrip("@").partition("@")[0].lower()
