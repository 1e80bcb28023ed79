"""The demo force's Mastodon account archive, in the layout of Mastodon's "Request your archive".

`MastodonArchive` builds the documents a server writes (actor.json, outbox.json with Create
and Announce activities addressed public, unlisted, followers-only or direct, likes.json,
bookmarks.json, media_attachments/) and packs them as a deterministic ZIP: sorted entries,
one fixed timestamp. The demo fills it with the fictional force's statuses; tests build
their own archives with it (good and bad).

    write_demo_mastodon_archive(path, statuses=120, seed=7) -> MastodonDemoSummary
"""

from __future__ import annotations

import datetime as dt
import html
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from archiver.demo import county
from archiver.demo.media import JPEG
from archiver.demo.packing import check_target, replaced_when_done, staging_beside

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS_CONTEXT}#Public"
DEMO_USER = "exampleshirepolice"
DEMO_HOST = "social.exampleshire-police.example"
DEMO_ACCT = f"{DEMO_USER}@{DEMO_HOST}"
_PACKED_AT = dt.datetime(2026, 3, 6, 13, 15, 31, tzinfo=dt.UTC)
_MASTODON_EPOCH_SHIFT = 16  # Mastodon ids: milliseconds since 1970 << 16, plus a sequence


def status_id(when: dt.datetime, seq: int) -> str:
    return str((int(when.timestamp() * 1000) << _MASTODON_EPOCH_SHIFT) | (seq & 0xFFFF))


def _time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class MastodonArchive:
    """An account archive being built; `zip_to(path)` writes it."""

    user: str
    host: str
    name: str
    summary_html: str = ""
    activities: list[dict[str, Any]] = field(default_factory=list)
    likes: list[str] = field(default_factory=list)
    bookmarks: list[str] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)  # archive path -> bytes
    extra: dict[str, bytes] = field(default_factory=dict)  # other members, verbatim

    @property
    def actor_id(self) -> str:
        return f"https://{self.host}/users/{self.user}"

    def actor(self) -> dict[str, Any]:
        return {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.actor_id,
            "type": "Person",
            "following": f"{self.actor_id}/following",
            "followers": f"{self.actor_id}/followers",
            "inbox": f"{self.actor_id}/inbox",
            "outbox": "outbox.json",
            "preferredUsername": self.user,
            "name": self.name,
            "summary": self.summary_html,
            "url": f"https://{self.host}/@{self.user}",
            "published": "2022-11-07T00:00:00Z",
            "attachment": [
                {
                    "type": "PropertyValue",
                    "name": "Web",
                    "value": f'<a href="{county.WEBSITE}" rel="me">{county.WEBSITE}</a>',
                }
            ],
            "icon": {"type": "Image", "mediaType": "image/jpeg", "url": "avatar.jpg"},
            "image": {"type": "Image", "mediaType": "image/jpeg", "url": "header.jpg"},
            "likes": "likes.json",
            "bookmarks": "bookmarks.json",
        }

    def status(
        self,
        sid: str,
        content_html: str,
        published: dt.datetime,
        *,
        visibility: str = "public",
        reply_to: str | None = None,
        mentions: tuple[tuple[str, str], ...] = (),  # (acct, actor URI)
        hashtags: tuple[str, ...] = (),
        photos: int = 0,
        spoiler: str | None = None,
        updated: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Add a Create activity for a Note; returns the Note."""
        uri = f"{self.actor_id}/statuses/{sid}"
        followers = f"{self.actor_id}/followers"
        actors = [m[1] for m in mentions]
        to, cc = {
            "public": ([PUBLIC], [followers, *actors]),
            "unlisted": ([followers], [PUBLIC, *actors]),
            "private": ([followers], actors),
            "direct": (actors, []),
        }[visibility]
        attachments = []
        for i in range(photos):
            path = (
                f"media_attachments/files/{sid[:3]}/{sid[3:6]}/{sid[6:9]}/original/"
                f"{sid[-8:]}{i}.jpg"
            )
            self.media[path] = JPEG
            attachments.append(
                {
                    "type": "Document",
                    "mediaType": "image/jpeg",
                    "url": f"/{path}",
                    "name": f"Photo {i + 1} of the appeal",
                    "width": 16,
                    "height": 9,
                }
            )
        note: dict[str, Any] = {
            "id": uri,
            "type": "Note",
            "summary": spoiler,
            "inReplyTo": reply_to,
            "published": _time(published),
            "url": f"https://{self.host}/@{self.user}/{sid}",
            "attributedTo": self.actor_id,
            "to": to,
            "cc": cc,
            "sensitive": bool(spoiler),
            "conversation": f"tag:{self.host},{published:%Y-%m-%d}:objectId={sid}",
            "content": content_html,
            "contentMap": {"en": content_html},
            "attachment": attachments,
            "tag": [
                {"type": "Mention", "href": href, "name": f"@{acct}"} for acct, href in mentions
            ]
            + [
                {"type": "Hashtag", "href": f"https://{self.host}/tags/{t}", "name": f"#{t}"}
                for t in hashtags
            ],
        }
        if updated is not None:
            note["updated"] = _time(updated)
        self.activities.append(
            {
                "id": f"{uri}/activity",
                "type": "Create",
                "actor": self.actor_id,
                "published": _time(published),
                "to": to,
                "cc": cc,
                "object": note,
            }
        )
        return note

    def boost(self, sid: str, target: str, published: dt.datetime) -> None:
        self.activities.append(
            {
                "id": f"{self.actor_id}/statuses/{sid}/activity",
                "type": "Announce",
                "actor": self.actor_id,
                "published": _time(published),
                "to": [PUBLIC],
                "cc": [f"{self.actor_id}/followers"],
                "object": target,
            }
        )

    def documents(self) -> dict[str, bytes]:
        def collection(name: str, items: list[Any]) -> bytes:
            doc = {
                "@context": AS_CONTEXT,
                "id": name,
                "type": "OrderedCollection",
                "totalItems": len(items),
                "orderedItems": items,
            }
            return orjson.dumps(doc, option=orjson.OPT_INDENT_2)

        docs = {
            "actor.json": orjson.dumps(self.actor()),
            "outbox.json": collection("outbox.json", self.activities),
            "likes.json": collection("likes.json", self.likes),
            "bookmarks.json": collection("bookmarks.json", self.bookmarks),
            "avatar.jpg": JPEG,
            "header.jpg": JPEG,
            **self.media,
        }
        docs.update(self.extra)
        return docs

    def zip_to(self, target: Path, *, overwrite: bool = True) -> Path:
        """Write the archive ZIP (deterministic bytes); it appears only when complete."""
        target = Path(target)
        check_target(target, overwrite, "archive ZIP")
        with staging_beside(target) as staging, replaced_when_done(target) as partial:
            for name, data in self.documents().items():
                staging.put(name, data)
            staging.pack(partial, _PACKED_AT)
        return target


# -- the demo force's account --------------------------------------------------------------
@dataclass(frozen=True)
class MastodonDemoSummary:
    path: Path
    account_id: str
    acct: str
    kinds: dict[str, int]  # records the import should write, by kind
    statuses: int  # Create activities
    boosts: int
    media_files: int
    likes: int
    bookmarks: int


PARTNERS = (
    ("exampleshirefire", "Examplefordshire Fire and Rescue"),
    ("exampleshirecc", "Examplefordshire County Council"),
    ("exampleshirenhw", "Examplefordshire Neighbourhood Watch"),
)


def _appeal(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    town, street = county.TOWNS.pick(rng), county.STREETS.pick(rng)
    crime, day = county.CRIMES.pick(rng), county.DAYS.pick(rng)
    detail, sign = county.DETAILS.pick(rng), county.SIGN_OFFS.pick(rng)
    tag = town.replace(" ", "")
    text = (
        f"Witness appeal: we're investigating {crime} on {street}, {town}, on {day}. "
        f"{detail} Call 101 quoting the incident number. {sign}"
    )
    return text, ("WitnessAppeal", tag)


def _paragraph(text: str, tags: tuple[str, ...], host: str, mention: str | None = None) -> str:
    parts = []
    if mention:
        user, _, server = mention.partition("@")
        parts.append(
            f'<span class="h-card"><a href="https://{server}/@{user}" class="u-url mention">'
            f"@<span>{user}</span></a></span>"
        )
    parts.append(html.escape(text, quote=False))
    for tag in tags:
        parts.append(
            f'<a href="https://{host}/tags/{tag}" class="mention hashtag" rel="tag">'
            f"#<span>{tag}</span></a>"
        )
    return f"<p>{' '.join(parts)}</p>"


def build_demo_archive(statuses: int = 120, seed: int = 7) -> MastodonArchive:
    """The force's account archive: statuses of every visibility, replies, boosts, media,
    one edited status, one direct message, likes and bookmarks."""
    rng = random.Random(seed)
    archive = MastodonArchive(
        DEMO_USER,
        DEMO_HOST,
        county.FORCE.name,
        summary_html=(
            f"<p>Official account of {county.FORCE.name}. Not monitored 24/7: "
            "in an emergency call 999.</p>"
        ),
    )
    partner_host = "social.exampleshire.example"
    partners = [(f"{u}@{partner_host}", f"https://{partner_host}/users/{u}") for u, _ in PARTNERS]
    when = dt.datetime(2025, 1, 6, 8, 0, tzinfo=dt.UTC)
    own: list[str] = []
    for n in range(statuses):
        when += dt.timedelta(hours=rng.randint(3, 30), minutes=rng.randint(0, 59))
        sid = status_id(when, n)
        roll = n % 10
        if roll == 7 and own:  # a boost of a partner's status
            target = f"{rng.choice(partners)[1]}/statuses/{status_id(when, 9000 + n)}"
            archive.boost(sid, target, when)
            continue
        text, tags = _appeal(rng)
        if roll == 3 and own:  # a reply to a partner, mentioning them
            acct, actor = rng.choice(partners)
            reply_to = f"{actor}/statuses/{status_id(when - dt.timedelta(hours=1), 8000 + n)}"
            note = archive.status(
                sid,
                _paragraph("Thanks for sharing. " + text, (), DEMO_HOST, acct),
                when,
                reply_to=reply_to,
                mentions=((acct, actor),),
            )
        elif roll == 5:  # a direct message to a partner
            acct, actor = partners[n % len(partners)]
            note = archive.status(
                sid,
                _paragraph("Can we share your road closure map for tonight?", (), DEMO_HOST, acct),
                when,
                visibility="direct",
                mentions=((acct, actor),),
            )
        else:
            visibility = {1: "unlisted", 9: "private"}.get(roll, "public")
            note = archive.status(
                sid,
                _paragraph(text, tags, DEMO_HOST),
                when,
                visibility=visibility,
                hashtags=tags,
                photos=1 if roll in (0, 4) else 0,
                spoiler="Distressing detail" if n % 23 == 11 else None,
                updated=when + dt.timedelta(minutes=4) if n % 17 == 2 else None,
            )
        own.append(note["id"])
    liked = [f"{p[1]}/statuses/{status_id(when, 7000 + i)}" for i, p in enumerate(partners * 4)]
    archive.likes = liked
    archive.bookmarks = liked[::3]
    return archive


def write_demo_mastodon_archive(
    path: str | Path, *, statuses: int = 120, seed: int = 7, overwrite: bool = True
) -> MastodonDemoSummary:
    archive = build_demo_archive(statuses, seed)
    target = archive.zip_to(Path(path), overwrite=overwrite)
    kinds: Counter[str] = Counter()
    for act in archive.activities:
        if act["type"] == "Announce":
            kinds["repost"] += 1
            continue
        note = act["object"]
        direct = PUBLIC not in act["to"] + act["cc"] and not any(
            a.endswith("/followers") for a in act["to"] + act["cc"]
        )
        kinds["dm" if direct else "reply" if note["inReplyTo"] else "post"] += 1
    kinds.update(like=len(archive.likes), bookmark=len(archive.bookmarks), profile=1)
    return MastodonDemoSummary(
        path=target,
        account_id=f"mastodon:{DEMO_ACCT}",
        acct=DEMO_ACCT,
        kinds=dict(kinds),
        statuses=sum(1 for a in archive.activities if a["type"] == "Create"),
        boosts=kinds["repost"],
        media_files=len(archive.media),
        likes=len(archive.likes),
        bookmarks=len(archive.bookmarks),
    )
