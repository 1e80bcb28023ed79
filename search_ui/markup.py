"""The only HTML the UI trusts from outside its templates, and how it checks it.

Tweet text is hostile. Templates autoescape everything; the one exception is the index's
highlight string, which is passed through only when it is exactly the index's output:
escaped text (no raw `<`, `>` or quotes) with nothing but `<b class="match">` and `</b>`.
Anything else is shown as escaped plain text.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

_MATCH_TAGS = re.compile(r'<b class="match">|</b>')
_UNESCAPED = re.compile(r"[<>\"']|&(?!(?:amp|lt|gt|quot|#x27|#39);)")
_WORDS = re.compile(r"\s+|[^\s]+")


def is_index_highlight(fragment: str) -> bool:
    """True if `fragment` is escaped text with only the index's match markup in it."""
    if fragment.count('<b class="match">') != fragment.count("</b>"):
        return False
    return _UNESCAPED.search(_MATCH_TAGS.sub("", fragment)) is None


def highlight_markup(fragment: str | None, text: str) -> Markup:
    if fragment and is_index_highlight(fragment):
        return Markup(fragment)  # noqa: S704 - checked above: escaped text plus match tags
    return escape(text)


@dataclass(frozen=True)
class DiffPart:
    op: str  # "same" | "added" | "removed"
    text: str  # plain text: the template escapes it


def text_diff(old: str, new: str) -> list[DiffPart]:
    """Word-level differences from one version's text to the next."""
    a, b = _WORDS.findall(old or ""), _WORDS.findall(new or "")
    parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(DiffPart("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("removed", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("added", "".join(b[j1:j2])))
    return parts
