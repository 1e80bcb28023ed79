"""How platforms and accounts are named in anything a person reads (CLI lines, the UI,
exports): one owner, so an X account reads exactly as before and any other names its
platform."""

from __future__ import annotations

from storage.accountids import account_platform

PLATFORM_NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def account_label(handle: str, account_id: str) -> str:
    """'@ExampleshirePolice' (X, as ever); '@examplepolice.bsky.social (Bluesky)',
    '@examplepolice@police.social (Mastodon)'."""
    return handle_label(handle, account_platform(account_id))


def handle_label(handle: str, platform: str) -> str:
    """A handle on a platform, as account_label says it."""
    name = f"@{str(handle).lstrip('@')}"
    return name if platform == "x" else f"{name} ({platform_name(platform)})"


def handle_platform(value: str) -> str:
    """The platform a handle or user id someone typed belongs to, by its syntax alone: a DID
    or a domain-name handle is Bluesky's, user@host is Mastodon's, anything else X's (X's
    handles are letters, digits and `_`; its ids digits)."""
    text = str(value).strip().lstrip("@")
    if text.startswith("did:") or ("." in text and "@" not in text):
        return "bluesky"
    return "mastodon" if "@" in text else "x"
