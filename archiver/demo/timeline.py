"""The demo force's timeline: what it posted, when, and who replied.

The timeline is cut into slots (see `clock`); each slot is built from its own random stream,
seeded by (seed, slot), so any slot can be rebuilt alone, in any order, by any writer: the
archive writer and the mentions writer see the same world without holding it in memory.
A few slots have fixed roles so every demo has them: an edited post, a long (note) post, a
thread, and the public replies that carry personal data and hostile text.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from archiver.demo import voices
from archiver.demo.clock import Clock, snowflake
from archiver.demo.county import FORCE, PARTNERS, Account, Zipf
from archiver.demo.media import Media, new_media
from archiver.demo.people import Person, mobile, public
from archiver.demo.text import Link, Named, Span, Text, link_to, tco
from archiver.errors import ArchiverError

MIN_POSTS = 20
MAX_POSTS = 2_000_000
_CLIENTS = ("Twitter Web App", "Twitter Web App", "TweetDeck Web App", "Twitter for iPhone")
_PARTNER_PICK = Zipf(PARTNERS)


class DemoDataError(ArchiverError):
    """Demo parameters the generator cannot honour, or a path it cannot write (the message
    says which)."""


@dataclass(frozen=True)
class Note:
    """A long post's full text, kept by X in note-tweet.js under an id of its own."""

    id: int
    text: Text


@dataclass
class Tweet:
    """A post by anyone in the demo world, before it is written in any format."""

    id: int
    created: dt.datetime
    author: Named
    text: Text
    kind: str  # the force's: post | reply | repost | quote; anyone else's: mention
    reply_to: Tweet | None = None
    conversation_id: int = 0
    quoted: Tweet | None = None
    retweeted: Tweet | None = None
    media: list[Media] = field(default_factory=list)
    media_link: tuple[Link, Span] | None = None  # the one t.co all of a post's media share
    note: Note | None = None
    edit_ids: list[int] = field(default_factory=list)  # the edit chain, oldest first
    deleted_at: dt.datetime | None = None
    likes: int = 0
    reposts: int = 0
    client: str = "Twitter Web App"

    @property
    def chain(self) -> list[int]:
        return self.edit_ids or [self.id]


@dataclass
class Slot:
    index: int
    posts: list[Tweet]  # the force's tweets.js entries, oldest first (two for an edit or thread)
    public: list[Tweet]  # the public's posts mentioning the force, oldest first


def _spread(count: int, low: float, high: float) -> list[float]:
    return [low + (high - low) * (k + 0.5) / count for k in range(count)]


class DemoWorld:
    """Everything the demo force's archive and API captures hold, for one seed."""

    def __init__(self, *, posts: int, seed: int, start_year: int, years: int) -> None:
        if not MIN_POSTS <= posts <= MAX_POSTS:
            raise DemoDataError(
                f"posts must be between {MIN_POSTS} and {MAX_POSTS:,}, got {posts:,}"
            )
        if seed < 0:
            raise DemoDataError(f"seed must be 0 or more, got {seed}")
        if not 2011 <= start_year <= 2100 or not 1 <= years <= 30:
            raise DemoDataError(
                f"start year {start_year} and {years} years: need a start year from 2011 "
                "(ids are snowflakes) and 1 to 30 years"
            )
        self.posts, self.seed = posts, seed
        edits, notes, threads = 1 + posts // 5000, 1 + posts // 2000, posts // 60
        self.slots = posts - edits - threads
        self.clock = Clock(start_year, years, self.slots)
        self.generated_at = self.clock.end + dt.timedelta(days=5, hours=10, seconds=931.187)
        self.people = public(seed, max(40, posts // 8), self.clock.start)
        taken: dict[int, tuple[str, int]] = {}
        recent = [1 - (3 * k + 1) / self.slots for k in range(voices.SHOWCASE_COUNT)]
        self._place(taken, "showcase", recent)
        self._place(taken, "edit", _spread(edits, 0.78, 0.95))
        self._place(taken, "note", _spread(notes, 0.70, 0.97))
        self._place(taken, "thread", _spread(threads, 0.0, 1.0))
        self.roles = taken

    def _place(self, taken: dict[int, tuple[str, int]], role: str, where: list[float]) -> None:
        for k, fraction in enumerate(where):
            slot = min(int(fraction * self.slots), self.slots - 1)
            while slot in taken:
                slot = (slot + 1) % self.slots
            taken[slot] = (role, k)

    def rng(self, stream: int, index: int) -> random.Random:
        """The random stream of one slot (stream 0) or one other thing (likes, DMs...)."""
        return random.Random((self.seed << 40) | (stream << 32) | index)

    def person(self, rng: random.Random) -> Person:
        return self.people[rng.randrange(len(self.people))]

    # -- the timeline -----------------------------------------------------------------------
    def newest_first(self) -> Iterator[Slot]:
        for index in range(self.slots - 1, -1, -1):
            yield self.slot(index)

    def slot(self, index: int) -> Slot:
        rng = self.rng(0, index)
        role, k = self.roles.get(index, ("", 0))
        at = 0.15 + 0.35 * rng.random()
        when = self.clock.in_window(index, at)
        slot = Slot(index, [], [])
        if role == "showcase":
            post = self._original(rng, when, "appeal")
            slot.posts.append(post)
            self._replies(rng, slot, post, index, at, forced=voices.showcase(k, rng))
            return slot
        if role == "edit":
            self._edited(rng, slot, index, at)
            return slot
        if role == "note":
            slot.posts.append(self._long(rng, when))
        elif role == "thread":
            post = self._original(rng, when, voices.CATEGORIES.pick(rng))
            later = self.clock.in_window(index, at + 0.05)
            follow = Tweet(
                snowflake(rng, later),
                later,
                FORCE,
                voices.thread_follow_up(rng),
                "reply",
                reply_to=post,
                conversation_id=post.id,
                client=post.client,
            )
            slot.posts += [post, follow]
        else:
            draw = rng.random()
            if draw < 0.2:
                self._answer(rng, slot, index)
                return slot
            if draw < 0.35:
                slot.posts.append(self._repost(rng, index, at))
                return slot
            if draw < 0.43:
                slot.posts.append(self._quote(rng, index, at))
            else:
                slot.posts.append(self._original(rng, when, voices.CATEGORIES.pick(rng)))
        self._replies(rng, slot, slot.posts[0], index, at)
        return slot

    def _stamp(self, rng: random.Random, tweet: Tweet, popularity: float) -> Tweet:
        tweet.likes = int(rng.paretovariate(1.4) * popularity) - int(popularity)
        tweet.reposts = int(tweet.likes * rng.random() * 0.4)
        tweet.client = rng.choice(_CLIENTS)
        return tweet

    def _original(self, rng: random.Random, when: dt.datetime, category: str) -> Tweet:
        tid = snowflake(rng, when)
        text = voices.force_post(rng, category, when)
        tweet = Tweet(tid, when, FORCE, text, "post", conversation_id=tid)
        draw = rng.random()
        if draw < 0.22:
            kind = "video" if draw < 0.04 else "photo"
            count = 1 if kind == "video" else rng.choice((1, 1, 1, 2, 3, 4))
            tweet.media = [
                new_media(rng, kind, when - dt.timedelta(seconds=40)) for _ in range(count)
            ]
            self._attach(rng, tweet, FORCE.username, tid)
        return self._stamp(rng, tweet, 30 if category in ("appeal", "missing") else 8)

    def _attach(self, rng: random.Random, tweet: Tweet, owner: str, status: int) -> None:
        url = tco(rng)
        kind = tweet.media[0].kind
        link = Link(
            url,
            f"https://x.com/{owner}/status/{status}/{kind}/1",
            "pic.x.com/" + url.rsplit("/", 1)[-1],
        )
        tweet.text.add(" ")
        start = tweet.text.length
        tweet.text.add(url)
        tweet.media_link = (link, Span(start, tweet.text.length))

    def _long(self, rng: random.Random, when: dt.datetime) -> Tweet:
        full = voices.long_post(rng, when)
        tid = snowflake(rng, when)
        note_id = tid - rng.randrange(1 << 22, 1 << 28)  # minted a moment before the post
        shown = (
            full.cut(280, at_word=True)
            .add(" ")
            .link(
                Link(
                    tco(rng),
                    f"https://twitter.com/i/web/status/{tid}",
                    f"twitter.com/i/web/status/{str(tid)[0]}…",
                )
            )
        )
        tweet = Tweet(
            tid, when, FORCE, shown, "post", conversation_id=tid, note=Note(note_id, full)
        )
        return self._stamp(rng, tweet, 25)

    def _edited(self, rng: random.Random, slot: Slot, index: int, at: float) -> None:
        """A post and its corrected version: two entries in tweets.js, one edit chain."""
        first = self._original(rng, self.clock.in_window(index, at), "roads")
        later = self.clock.in_window(index, at + 0.04)
        fixed_text = first.text.copy()
        first.text = _with_typo(first.text)
        second = Tweet(
            snowflake(rng, later),
            later,
            FORCE,
            fixed_text,
            "post",
            media=first.media,
            media_link=first.media_link,
            likes=first.likes,
            reposts=first.reposts,
            client=first.client,
        )
        second.conversation_id = second.id
        first.likes = first.reposts = 0
        first.edit_ids = second.edit_ids = [first.id, second.id]
        slot.posts += [first, second]
        self._replies(rng, slot, second, index, at + 0.04)

    def _answer(self, rng: random.Random, slot: Slot, index: int) -> None:
        """Someone asks the force a question; the force answers; sometimes they say thanks."""
        asker = self.person(rng)
        topic, asked = voices.question(rng)
        when = self.clock.in_window(index, 0.02 + 0.1 * rng.random())
        q = Tweet(snowflake(rng, when), when, asker, asked, "mention", client=_public_client(rng))
        q.conversation_id = q.id
        when = self.clock.in_window(index, 0.3 + 0.2 * rng.random())
        a = Tweet(
            snowflake(rng, when),
            when,
            FORCE,
            voices.answer(rng, topic, asker),
            "reply",
            reply_to=q,
            conversation_id=q.id,
        )
        self._stamp(rng, a, 2)
        slot.posts.append(a)
        slot.public.append(q)
        if rng.random() < 0.4:
            when = self.clock.in_window(index, 0.6 + 0.3 * rng.random())
            slot.public.append(
                Tweet(
                    snowflake(rng, when),
                    when,
                    asker,
                    voices.thanks(rng),
                    "mention",
                    reply_to=a,
                    conversation_id=q.id,
                    client=q.client,
                )
            )

    def _partner_tweet(self, rng: random.Random, index: int, at: float) -> Tweet:
        partner: Account = _PARTNER_PICK.pick(rng)
        when = self.clock.in_window(index, at * rng.random())
        tid = snowflake(rng, when)
        return Tweet(tid, when, partner, voices.partner_post(rng), "post", conversation_id=tid)

    def _repost(self, rng: random.Random, index: int, at: float) -> Tweet:
        source = self._partner_tweet(rng, index, at)
        if rng.random() < 0.3:
            source.media = [
                new_media(rng, "photo", source.created, (str(source.id), source.author.id))
            ]
            self._attach(rng, source, source.author.username, source.id)
        prefix = Text().add("RT ").mention(source.author).add(": ")
        full = source.text.shifted(prefix)
        when = self.clock.in_window(index, at)
        tweet = Tweet(snowflake(rng, when), when, FORCE, full.cut(140), "repost", retweeted=source)
        tweet.conversation_id = tweet.id
        if source.media_link and full.length <= 140:
            link, span = source.media_link
            tweet.media = source.media
            tweet.media_link = (link, Span(span.start + prefix.length, span.end + prefix.length))
        tweet.client = rng.choice(_CLIENTS)
        return tweet

    def _quote(self, rng: random.Random, index: int, at: float) -> Tweet:
        source = self._partner_tweet(rng, index, at)
        when = self.clock.in_window(index, at)
        status = f"https://twitter.com/{source.author.username}/status/{source.id}"
        text = voices.quote_comment(rng, source.author).link(link_to(rng, status))
        tid = snowflake(rng, when)
        tweet = Tweet(tid, when, FORCE, text, "quote", quoted=source, conversation_id=tid)
        return self._stamp(rng, tweet, 5)

    def _replies(
        self,
        rng: random.Random,
        slot: Slot,
        post: Tweet,
        index: int,
        at: float,
        forced: Text | None = None,
    ) -> None:
        """The public's replies under a post, all later in the same window."""
        count = rng.choices((0, 1, 2, 3, 4, 6), (35, 30, 15, 10, 6, 4))[0]
        count = max(count, 1) if forced else count
        times = sorted(at + (0.98 - at) * rng.random() for _ in range(count))
        for n, fraction in enumerate(times):
            when = self.clock.in_window(index, fraction)
            text = forced if forced is not None and n == 0 else voices.public_reply(rng)
            slot.public.append(
                Tweet(
                    snowflake(rng, when),
                    when,
                    self.person(rng),
                    text,
                    "mention",
                    reply_to=post,
                    conversation_id=post.conversation_id,
                    client=_public_client(rng),
                )
            )

    # -- posts the force deleted -------------------------------------------------------------
    def deleted(self) -> list[Tweet]:
        """Posts the force deleted (deleted-tweets.js), newest first."""
        out = []
        count = 2 + self.posts // 500
        for k in range(count - 1, -1, -1):
            rng = self.rng(1, k)
            when = self.clock.anywhere((k + 0.5 + 0.4 * rng.random()) / count)
            tweet = self._original(rng, when, voices.CATEGORIES.pick(rng))
            if k % 2:  # an answer that repeated someone's phone number back to them
                asker = self.person(rng)
                tweet.text = (
                    Text()
                    .mention(asker)
                    .add(f" Thanks, we'll call you back on {mobile(rng)} this afternoon.")
                )
                tweet.kind, tweet.media, tweet.media_link = "reply", [], None
                asked = tweet.id - (rng.randrange(60_000, 3_600_000) << 22)  # minutes before
                tweet.reply_to = Tweet(asked, when, asker, Text(), "mention")
            elif k % 4 == 2 and not tweet.media:  # a photo that showed a number plate
                tweet.media = [new_media(rng, "photo", when - dt.timedelta(seconds=40))]
                self._attach(rng, tweet, FORCE.username, tweet.id)
            tweet.deleted_at = when + dt.timedelta(minutes=rng.randrange(2, 4000))
            out.append(tweet)
        return out


def _public_client(rng: random.Random) -> str:
    return rng.choice(("Twitter for iPhone", "Twitter for Android", "Twitter Web App"))


def _with_typo(text: Text) -> Text:
    """The first version of an edited post: two letters of a long word swapped."""
    value = text.value
    busy = text.entity_spans()
    start = 0
    for word in value.split(" "):
        end = start + len(word)
        mid = start + len(word) // 2
        if (
            len(word) >= 7
            and word.isalpha()
            and value[mid - 1] != value[mid]
            and not any(s.start < end and start < s.end for s in busy)
        ):
            value = value[: mid - 1] + value[mid] + value[mid - 1] + value[mid + 1 :]
            break
        start = end + 1
    out = text.copy()
    out.parts = [value]
    return out
