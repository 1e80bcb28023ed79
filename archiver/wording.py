"""How counts read in anything a person reads: one owner, so no "1 items" slips through."""

from __future__ import annotations

_IRREGULAR = {"reply": "replies", "entry": "entries", "person": "people", "this": "these"}


def plural(n: int, noun: str, many: str | None = None) -> str:
    """'1 item', '2 items', '1,234 replies': the count with its noun agreeing."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {many or _IRREGULAR.get(noun) or noun + 's'}"
