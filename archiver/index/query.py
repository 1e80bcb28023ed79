"""The query language people type, turned into Whoosh queries over the schema's fields.

    words "a phrase" polic*      every word must match (stemmed: "arrest" finds "arrested")
    a OR b, NOT a, -a, ( )       OR binds tighter than the implicit AND, as on X
    from:user to:user @user #tag account:handle kind:reply lang:en url:example.org
    platform:x|bluesky|mastodon  id:<id> (X's number, an AT URI, a status URI)
    since:2024-01-01 until:2024-02-01 (until is exclusive) has:media is:deleted is:edited

A query that cannot be read is never an error: it is searched as plain words and the
notice says why. See ops/docs/search.md for the full reference.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh.matching import ListMatcher

from archiver.index import schema as f
from archiver.timestamps import DISPLAY_TIMEZONE, day_start
from storage.records import KINDS, PLATFORMS

KIND_ALIASES = {
    "tweet": "post",
    "tweets": "post",
    "posts": "post",
    "replies": "reply",
    "retweet": "repost",
    "retweets": "repost",
    "reposts": "repost",
    "quotes": "quote",
    "mentions": "mention",
    "likes": "like",
    "bookmarks": "bookmark",
    "dms": "dm",
    "message": "dm",
    "messages": "dm",
    "followers": "follower",
    "lists": "list",
    "blocks": "block",
    "boost": "repost",
    "boosts": "repost",
    "favourite": "like",
    "favourites": "like",
    "favorite": "like",
}
HAS_VALUES = {
    "media": "media",
    "image": "images",
    "images": "images",
    "photo": "images",
    "photos": "images",
    "video": "videos",
    "videos": "videos",
    "link": "links",
    "links": "links",
    "url": "links",
    "urls": "links",
    "hashtag": "hashtags",
    "hashtags": "hashtags",
    "mention": "mentions",
    "mentions": "mentions",
}
IS_VALUES = {
    "deleted": "deleted",
    "ended": "ended",  # a follower lost, an account no longer followed
    "edited": "edited",
    "reply": "reply",
    "quote": "quote",
    "repost": "repost",
    "retweet": "repost",
}
PLATFORM_VALUES = {
    **{p: p for p in PLATFORMS},
    "twitter": "x",
    "bsky": "bluesky",
    "fediverse": "mastodon",
}
# operator -> field for the operators whose value is a term as typed (lowercased)
TERM_OPERATORS = {
    "from": f.AUTHOR,
    "to": f.TO,
    "account": f.ACCOUNT,
    "hashtag": f.HASHTAGS,
    "mention": f.MENTIONS,
    "lang": f.LANG,
    "url": f.URLS,
    "run": f.RUN,
}
# an id is the start of an item's key, or another id of its edit chain; a thread is its
# first post (found by id) and the posts that name it as their conversation
ID_OPERATORS = {"id": f.IDS, "conversation": f.CONVERSATION, "conversation_id": f.CONVERSATION}
OPERATORS = (
    set(TERM_OPERATORS)
    | set(ID_OPERATORS)
    | {
        "kind",
        "has",
        "is",
        "since",
        "until",
        "platform",
    }
)

_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])|(?P<neg>-)?"(?P<phrase>[^"]*)(?P<close>"?)|(?P<chunk>[^\s()"]+))'
)
_OPERATOR = re.compile(r"^(?P<name>[A-Za-z_]+):(?P<value>.*)$")
# brackets and NOTs nest at most this deep; deeper input is searched as words (a notice
# says so) instead of recursing until Python gives up
MAX_DEPTH = 32
# the days a filter or since:/until: may name: a day after LAST_DAY is still a date
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


class QuerySyntaxError(ValueError):
    """Why a typed query could not be read; the reason is shown to the user."""


@dataclass(frozen=True)
class ParsedQuery:
    query: wq.Query | None  # None: every item (only filters apply)
    words: frozenset[str] = frozenset()  # analysed words to highlight
    scored: bool = False  # has words, so relevance order means something
    notice: str | None = None
    empty: bool = False  # nothing searchable was typed: no results
    ended: bool = False  # the query names is:ended (else ended memberships are left out)


@dataclass
class _State:
    words: set[str] = field(default_factory=set)
    negated: int = 0
    ended: bool = False


def parse_date(value: str | dt.date, what: str) -> dt.date:
    """A day as YYYY-MM-DD (or a date); the message names the operator or filter."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        day = dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise QuerySyntaxError(f"{what} needs a date as YYYY-MM-DD, got {value!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise QuerySyntaxError(f"{what} needs a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def day_number(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def day_seconds(day: dt.date, zone: str = DISPLAY_TIMEZONE) -> int:
    """Epoch seconds at which a day begins in `zone`: filters read days as people do."""
    return int(day_start(day, zone).timestamp())


class CreatedRange(wq.Query):
    """since:/until: days, read from the date-order column (schema.CREATED), not postings.
    docsets evaluates it on the cached column; Whoosh, given it, reads the column too."""

    def __init__(self, start: int | None, end: int | None) -> None:
        # epoch seconds of the days' local midnights: start inclusive, end exclusive
        self.start, self.end = start, end
        self.boost = 1.0

    def bounds(self) -> tuple[int, int]:
        """Lowest and past-the-highest date-order values in the range (undated excluded)."""
        low = 1 if self.start is None else max(1, self.start << f.TIE_BITS)
        high = 1 << 62 if self.end is None else self.end << f.TIE_BITS
        return low, high

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CreatedRange) and (other.start, other.end) == (
            self.start,
            self.end,
        )

    def __hash__(self) -> int:
        return hash(("created", self.start, self.end))

    def __repr__(self) -> str:
        return f"CreatedRange({self.start!r}, {self.end!r})"

    def estimate_size(self, ixreader: Any) -> int:
        return int(ixreader.doc_count_all())

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        low, high = self.bounds()
        reader = searcher.reader()
        column = reader.column_reader(f.CREATED, translate=False)
        ids = [d for d in range(reader.doc_count_all()) if low <= column[d] < high]
        return ListMatcher(ids, all_weights=0.0)


def date_range(
    since: dt.date | None, until: dt.date | None, zone: str = DISPLAY_TIMEZONE
) -> CreatedRange:
    """since inclusive, until exclusive; days in `zone`."""
    return CreatedRange(
        day_seconds(since, zone) if since else None, day_seconds(until, zone) if until else None
    )


def normalise_kind(value: str) -> str:
    kind = value.lower()
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise QuerySyntaxError(f"unknown kind {value!r} (kinds: {', '.join(KINDS)})")
    return kind


def normalise_platform(value: str) -> str:
    return _choice("platform", value, PLATFORM_VALUES)


def id_query(value: str, field: str = f.IDS) -> wq.Query:
    """An item by id: X's numbers start the key ("<id>/..."); any other id (it may hold
    slashes, so a key prefix could name other items) is a term of the IDS field. `field`
    also matches (conversation: names the thread's first post or its replies)."""
    if value.isascii() and value.isdigit():
        return wq.Or([wq.Prefix(f.KEY, f"{value}/"), wq.Term(field, value)])
    own = wq.Term(f.IDS, value.lower())
    return own if field == f.IDS else wq.Or([own, wq.Term(field, value)])


def _choice(name: str, value: str, values: dict[str, str]) -> str:
    if value.lower() not in values:
        known = ", ".join(sorted(set(values.values())))
        raise QuerySyntaxError(f"unknown {name}:{value} ({name}: {known})")
    return values[value.lower()]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m.group("paren"):
            out.append(("paren", m.group("paren")))
        elif m.group("phrase") is not None:
            if not m.group("close"):
                raise QuerySyntaxError("a quote is not closed")
            out.append(("-phrase" if m.group("neg") else "phrase", m.group("phrase")))
        elif m.group("chunk"):
            out.append(("chunk", m.group("chunk")))
    return out


class _Parser:
    def __init__(self, text: str, zone: str = DISPLAY_TIMEZONE) -> None:
        self.zone = zone
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.state = _State()

    @contextlib.contextmanager
    def deeper(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(f"brackets or NOTs are nested deeper than {MAX_DEPTH}")
        try:
            yield
        finally:
            self.depth -= 1

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> list[wq.Query]:
        clauses = self.clauses()
        if self.peek() is not None:
            raise QuerySyntaxError("a closing bracket has no opening one")
        return clauses

    def clauses(self) -> list[wq.Query]:
        out = []
        while (tok := self.peek()) is not None and tok != ("paren", ")"):
            if tok == ("chunk", "AND"):
                self.take()
                continue
            clause = self.clause()
            if clause is not None:
                out.append(clause)
        return out

    def clause(self) -> wq.Query | None:
        parts = [self.unit()]
        while self.peek() in (("chunk", "OR"), ("chunk", "|")):
            self.take()
            if self.peek() is None or self.peek() == ("paren", ")"):
                raise QuerySyntaxError("OR needs something after it")
            parts.append(self.unit())
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    def unit(self) -> wq.Query | None:
        tok = self.peek()
        if tok in (("chunk", "OR"), ("chunk", "|")):
            raise QuerySyntaxError("OR needs something before it")
        if tok == ("chunk", "NOT"):
            self.take()
            if self.peek() is None or self.peek() == ("paren", ")"):
                raise QuerySyntaxError("NOT needs something after it")
            return self.negate(self.unit)
        kind, value = tok  # type: ignore[misc]
        if kind == "chunk" and value.startswith("-") and len(value) > 1:
            self.tokens[self.i] = ("chunk", value[1:])
            return self.negate(self.unit)
        if kind == "chunk" and value == "-" and self.peek_next() == "paren":
            self.take()
            return self.negate(self.unit)
        if kind == "-phrase":
            self.tokens[self.i] = ("phrase", value)
            return self.negate(self.unit)
        return self.atom()

    def peek_next(self) -> str | None:
        return self.tokens[self.i + 1][0] if self.i + 1 < len(self.tokens) else None

    def negate(self, parse: Callable[[], wq.Query | None]) -> wq.Query | None:
        self.state.negated += 1
        try:
            with self.deeper():
                inner = parse()
        finally:
            self.state.negated -= 1
        return wq.Not(inner) if inner is not None else None

    def atom(self) -> wq.Query | None:
        kind, value = self.take()
        if kind == "paren":
            if value == ")":
                raise QuerySyntaxError("a closing bracket has no opening one")
            with self.deeper():
                inner = self.clauses()
            if self.peek() != ("paren", ")"):
                raise QuerySyntaxError("a bracket is not closed")
            self.take()
            if not inner:
                raise QuerySyntaxError("brackets hold nothing")
            return inner[0] if len(inner) == 1 else wq.And(inner)
        if kind == "phrase":
            return self.words(value, phrase=True)
        return self.chunk(value)

    def chunk(self, value: str) -> wq.Query | None:
        if value.startswith("#") and len(value) > 1:
            return wq.Term(f.HASHTAGS, value[1:].lower())
        if value.startswith("@") and len(value) > 1:
            return wq.Term(f.MENTIONS, value[1:].lower().rstrip(":,."))
        m = _OPERATOR.match(value)
        if m and not m.group("value").startswith("//"):
            return self.operator(m.group("name").lower(), m.group("value"))
        if value.endswith("*") and len(value.rstrip("*")) >= 2 and value[:-1].isalnum():
            prefix = value.rstrip("*").lower()
            self.remember([prefix])
            return wq.Prefix(f.TEXT, prefix)
        return self.words(value, phrase=False)

    def operator(self, name: str, value: str) -> wq.Query:
        if name not in OPERATORS:
            raise QuerySyntaxError(f"unknown operator {name}:")
        if not value:
            raise QuerySyntaxError(f"{name}: needs a value")
        if name == "kind":
            return wq.Term(f.KIND, normalise_kind(value))
        if name == "has":
            return wq.Term(f.HAS, _choice("has", value, HAS_VALUES))
        if name == "is":
            flag = _choice("is", value, IS_VALUES)
            self.state.ended |= flag == "ended"
            return wq.Term(f.IS, flag)
        if name == "since":
            return date_range(parse_date(value, "since:"), None, self.zone)
        if name == "until":
            return date_range(None, parse_date(value, "until:"), self.zone)
        if name == "platform":
            return wq.Term(f.PLATFORM, normalise_platform(value))
        if name in ID_OPERATORS:
            return id_query(value, ID_OPERATORS[name])
        term = value.lower()
        if name in ("from", "to", "account", "mention"):
            term = term.lstrip("@")
        elif name == "hashtag":
            term = term.lstrip("#")
        return wq.Term(TERM_OPERATORS[name], term)

    def words(self, text: str, *, phrase: bool) -> wq.Query | None:
        terms = [t.text for t in f.ANALYZER(text)]
        if not terms:
            return None
        self.remember(terms)
        if len(terms) == 1:
            return wq.Term(f.TEXT, terms[0])
        return wq.Phrase(f.TEXT, terms)

    def remember(self, terms: list[str]) -> None:
        if not self.state.negated:
            self.state.words.update(terms)


def parse_query(text: str, zone: str = DISPLAY_TIMEZONE) -> ParsedQuery:
    """Read a typed query; never raises (a malformed query is searched as words).
    since:/until: days are read in `zone` (ui.timezone)."""
    text = (text or "").strip()
    if not text:
        return ParsedQuery(None)
    try:
        parser = _Parser(text, zone)
        clauses = parser.parse()
    except QuerySyntaxError as exc:
        return _as_words(text, f"query could not be parsed ({exc}); searched as words")
    if not clauses:
        return ParsedQuery(None, notice="nothing in the query can be searched", empty=True)
    words = frozenset(parser.state.words)
    query = clauses[0] if len(clauses) == 1 else wq.And(clauses)
    return ParsedQuery(query, words, scored=bool(words), ended=parser.state.ended)


def _as_words(text: str, notice: str) -> ParsedQuery:
    # OR, AND and NOT were meant as operators, not as words to find
    words = " ".join(w for w in text.split() if w not in ("OR", "AND", "NOT", "|"))
    terms = list(dict.fromkeys(t.text for t in f.ANALYZER(words)))
    if not terms:
        return ParsedQuery(None, notice=notice, empty=True)
    clauses = [wq.Term(f.TEXT, t) for t in terms]
    query = clauses[0] if len(clauses) == 1 else wq.And(clauses)
    return ParsedQuery(query, frozenset(terms), scored=True, notice=notice)
