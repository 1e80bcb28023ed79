"""Post text with its entities: hashtags, mentions and links, each with the code-point span
X reports (X counts code points, not UTF-16 units or bytes).

One `Text` feeds every rendering: the archive's v1.1 `entities` (indices), the API v2 `entities`
(start/end) and note-tweet.js (fromIndex/toIndex).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Protocol

_TCO_ALPHABET = string.ascii_letters + string.digits


class Named(Protocol):
    """Anything with an X identity: the force, a partner body, a member of the public."""

    @property
    def id(self) -> str: ...

    @property
    def username(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Link:
    """A t.co link as X shortens it: what is shown, where it goes."""

    url: str
    expanded: str
    display: str


def tco(rng: random.Random) -> str:
    return "https://t.co/" + "".join(rng.choices(_TCO_ALPHABET, k=10))


def link_to(rng: random.Random, expanded: str) -> Link:
    """A shortened link to `expanded`, displayed the way X abbreviates it."""
    shown = expanded.split("://", 1)[-1].removeprefix("www.")
    shown = shown if len(shown) <= 26 else shown[:25] + "…"
    return Link(tco(rng), expanded, shown)


@dataclass
class Span:
    start: int
    end: int


@dataclass
class Text:
    """Text built piece by piece; entities remember where they landed."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    hashtags: list[tuple[str, Span]] = field(default_factory=list)
    mentions: list[tuple[Named, Span]] = field(default_factory=list)
    links: list[tuple[Link, Span]] = field(default_factory=list)

    def add(self, piece: str) -> Text:
        self.parts.append(piece)
        self.length += len(piece)
        return self

    def _entity(self, shown: str) -> Span:
        span = Span(self.length, self.length + len(shown))
        self.add(shown)
        return span

    def hashtag(self, tag: str) -> Text:
        self.hashtags.append((tag, self._entity("#" + tag)))
        return self

    def mention(self, who: Named) -> Text:
        self.mentions.append((who, self._entity("@" + who.username)))
        return self

    def link(self, link: Link) -> Text:
        self.links.append((link, self._entity(link.url)))
        return self

    @property
    def value(self) -> str:
        if len(self.parts) > 1:
            self.parts = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def copy(self) -> Text:
        return Text(
            [self.value], self.length, list(self.hashtags), list(self.mentions), list(self.links)
        )

    def cut(self, limit: int, *, at_word: bool = False, tail: str = "…") -> Text:
        """At most `limit` code points ending in `tail`, keeping the entities that fit whole.
        X cuts retweets mid-word at 140 and long posts after the last whole word."""
        if self.length <= limit:
            return self.copy()
        keep = limit - len(tail)
        if at_word and " " in self.value[:keep]:
            keep = self.value.rindex(" ", 0, keep + 1)
        head = self.value[:keep]
        out = Text([head + tail], len(head) + len(tail))
        out.hashtags = [(t, s) for t, s in self.hashtags if s.end <= keep]
        out.mentions = [(m, s) for m, s in self.mentions if s.end <= keep]
        out.links = [(u, s) for u, s in self.links if s.end <= keep]
        return out

    def shifted(self, prefix: Text) -> Text:
        """`prefix` followed by this text, entities of both in place."""
        out = prefix.copy()
        offset = out.length
        out.add(self.value)
        out.hashtags += [(t, Span(s.start + offset, s.end + offset)) for t, s in self.hashtags]
        out.mentions += [(m, Span(s.start + offset, s.end + offset)) for m, s in self.mentions]
        out.links += [(u, Span(s.start + offset, s.end + offset)) for u, s in self.links]
        return out

    def entity_spans(self) -> list[Span]:
        return (
            [s for _, s in self.hashtags]
            + [s for _, s in self.mentions]
            + [s for _, s in self.links]
        )


def x_escape(text: str) -> str:
    """X serves post text with &, < and > as HTML entities (entity indices stay on the
    unescaped text); DM text is served as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
