"""Export test data with nothing beside the checkout: the demo generator's fictional
@ExampleshirePolice archive (archiver/demo, the 2020+ layout byte-exact), read the way
export_samples reads a real tweets.js, plus a month of news: an edit of the month's photo post,
an earlier month's post edited in the month, a deletion event, a member of the public's mention
carrying their details, and a DM.

`DemoFacts` says what the export tests can expect, worked out here from the generated files
(never from the code under test): the month, which posts it holds, their kinds, versions,
media and the people they involve.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from export_samples import SampleArchive, account_run, archive_tweet, dm_record, parse_ytd

from archiver.demo.archive_zip import write_demo_archive
from archiver.demo.county import FORCE
from archiver.timestamps import iso
from storage.records import new_record

ACCOUNT = FORCE.username
ACCOUNT_ID = FORCE.id
OWN = {"id": ACCOUNT_ID, "username": ACCOUNT, "name": FORCE.name}
# the news's people have 19-digit ids, so "absent from a bundle" never matches a timestamp
PUBLIC = {"id": "1830000000000000071", "username": "jo_public", "name": "Jo Public"}
NEIGHBOUR_ID = "1830000000000000072"
DM_SENDER = "1830000000000000073"
DM_TEXT = "hi, it's me again, ring +44 7700 900456"
MENTION_TEXT = (
    f"@{ACCOUNT} my car AB12 CDE was taken from outside SW1A 1AA last night. "
    "Call me on 07700 900123 or jo.public@example.com - my neighbour @nosy_neighbour saw it"
)
# a small archive: one year, about twenty posts a month
POSTS, SEED, YEAR = 240, 7, 2025
LONDON = ZoneInfo("Europe/London")


def uk_month(when: str | None) -> str | None:
    """YYYY-MM of an ISO time in UK time (the exports' months), worked out with zoneinfo."""
    if not when:
        return None
    at = dt.datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(LONDON)
    return f"{at:%Y-%m}"


def month_bounds(month: str) -> tuple[str, str]:
    """The UTC instants a UK month starts and ends at, as bag-info's Period writes them."""
    year, mon = map(int, month.split("-"))
    nxt = (year + mon // 12, mon % 12 + 1)
    start = dt.datetime(year, mon, 1, tzinfo=LONDON).astimezone(dt.UTC)
    end = dt.datetime(*nxt, 1, tzinfo=LONDON).astimezone(dt.UTC)
    return f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{end:%Y-%m-%dT%H:%M:%SZ}"


def month_days(month: str) -> tuple[str, str]:
    """The first and last day of a month, as --from and --to take them."""
    start = dt.date.fromisoformat(f"{month}-01")
    end = dt.date.fromisoformat(f"{shift_month(month, 1)}-01") - dt.timedelta(days=1)
    return start.isoformat(), end.isoformat()


def shift_month(month: str, by: int) -> str:
    year, mon = map(int, month.split("-"))
    n = year * 12 + mon - 1 + by
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def news_id(when: str, n: int) -> str:
    """A snowflake id for a news item at `when` (ms since X's epoch, then a sequence)."""
    ms = int(dt.datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
    return str(((ms - 1288834974657) << 22) | n)


def _kind(tweet: dict[str, Any]) -> str:
    return archive_tweet(tweet, captured_at="", owner=OWN)["kind"]


def _has_photo(tweet: dict[str, Any]) -> bool:
    media = (tweet.get("extended_entities") or {}).get("media") or []
    return bool(media) and all(m["type"] == "photo" for m in media)


def _stems(text: str) -> set[str]:
    # a word's first six letters: a stemmer's "closed" and "closes" count as one word here
    return {w[:6].lower() for w in re.findall(r"[A-Za-z]{4,}", text)}


def _unique_words(text: str, others: list[str]) -> str:
    """The rarest few words of `text` that together no other text holds: a query for it."""
    theirs = [_stems(o) for o in others]
    words = {w[:6].lower(): w for w in reversed(re.findall(r"[A-Za-z]{4,}", text))}
    chosen: list[str] = []
    for stem in sorted(words, key=lambda w: (sum(w in t for t in theirs), w)):
        chosen.append(stem)
        if not any(set(chosen) <= t for t in theirs):
            return " ".join(words[w] for w in chosen)
    raise AssertionError(f"no words are unique to {text!r}")


@dataclass
class DemoFacts:
    """The generated archive and what its export month should hold."""

    zip_path: Path
    tweets: list[dict[str, Any]]  # tweets.js entries' "tweet" objects
    deleted: list[dict[str, Any]]  # deleted-tweets.js
    media: dict[str, bytes]  # data/tweets_media and deleted_tweets_media files by name
    month: str = ""
    photo: dict[str, Any] = field(default_factory=dict)  # edited in the news
    photo_edit_id: str = ""
    earlier: dict[str, Any] = field(default_factory=dict)  # the month before's, edited in it
    earlier_edit_id: str = ""
    event_deleted: dict[str, Any] = field(default_factory=dict)  # deleted by an event
    event_at: str = ""
    archive_deleted: dict[str, Any] = field(default_factory=dict)  # in deleted-tweets.js
    untouched: dict[str, Any] = field(default_factory=dict)  # two months before, not touched
    reply: dict[str, Any] = field(default_factory=dict)  # the month's reply to a person
    mention_id: str = ""
    mention_at: str = ""
    dm_id: str = ""
    imported: str = ""  # the import run's capture time
    captured: str = ""  # the news run's

    @property
    def year(self) -> str:
        return self.month[:4]

    @property
    def file_stem(self) -> str:
        """The monthly bundle's name without .zip."""
        return f"{ACCOUNT}-{self.month}"

    @property
    def bundle_key(self) -> str:
        return f"{ACCOUNT}/{self.year}/{self.file_stem}.zip"

    def news_versions(self) -> list[dict[str, str]]:
        """(id, item key, kind, created_at) of each record the news run writes."""
        earlier_kind = _kind(self.earlier)
        return [
            {
                "id": self.photo_edit_id,
                "key": self.photo["id"],
                "kind": _kind(self.photo),
                "created_at": self._photo_edit_at(),
            },
            {
                "id": self.earlier_edit_id,
                "key": self.earlier["id"],
                "kind": earlier_kind,
                "created_at": self._earlier_edit_at(),
            },
            {
                "id": self.mention_id,
                "key": self.mention_id,
                "kind": "mention",
                "created_at": self.mention_at,
            },
            {"id": self.dm_id, "key": self.dm_id, "kind": "dm", "created_at": self._dm_at()},
        ]

    def _photo_edit_at(self) -> str:
        return iso_plus(created(self.photo), minutes=5)

    def _earlier_edit_at(self) -> str:
        return f"{self.month}-02T08:00:00.000Z"

    def _dm_at(self) -> str:
        return f"{self.month}-15T10:00:00.000Z"

    def versions(self) -> list[dict[str, Any]]:
        """Every version the two runs hold: id, item key, kind, created_at, deleted_at."""
        out = []
        for tweet in self.tweets + self.deleted:
            chain = (tweet.get("edit_info") or {}).get("initial", {}).get("editTweetIds") or []
            out.append(
                {
                    "id": tweet["id"],
                    "key": chain[0] if chain else tweet["id"],
                    "kind": _kind(tweet),
                    "created_at": iso(tweet["created_at"]),
                    "deleted_at": iso(tweet.get("deleted_at")),
                }
            )
        return out + [v | {"deleted_at": None} for v in self.news_versions()]

    def items(self, month: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """The month's items (key -> versions, oldest first), in bundle order: created, deleted
        or edited in the month, or deleted by an event in it."""
        month = month or self.month
        by_key: dict[str, list[dict[str, Any]]] = {}
        for v in self.versions():
            by_key.setdefault(v["key"], []).append(v)
        for vs in by_key.values():
            vs.sort(key=lambda v: (v["created_at"], int(v["id"])))
        chosen = {
            k: vs
            for k, vs in by_key.items()
            if any(month in (uk_month(v["created_at"]), uk_month(v["deleted_at"])) for v in vs)
            or (k == self.event_deleted["id"] and uk_month(self.event_at) == month)
        }
        return dict(sorted(chosen.items(), key=lambda kv: (kv[1][0]["created_at"], int(kv[0]))))

    def counts(self, month: str | None = None, *, dms: bool = True) -> dict[str, int]:
        kinds = Counter(vs[-1]["kind"] for vs in self.items(month).values())
        if not dms:
            kinds.pop("dm", None)
        return dict(sorted(kinds.items()))

    def summary(self, *, dms: bool = True) -> str:
        """The export commands' "9 items (dm 1, mention 1, ...)"."""
        counts = self.counts(dms=dms)
        total = sum(counts.values())
        kinds = ", ".join(f"{k} {n}" for k, n in counts.items())
        return f"{total} item{'s' if total != 1 else ''} ({kinds})"

    def month_media(self) -> list[str]:
        ids = {v["id"] for vs in self.items().values() for v in vs}
        return sorted(name for name in self.media if name.split("-", 1)[0] in ids)

    def texts(self) -> list[str]:
        return [t["full_text"] for t in self.tweets + self.deleted]

    def query(self, tweet: dict[str, Any]) -> str:
        """Words of `tweet`'s that no other item's text holds together: finds only its item."""
        others = [t for t in self.texts() if t != tweet["full_text"]]
        return _unique_words(tweet["full_text"], [*others, MENTION_TEXT, DM_TEXT])


def created(tweet: dict[str, Any]) -> str:
    """An archive tweet's created_at as ISO 8601."""
    when = iso(tweet["created_at"])
    assert when, tweet["id"]
    return when


def iso_plus(when: str, **delta: float) -> str:
    at = dt.datetime.fromisoformat(when.replace("Z", "+00:00")) + dt.timedelta(**delta)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def generate(folder: Path) -> DemoFacts:
    """Write the demo archive into `folder` and choose the export month from what it holds."""
    path = write_demo_archive(
        folder / "demo-archive.zip", posts=POSTS, seed=SEED, start_year=YEAR, years=1
    ).path
    with zipfile.ZipFile(path) as zf:
        tweets = [e["tweet"] for e in parse_ytd(zf.read("data/tweets.js").decode())]
        deleted = [e["tweet"] for e in parse_ytd(zf.read("data/deleted-tweets.js").decode())]
        media = {
            n.rsplit("/", 1)[-1]: zf.read(n)
            for n in zf.namelist()
            if n.startswith(("data/tweets_media/", "data/deleted_tweets_media/"))
            and not n.endswith("/")
        }
    facts = DemoFacts(path, tweets, deleted, media)
    # imported a few days after the archive's newest post, the news captured after that
    facts.imported = iso_plus(created(tweets[0]), days=6)
    facts.captured = iso_plus(facts.imported, days=4)
    for gone in sorted(deleted, key=created):
        if _choose(facts, gone):
            return facts
    raise AssertionError(
        "the demo archive has no month with a deleted post, a photo post, a repost and a reply"
        " (did the demo generator change?)"
    )


def _choose(facts: DemoFacts, gone: dict[str, Any]) -> bool:
    """Pick the month of a deleted post when it holds everything the tests need."""
    month = uk_month(created(gone))
    assert month
    if uk_month(iso(gone["deleted_at"])) != month:
        return False

    def of(m: str, kind: str) -> list[dict[str, Any]]:
        return [
            t
            for t in facts.tweets
            if uk_month(created(t)) == m
            and _kind(t) == kind
            and len((t.get("edit_info") or {}).get("initial", {}).get("editTweetIds") or []) < 2
        ]

    photos = [
        t
        for t in of(month, "post")
        if _has_photo(t) and uk_month(iso_plus(created(t), minutes=5)) == month
    ]
    reposts = [t for t in of(month, "repost") if uk_month(iso_plus(created(t), hours=1)) == month]
    replies = [t for t in of(month, "reply") if t.get("in_reply_to_user_id_str") != ACCOUNT_ID]
    earlier = [t for t in of(shift_month(month, -1), "post") if not _has_photo(t)]
    untouched = of(shift_month(month, -2), "post")
    if not (photos and reposts and replies and earlier and untouched):
        return False
    facts.month, facts.archive_deleted = month, gone
    facts.photo, facts.reply, facts.untouched = photos[0], replies[0], untouched[0]
    facts.event_deleted = reposts[-1]
    facts.event_at = iso_plus(created(reposts[-1]), hours=1)
    facts.earlier = earlier[0]
    facts.photo_edit_id = news_id(facts._photo_edit_at(), 1)
    facts.earlier_edit_id = news_id(facts._earlier_edit_at(), 2)
    facts.mention_at = f"{month}-12T22:15:00.000Z"
    facts.mention_id = news_id(facts.mention_at, 3)
    facts.dm_id = news_id(facts._dm_at(), 4)
    return True


def _run_id(when: str, suffix: str) -> str:
    """20260310T090000000000Z-aaaaaa from 2026-03-10T09:00:00.000Z."""
    return when.replace("-", "").replace(":", "").replace(".", "")[:-1] + f"000Z-{suffix}"


def write_demo_runs(store: Any, facts: DemoFacts) -> tuple[str, str]:
    """The import of the generated archive, then an API run with the month's news."""
    with account_run(store, OWN, "import", "x-archive", _run_id(facts.imported, "aaaaaa")) as run:
        for tweet in facts.tweets + facts.deleted:
            run.write(archive_tweet(tweet, captured_at=facts.imported, owner=OWN))
        for name, data in sorted(facts.media.items()):
            run.add_bytes(f"data/tweets_media/{name}", data)
        with zipfile.ZipFile(facts.zip_path) as zf:
            run.add_bytes("data/tweets.js", zf.read("data/tweets.js"))
        first = run.commit()
    run_id = _run_id(facts.captured, "bbbbbb")
    with account_run(store, OWN, "incremental", "x-api-v2", run_id, parent=first.run_id) as run:
        for record in _news(facts):
            run.write(record)
        run.write(
            {
                "type": "deleted",
                "collection": "tweets",
                "id": facts.event_deleted["id"],
                "at": facts.event_at,
            },
            collection="events",
        )
        second = run.commit()
    return first.run_id, second.run_id


def _edit(facts: DemoFacts, version: dict[str, str], original: dict, text: str) -> dict:
    """The API's later version of one of the archive's posts, with its edit chain."""
    chain = [original["id"], version["id"]]
    return new_record(
        id=version["id"],
        kind=version["kind"],
        account=ACCOUNT,
        account_id=ACCOUNT_ID,
        author=OWN,
        created_at=version["created_at"],
        text=text,
        edit_history_ids=chain,
        source="x-api-v2",
        captured_at=facts.captured,
        raw={
            "id": version["id"],
            "text": text,
            "author_id": ACCOUNT_ID,
            "edit_history_tweet_ids": chain,
        },
    )


def _news(facts: DemoFacts) -> list[dict[str, Any]]:
    photo, earlier, captured = facts.photo, facts.earlier, facts.captured
    (photo_v, earlier_v, mention_v, dm_v) = facts.news_versions()
    photo_text = photo["full_text"] + " (edited)"
    earlier_text = earlier["full_text"] + " (asking again)"
    return [
        _edit(facts, photo_v, photo, photo_text),
        _edit(facts, earlier_v, earlier, earlier_text),
        new_record(
            id=facts.mention_id,
            kind="mention",
            account=ACCOUNT,
            account_id=ACCOUNT_ID,
            author=PUBLIC,
            created_at=mention_v["created_at"],
            text=MENTION_TEXT,
            mentions=[ACCOUNT, "nosy_neighbour"],
            source="x-api-v2",
            captured_at=captured,
            conversation_id=facts.mention_id,
            raw={
                "id": facts.mention_id,
                "text": MENTION_TEXT,
                "author_id": PUBLIC["id"],
                "conversation_id": facts.mention_id,
                "created_at": mention_v["created_at"],
                "entities": {
                    "mentions": [
                        {"username": ACCOUNT, "id": ACCOUNT_ID},
                        {"username": "nosy_neighbour", "id": NEIGHBOUR_ID},
                    ]
                },
                "edit_history_tweet_ids": [facts.mention_id],
            },
        ),
        dm_record(OWN, DM_SENDER, facts.dm_id, dm_v["created_at"], DM_TEXT, captured),
    ]


@dataclass
class DemoArchive(SampleArchive):
    facts: DemoFacts = field(default=None)  # type: ignore[assignment]
