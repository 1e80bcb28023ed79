"""Possible squatters and spoofers: accounts whose handle or display name imitates one of the
body's own accounts (the force's social media policy asks for them to be watched).

A candidate is flagged, with every reason that applies, when against one of our accounts:
- its display name is the same as ours (case-folded);
- its handle (or display name) is confusable with ours: the Unicode confusables of UTS #39
  (the `confusables` package: 0/O, 1/l/I, rn/m, Cyrillic look-alikes...);
- its handle is ours with underscores added, or with an impersonation prefix or suffix
  ("real", "official", "uk", "hq", digits...);
- its handle is within 2 edits of ours (1 for handles shorter than 8), measured by
  `rapidfuzz`'s Levenshtein distance, ignoring case.
Our own accounts are never flagged. tests/test_spoofs.py holds the table of look-alikes that
must be found and innocent near-names that must not.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import confusables  # type: ignore[import-untyped]  # no stubs or py.typed
from rapidfuzz.distance import Levenshtein

_AFFIXES = ("official", "real", "the", "uk", "hq", "team", "news", "info", "help", "support")


@dataclass(frozen=True)
class OwnAccount:
    username: str
    name: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Spoof:
    imitates: str  # the handle of ours it imitates
    why: tuple[str, ...]


def _fold(text: str) -> str:
    return text.casefold().strip()


def _bare(handle: str) -> str:
    return _fold(handle).replace("_", "")


def _affixed(candidate: str, ours: str) -> bool:
    """ours with an impersonation word or digits before or after it (underscores ignored)."""
    cand, own = _bare(candidate), _bare(ours)
    if cand == own or own not in cand:
        return False
    before, _, after = cand.partition(own)
    rest = before + after
    return bool(rest) and (rest in _AFFIXES or rest.isdigit())


def _edits_allowed(ours: str) -> int:
    return 2 if len(ours) >= 8 else 1


@functools.lru_cache(maxsize=1 << 16)
def imitation(
    username: str | None, name: str | None, ours: OwnAccount, *, user_id: str | None = None
) -> Spoof | None:
    """Why (if at all) a user imitates one of our accounts. Kept per process: the UCS
    confusables check is the review's main cost, and the same public reappear every review."""
    own = ours.username.lstrip("@")
    handle = (username or "").lstrip("@")
    if (user_id and ours.user_id and str(user_id) == str(ours.user_id)) or (
        handle and _fold(handle) == _fold(own)
    ):
        return None  # it is ours
    why: list[str] = []
    if name and ours.name and _fold(name) == _fold(ours.name):
        why.append(f"the same display name as @{own} ({ours.name})")
    if handle:
        folded, own_folded = _fold(handle), _fold(own)
        if _bare(handle) != _bare(own) and confusables.is_confusable(_bare(handle), _bare(own)):
            why.append(f"a handle made of look-alike characters of @{own}")
        elif _bare(handle) == _bare(own):
            why.append(f"@{own} with underscores added")
        elif _affixed(handle, own):
            why.append(f"@{own} with a prefix or suffix added")
        else:
            edits = Levenshtein.distance(folded, own_folded)
            if edits <= _edits_allowed(own):
                why.append(f"a handle {edits} character{'s' if edits > 1 else ''} from @{own}")
    if name and not why:
        # a display name spelled like our handle or name with look-alike characters
        for target in filter(None, (own, ours.name)):
            if _fold(name) != _fold(target) and confusables.is_confusable(
                _fold(name), _fold(target)
            ):
                why.append(f"a display name made of look-alike characters of {target}")
                break
    return Spoof(own, tuple(why)) if why else None


def find_imitation(
    username: str | None,
    name: str | None,
    own_accounts: Iterable[OwnAccount],
    *,
    user_id: str | None = None,
) -> Spoof | None:
    """The first of our accounts a user imitates, or None; never one of ours."""
    accounts = list(own_accounts)
    handle = _fold((username or "").lstrip("@"))
    if any(handle and handle == _fold(a.username) for a in accounts) or any(
        user_id and a.user_id and str(user_id) == str(a.user_id) for a in accounts
    ):
        return None
    for ours in accounts:
        found = imitation(username, name, ours, user_id=user_id)
        if found:
            return found
    return None
