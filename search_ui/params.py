"""Reading URL parameters that must be numbers or days: the one place that decides, so no
view turns `page=²` or `to=9999-12-31` into a 500.

Numbers are ASCII digits only (`str.isdigit` also accepts `²` and `٣`, which `int` then
refuses or reads as another number); days are YYYY-MM-DD between FIRST_DAY and LAST_DAY
(the index's range, `archiver.index.query`), so a day after one is always a day too. A bad
value raises `BadParam`, a 400 whose message names the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import overload

from werkzeug.exceptions import BadRequest

from archiver.index.query import FIRST_DAY, LAST_DAY

_DIGITS = re.compile(r"[0-9]{1,18}")
_ITEM_ID = re.compile(r"[0-9]{1,40}")
# ids of other platforms (issue 16's contract): an AT URI, a DID, a Mastodon status URI, an
# acct. Printable ASCII without spaces, quotes, angle brackets or backslashes, whatever the
# platform: they are looked up, never used as paths, and escaped wherever they are shown.
_OTHER_ID = re.compile(
    r"at://did:[a-z]+:[A-Za-z0-9._:%-]{1,200}/[A-Za-z0-9.-]{1,300}/[A-Za-z0-9._:~-]{1,512}"
    r"|did:[a-z]+:[A-Za-z0-9._:%-]{1,200}"
    r"|https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1500}"
    r"|[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?"
)


class BadParam(BadRequest):
    """A URL parameter that cannot be used; `description` names it and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(description=message)


def is_item_id(value: object) -> bool:
    """An item id as the archive writes them: X's 1-40 ASCII digits, or another platform's
    AT URI, DID, status URI or acct."""
    if not isinstance(value, str):
        return False
    return _ITEM_ID.fullmatch(value) is not None or _OTHER_ID.fullmatch(value) is not None


def is_numeric_id(value: str) -> bool:
    """X's ids: these keep their path (`/items/<id>`); every other id is a query parameter."""
    return _ITEM_ID.fullmatch(value) is not None


@overload
def whole_number(args: Mapping[str, str], name: str, default: int, top: int) -> int: ...
@overload
def whole_number(args: Mapping[str, str], name: str, default: None, top: int) -> int | None: ...
def whole_number(args: Mapping[str, str], name: str, default: int | None, top: int) -> int | None:
    """A whole number from 1 to `top`, or `default` when the parameter is absent or empty."""
    value = (args.get(name) or "").strip()
    if not value:
        return default
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= top:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise BadParam(f"{name}: expected a whole number from 1 to {top}, got {shown!r}")
    return int(value)


def day(args: Mapping[str, str], name: str) -> dt.date | None:
    """A day as YYYY-MM-DD within the archive's range, or None when absent or empty."""
    value = (args.get(name) or "").strip()
    if not value:
        return None
    shown = value if len(value) <= 40 else value[:40] + "..."
    try:
        if not value.isascii():
            raise ValueError(value)
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise BadParam(f"{name}: expected a date as YYYY-MM-DD, got {shown!r}") from None
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise BadParam(f"{name}: expected a day from {FIRST_DAY} to {LAST_DAY}, got {shown!r}")
    return parsed
