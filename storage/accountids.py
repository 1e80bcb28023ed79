"""Account ids as the store names them: one owner for what an id may look like.

An X account keeps its numeric user id, so every existing key stays as it was. Other platforms
get a platform-qualified id built from what the platform itself treats as permanent:

- Bluesky: the account's DID (`bluesky:did:plc:ewvi7nxzyoun6zhxrhs64oiz`), never the handle,
  which the owner can change;
- Mastodon: the account's `username@instance` (`mastodon:examplepolice@police.social`), which
  the server never lets change (a move makes a new account) and which both the API and the
  account archive know (the archive carries no numeric id).

Ids are used as one path segment of a store key, so they never hold `/`, `..` or whitespace.
"""

from __future__ import annotations

import re

from storage.errors import StorageError

_X = re.compile(r"[0-9]{1,20}")
# did:plc:<base32> or did:web:<host>[%3A<port>] (W3C DID syntax, restricted to a key segment)
_DID = re.compile(r"did:(plc:[a-z2-7]{24}|web:[a-z0-9.-]+(%3a[0-9]{1,5})?)")
_ACCT = re.compile(r"[a-z0-9_]{1,64}@[a-z0-9.-]{1,253}(:[0-9]{1,5})?")


def qualified_account_id(platform: str, native: str) -> str:
    """The store's id for an account: X's numeric id, else `<platform>:<permanent id>`."""
    native = str(native).strip()
    if platform == "x":
        aid = native
    elif platform == "bluesky":
        aid = f"bluesky:{native.lower() if native.startswith('did:web:') else native}"
    elif platform == "mastodon":
        aid = f"mastodon:{native.lstrip('@').lower()}"
    else:
        raise StorageError(f"unknown platform {platform!r}")
    check_account_id(aid)
    return aid


def account_platform(account_id: str) -> str:
    """The platform an account id belongs to (numeric ids are X's)."""
    head, sep, _ = str(account_id).partition(":")
    return head if sep and head in ("bluesky", "mastodon") else "x"


def native_id(account_id: str) -> str:
    """The platform's own id: the DID, the `user@instance`, or X's numeric id."""
    return str(account_id).partition(":")[2] if account_platform(account_id) != "x" else account_id


def is_account_id(account_id: object) -> bool:
    text = str(account_id or "")
    platform = account_platform(text)
    if platform == "x":
        return bool(_X.fullmatch(text))
    rest = native_id(text)
    pattern = _DID if platform == "bluesky" else _ACCT
    return bool(pattern.fullmatch(rest))


def check_account_id(account_id: object) -> str:
    if not is_account_id(account_id):
        raise StorageError(
            f"account id must be X's numeric id, bluesky:<DID> or mastodon:<user>@<instance>, "
            f"got {account_id!r}"
        )
    return str(account_id)
