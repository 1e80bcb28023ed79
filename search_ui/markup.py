"""The only HTML the UI trusts from outside its templates, and how it checks it.

Tweet text is hostile. Templates autoescape everything; the one exception is the index's
highlight string, which is passed through only when it is exactly the index's output:
escaped text (no raw `<`, `>` or quotes) with nothing but `<b class="match">` and `</b>`.
Anything else is shown as escaped plain text.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

_MATCH_TAGS = re.compile(r'<b class="match">|</b>')
_UNESCAPED = re.compile(r"[<>\"']|&(?!(?:amp|lt|gt|quot|#x27|#39);)")
_WORDS = re.compile(r"\s+|[^\s]+")


# shown as markers: the invisible format characters (Unicode category Cf: bidi embeddings,
# overrides and isolates, LRM/RLM/ALM, zero-width spaces and joiners, the BOM, tags...) and
# the blank letters and fillers that are not Cf
_BLANKS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0")
_JOINED = ("So", "Sk", "Mn")  # a joiner between emoji is how emoji sequences are written


def _is_invisible(char: str) -> bool:
    return char in _BLANKS or unicodedata.category(char) == "Cf"


def visible_controls(text: object) -> Markup:
    """`text` escaped, with each bidi control or zero-width character replaced by a visible
    marker (`[U+202E]`, its name on hover), so what a reviewer reads is what is stored. The
    stored text is not changed; a joiner inside an emoji sequence is left alone."""
    value = "" if text is None else str(text)
    if not any(_is_invisible(c) for c in value):
        return escape(value)
    out: list[str] = []
    for i, char in enumerate(value):
        if not _is_invisible(char) or _in_emoji(value, i):
            out.append(str(escape(char)))
            continue
        code = f"U+{ord(char):04X}"
        name = unicodedata.name(char, "format character")
        out.append(f'<span class="invisible-char" title="{escape(name)}">[{code}]</span>')
    return Markup("".join(out))  # noqa: S704 - built from escaped text and our own tags


def _in_emoji(text: str, i: int) -> bool:
    if text[i] != "\u200d" or i == 0 or i + 1 >= len(text):
        return False
    return unicodedata.category(text[i - 1]) in _JOINED and unicodedata.category(text[i + 1]) in (
        "So",
        "Sk",
    )


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
