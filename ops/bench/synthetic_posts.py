"""A seeded generator of realistic synthetic posts, written as runs the way capture writes them.

50 police/fire accounts; 10 years of posts (40-280 characters) mixing English function words
with a Zipf-distributed vocabulary of 20,000 content words; hashtags, mentions, links, media,
replies, reposts, quotes and mentions by other people; each account has one import run and
five incremental runs, with edits (a new version in a later run) and deletion events. Every
record carries a `raw` object shaped like the X API v2 tweet it stands for, so the JSONL is
as large as the real thing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from storage.records import dumps, new_record
from storage.runs import RunWriter
from storage.store import ObjectStore
from storage.view import EVENTS

SEED = 20240101
ACCOUNTS = 50
VOCABULARY = 20_000
START = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
YEARS = 10
FUNCTION_WORDS = (
    "the",
    "to",
    "and",
    "of",
    "a",
    "in",
    "for",
    "is",
    "on",
    "at",
    "we",
    "you",
    "this",
    "with",
    "our",
    "be",
    "are",
    "please",
    "if",
    "from",
    "by",
    "as",
    "it",
    "have",
    "has",
    "will",
    "an",
    "or",
    "not",
    "your",
    "all",
    "can",
    "was",
    "been",
    "near",
    "after",
    "about",
    "any",
    "who",
    "us",
    "they",
    "their",
    "more",
    "there",
    "what",
    "when",
    "so",
    "up",
    "out",
    "one",
    "today",
    "now",
)
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
_SNOWFLAKE_EPOCH_MS = 1288834974657
KINDS = (("post", 0.55), ("reply", 0.2), ("repost", 0.1), ("quote", 0.05), ("mention", 0.1))


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 4))))


def zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return list(accumulate(1 / (rank**s) for rank in range(1, n + 1)))


@dataclass
class Corpus:
    """The vocabulary and statistics the benchmark draws its queries from."""

    seed: int
    vocabulary: list[str]
    hashtags: list[str]
    users: list[str]
    domains: list[str]
    accounts: list[tuple[str, str]]  # (numeric id, handle)
    phrases: list[str] = field(default_factory=list)  # two consecutive content words, seen
    posts: int = 0
    records: int = 0
    jsonl_bytes: int = 0
    gzip_bytes: int = 0
    runs: int = 0

    @classmethod
    def make(cls, seed: int = SEED) -> Corpus:
        rng = random.Random(seed)
        words = list(dict.fromkeys(_word(rng) for _ in range(VOCABULARY * 2)))[:VOCABULARY]
        places = ["North", "South", "East", "West", "Central", "City", "Rural", "Roads"]
        accounts = [
            (str(10_000 + i), f"Exampleshire{('Police', 'Fire')[i % 5 == 4]}{places[i % 8]}{i}")
            for i in range(ACCOUNTS)
        ]
        return cls(
            seed=seed,
            vocabulary=words,
            hashtags=[
                w.capitalize() + rng.choice(["Appeal", "Safety", "Week", "", ""])
                for w in words[:500]
            ],
            users=[f"{_word(rng)}{rng.randint(1, 999)}" for _ in range(2000)],
            domains=[
                f"www.{_word(rng)}.{rng.choice(['gov.uk', 'co.uk', 'org', 'com'])}"
                for _ in range(200)
            ],
            accounts=accounts,
        )


class PostFactory:
    def __init__(self, corpus: Corpus, rng: random.Random) -> None:
        self.c = corpus
        self.rng = rng
        self.word_weights = zipf_weights(len(corpus.vocabulary))
        self.tag_weights = zipf_weights(len(corpus.hashtags))
        self.user_weights = zipf_weights(len(corpus.users))

    def text(self) -> tuple[str, list[str], list[str], list[str]]:
        rng, c = self.rng, self.c
        count = rng.randint(6, 45)
        content = rng.choices(c.vocabulary, cum_weights=self.word_weights, k=count)
        words = [rng.choice(FUNCTION_WORDS) if rng.random() < 0.35 else w for w in content]
        if len(c.phrases) < 5000 and rng.random() < 0.02:
            c.phrases.append(" ".join(content[:2]))
            words[:2] = content[:2]
        tags = (
            rng.choices(c.hashtags, cum_weights=self.tag_weights, k=rng.randint(1, 2))
            if rng.random() < 0.3
            else []
        )
        mentions = (
            rng.choices(c.users, cum_weights=self.user_weights, k=rng.randint(1, 2))
            if rng.random() < 0.2
            else []
        )
        urls = (
            [f"https://{rng.choice(c.domains)}/news/{rng.randint(1, 99999)}"]
            if rng.random() < 0.25
            else []
        )
        text = " ".join(words)
        text = (text[:1].upper() + text[1:])[: rng.randint(40, 280)].rstrip() + "."
        text += "".join(f" #{t}" for t in tags)
        text = " ".join(f"@{m}" for m in mentions) + (" " if mentions else "") + text
        text += "".join(f" https://t.co/{rng.getrandbits(40):010x}" for _ in urls)
        return text, tags, mentions, urls

    def record(
        self,
        account: tuple[str, str],
        when: dt.datetime,
        seq: int,
        kind: str | None = None,
        edit_of: str | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        kind = kind or rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        text, tags, mentions, urls = self.text()
        snowflake = ((int(when.timestamp() * 1000) - _SNOWFLAKE_EPOCH_MS) << 22) | (seq & 0x3FFFFF)
        post_id = str(snowflake)
        author_name = account[1] if kind != "mention" else rng.choice(self.c.users)
        author_id = account[0] if kind != "mention" else str(rng.randint(10**8, 10**9))
        media = (
            [
                {
                    "key": f"3_{post_id}",
                    "type": rng.choice(["photo", "photo", "video"]),
                    "url": f"https://pbs.twimg.com/media/{rng.getrandbits(48):012x}.jpg",
                }
            ]
            if rng.random() < 0.2
            else []
        )
        edits = [edit_of, post_id] if edit_of else [post_id]
        created = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        metrics = {
            "retweet_count": rng.randint(0, 50),
            "reply_count": rng.randint(0, 20),
            "like_count": rng.randint(0, 300),
            "quote_count": rng.randint(0, 5),
        }
        reply_to = str(snowflake - rng.randint(1, 10**12)) if kind == "reply" else None
        raw = {
            "id": post_id,
            "text": text,
            "created_at": created,
            "author_id": author_id,
            "lang": "en",
            "conversation_id": reply_to or post_id,
            "edit_history_tweet_ids": edits,
            "public_metrics": metrics,
            "entities": {
                "hashtags": [{"tag": t} for t in tags],
                "mentions": [{"username": m} for m in mentions],
                "urls": [{"expanded_url": u} for u in urls],
            },
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "source": "Twitter Web App",
        }
        return new_record(
            id=post_id,
            kind=kind,
            account=account[1],
            account_id=account[0],
            author={"id": author_id, "username": author_name, "name": author_name},
            created_at=created,
            text=text,
            lang="en",
            conversation_id=reply_to or post_id,
            in_reply_to_id=reply_to,
            hashtags=tags,
            mentions=mentions,
            urls=urls,
            media=media,
            metrics=metrics,
            edit_history_ids=edits,
            source="x-api-v2",
            captured_at=created,
            raw=raw,
        )


def _times(rng: random.Random, count: int) -> list[dt.datetime]:
    span = YEARS * 365 * 86400
    return [
        START + dt.timedelta(seconds=s) for s in sorted(rng.randrange(span) for _ in range(count))
    ]


def write_corpus(store: ObjectStore, corpus: Corpus, size: int, progress: Any = None) -> Corpus:
    """`size` posts over the accounts: an import run and five incremental runs each."""
    rng = random.Random(corpus.seed + 1)
    factory = PostFactory(corpus, rng)
    per_account = size // len(corpus.accounts)
    seq = 0
    for account in corpus.accounts:
        times = _times(rng, per_account)
        cut = [0, int(per_account * 0.7)] + [
            int(per_account * (0.7 + 0.06 * i)) for i in (1, 2, 3, 4)
        ]
        cut.append(per_account)
        written: list[str] = []
        for run_no, (lo, hi) in enumerate(zip(cut, cut[1:], strict=False)):
            events = []
            extra = []
            if run_no and written:
                for old in rng.sample(written, max(1, len(written) // 200)):  # 0.5% edited
                    seq += 1
                    extra.append(factory.record(account, times[hi - 1], seq, "post", edit_of=old))
                events = [
                    {
                        "type": "deleted",
                        "collection": "tweets",
                        "id": old,
                        "at": times[hi - 1].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                    for old in rng.sample(written, max(1, len(written) // 300))
                ]
            records = []
            for i in range(lo, hi):
                seq += 1
                records.append(factory.record(account, times[i], seq))
            _commit(
                store,
                corpus,
                account,
                records + extra,
                events,
                "import" if run_no == 0 else "incremental",
            )
            written.extend(r["id"] for r in records if r["kind"] != "mention")
            corpus.posts += len(records)
            if progress:
                progress(corpus.posts, size)
    return corpus


def write_new_posts(
    store: ObjectStore, corpus: Corpus, account: tuple[str, str], count: int, seed: int
) -> None:
    """A run of `count` posts newer than everything else (the incremental benchmark)."""
    rng = random.Random(seed)
    factory = PostFactory(corpus, rng)
    when = START + dt.timedelta(days=YEARS * 365 + seed % 1000)
    records = [
        factory.record(account, when + dt.timedelta(seconds=i), 2**21 + i) for i in range(count)
    ]
    _commit(store, corpus, account, records, [], "incremental")


def _commit(
    store: ObjectStore,
    corpus: Corpus,
    account: tuple[str, str],
    records: list[dict[str, Any]],
    events: list[dict[str, Any]],
    kind: str,
) -> None:
    with RunWriter(
        store,
        account_id=account[0],
        account=account[1],
        kind=kind,
        source="x-api-v2",
        tool_version="bench",
    ) as run:
        for rec in records:
            corpus.jsonl_bytes += len(dumps(rec))
            run.write(rec)
        for event in events:
            run.write(event, collection=EVENTS)
        manifest = run.commit()
    corpus.records += len(records) + len(events)
    corpus.gzip_bytes += sum(o.size for o in manifest.objects)
    corpus.runs += 1
