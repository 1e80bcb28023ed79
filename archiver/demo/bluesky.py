"""The fictional force's Bluesky account (@exampleshirepolice.bsky.example): a signed
repository in the layout of the common backup tools, for the demo and the tests.

    write_demo_bluesky(folder, posts=40, seed=7) -> Path  # the backup folder

Same arguments, same bytes: the DIDs come from names, the signing key from the seed, and the
signatures are deterministic (RFC 6979). The repository holds posts (with mentions, links,
hashtags, images), replies, a quote, reposts, likes, follows, a block, a list with members, the
profile and a third-party app's record, so every kind the importer makes is there.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
from pathlib import Path
from typing import Any

from archiver.demo.county import PARTNERS, ROADS, TOWNS, WEBSITE
from archiver.demo.media import JPEG
from archiver.platforms.bluesky.build import RepoBuilder, SigningKey, blob_ref, tid
from archiver.platforms.bluesky.build import write_backup_folder as _write_folder

HANDLE = "exampleshirepolice.bsky.example"
PDS = "https://pds.bsky.example"
START = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
THIRD_PARTY = "example.noticeboard.pin"  # another app's lexicon: kept verbatim, not a post


def demo_did(name: str) -> str:
    """A did:plc for a name: 24 base32 characters of its hash (the shape PLC gives)."""
    digest = hashlib.sha256(name.encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


FORCE_DID = demo_did(HANDLE)
PARTNER_HANDLES = [f"{p.username.lower()}.bsky.example" for p in PARTNERS]


def _micros(when: dt.datetime) -> int:
    return int(when.timestamp() * 1_000_000)


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _facet(text: str, fragment: str, feature: dict[str, Any]) -> dict[str, Any]:
    start = text.encode().index(fragment.encode())
    return {
        "index": {"byteStart": start, "byteEnd": start + len(fragment.encode())},
        "features": [feature],
    }


def demo_repository(
    posts: int = 40, seed: int = 7
) -> tuple[RepoBuilder, dict[str, bytes], list[dict[str, str]]]:
    """(the repository, its blobs by CID, the posts written: uri, cid, text)."""
    rng = random.Random(seed)
    key = SigningKey.from_secret(int.from_bytes(hashlib.sha256(f"demo-{seed}".encode()).digest()))
    repo = RepoBuilder(FORCE_DID, key)
    blobs: dict[str, bytes] = {}
    avatar = JPEG + b"avatar"
    avatar_ref = blob_ref(avatar, "image/jpeg")
    blobs[avatar_ref["ref"]["$link"]] = avatar
    repo.put(
        "app.bsky.actor.profile",
        "self",
        {
            "$type": "app.bsky.actor.profile",
            "displayName": "Examplefordshire Police",
            "description": f"The official account of Examplefordshire Police. {WEBSITE}\n"
            "Do not report crime here: call 101, or 999 in an emergency.",
            "avatar": avatar_ref,
            "createdAt": _stamp(START),
        },
    )
    written: list[dict[str, str]] = []
    when = START
    for i in range(posts):
        when += dt.timedelta(minutes=rng.randrange(40, 600))
        town, road = TOWNS.pick(rng), ROADS.pick(rng)
        partner = rng.randrange(len(PARTNERS))
        value: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "langs": ["en"],
            "createdAt": _stamp(when),
        }
        if i % 5 == 0:
            text = (
                f"{road} near {town} is closed after a collision. Please avoid the area. "
                f"#RoadClosure"
            )
            value["facets"] = [
                _facet(
                    text,
                    "#RoadClosure",
                    {"$type": "app.bsky.richtext.facet#tag", "tag": "RoadClosure"},
                )
            ]
        elif i % 5 == 1:
            handle = PARTNER_HANDLES[partner]
            text = (
                f"Witness appeal: officers in {town} with @{handle} ask anyone who saw it "
                "to call 101."
            )
            value["facets"] = [
                _facet(
                    text,
                    f"@{handle}",
                    {"$type": "app.bsky.richtext.facet#mention", "did": demo_did(handle)},
                )
            ]
        elif i % 5 == 2:
            link = f"{WEBSITE}/news/{town.lower().replace(' ', '-')}-{i}"
            text = f"Community meeting in {town} this week: details at {link}"
            value["facets"] = [
                _facet(text, link, {"$type": "app.bsky.richtext.facet#link", "uri": link})
            ]
        elif i % 5 == 3:
            image = JPEG + f"demo-{seed}-{i}".encode()
            ref = blob_ref(image, "image/jpeg")
            blobs[ref["ref"]["$link"]] = image
            text = f"Officers on patrol in {town} today."
            value["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [{"alt": f"A patrol car in {town}", "image": ref}],
            }
        else:
            text = f"Thank you to everyone in {town} who came to our road safety event."
        if written and i % 7 == 6:  # a reply to an earlier post, in its thread
            parent = written[rng.randrange(len(written))]
            value["reply"] = {
                "root": {"uri": parent["uri"], "cid": parent["cid"]},
                "parent": {"uri": parent["uri"], "cid": parent["cid"]},
            }
            text = f"Update: {text}"
        elif written and i % 11 == 10:  # a quote of an earlier post
            quoted = written[rng.randrange(len(written))]
            value["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": quoted["uri"], "cid": quoted["cid"]},
            }
        value["text"] = text
        rkey = tid(_micros(when))
        uri = repo.put("app.bsky.feed.post", rkey, value)
        written.append(
            {"uri": uri, "cid": repo.records[f"app.bsky.feed.post/{rkey}"].encode(), "text": text}
        )
    for n, handle in enumerate(PARTNER_HANDLES):
        at = START + dt.timedelta(hours=n)
        partner_post = f"at://{demo_did(handle)}/app.bsky.feed.post/{tid(_micros(at))}"
        subject = {"uri": partner_post, "cid": written[0]["cid"]}
        repo.put(
            "app.bsky.graph.follow",
            tid(_micros(at), 1),
            {
                "$type": "app.bsky.graph.follow",
                "subject": demo_did(handle),
                "createdAt": _stamp(at),
            },
        )
        repo.put(
            "app.bsky.feed.like",
            tid(_micros(at), 2),
            {"$type": "app.bsky.feed.like", "subject": subject, "createdAt": _stamp(at)},
        )
        if n % 2 == 0:
            repo.put(
                "app.bsky.feed.repost",
                tid(_micros(at), 3),
                {"$type": "app.bsky.feed.repost", "subject": subject, "createdAt": _stamp(at)},
            )
    list_key = tid(_micros(START), 5)
    list_uri = repo.put(
        "app.bsky.graph.list",
        list_key,
        {
            "$type": "app.bsky.graph.list",
            "name": "Examplefordshire partners",
            "purpose": "app.bsky.graph.defs#curatelist",
            "createdAt": _stamp(START),
        },
    )
    for n, handle in enumerate(PARTNER_HANDLES[:4]):
        repo.put(
            "app.bsky.graph.listitem",
            tid(_micros(START), 10 + n),
            {
                "$type": "app.bsky.graph.listitem",
                "subject": demo_did(handle),
                "list": list_uri,
                "createdAt": _stamp(START),
            },
        )
    repo.put(
        "app.bsky.graph.block",
        tid(_micros(START), 30),
        {
            "$type": "app.bsky.graph.block",
            "subject": demo_did("spam.bsky.example"),
            "createdAt": _stamp(START),
        },
    )
    repo.put(
        THIRD_PARTY,
        tid(_micros(START), 40),
        {
            "$type": THIRD_PARTY,
            "board": "town-notices",
            "note": "Pinned by the comms team",
            "createdAt": _stamp(START),
        },
    )
    repo.commit(tid(_micros(when + dt.timedelta(minutes=5))))
    return repo, blobs, written


def write_demo_bluesky(folder: Path, *, posts: int = 40, seed: int = 7) -> Path:
    """The demo account's backup folder (`<handle>.car`, `.json`, `_plc.json`, `_blobs/`)."""
    repo, blobs, _ = demo_repository(posts, seed)
    return _write_folder(folder, repo, HANDLE, PDS, blobs)
