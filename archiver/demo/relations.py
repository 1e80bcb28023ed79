"""Who the demo force likes, who follows it and whom it follows, as the archive lists them
(like.js, follower.js, following.js). Each entry comes from its own random stream, so the
lists are written newest first without being held in memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from archiver.demo import voices
from archiver.demo.clock import snowflake
from archiver.demo.county import FORCE, PARTNERS
from archiver.demo.people import MENTIONS_ONLY, Person, stranger
from archiver.demo.text import Named, x_escape
from archiver.demo.timeline import DemoWorld

_LIKES, _FOLLOWERS, _FOLLOWING, _NEW_FOLLOWERS = 2, 4, 5, 9  # streams (see DemoWorld.rng)
OTHER_FOLLOWED = 32  # accounts beyond the partner bodies: other forces, councils, charities
SERIAL_EVERY = 29  # one silent follower in 29 follows thousands (a serial follower)
LOST_EVERY = 40  # one in 40 has unfollowed by the later lists
_ORGANISATIONS = (
    "{town} Town Council",
    "{town} Community Trust",
    "{town} Food Bank",
    "{town} Neighbourhood Policing",
    "{town} Rotary Club",
    "{town} Youth Hub",
)
_PRAISE = (
    "Huge thanks to the officers who helped my mum in {town} today. Above and beyond.",
    "The {town} neighbourhood team came to our school assembly. The kids loved it!",
    "Found my stolen bike thanks to the bike marking scheme. Thank you!",
    "Brilliant talk on scams at the {town} community centre this morning.",
)


def like_count(world: DemoWorld) -> int:
    return max(30, world.posts // 10)


def follower_count(world: DemoWorld) -> int:
    return max(100, world.posts // 3)


def likes(world: DemoWorld) -> Iterator[dict[str, Any]]:
    """like.js entries, newest first: partners' news and the public's thanks."""
    count = like_count(world)
    for k in range(count - 1, -1, -1):
        rng = world.rng(_LIKES, k)
        when = world.clock.anywhere((k + rng.random()) / count)
        if rng.random() < 0.6:
            text = voices.partner_post(rng).value
        else:
            text = rng.choice(_PRAISE).format(town=voices.c.TOWNS.pick(rng))
        tid = str(snowflake(rng, when))
        yield {
            "like": {
                "tweetId": tid,
                "fullText": x_escape(text),
                "expandedUrl": f"https://twitter.com/i/web/status/{tid}",
            }
        }


def _relation(kind: str, uid: str) -> dict[str, Any]:
    return {kind: {"accountId": uid, "userLink": f"https://twitter.com/intent/user?user_id={uid}"}}


def _listed_people(world: DemoWorld) -> list[Named]:
    """The people and partner bodies on follower.js: everyone who ever replied (bar one
    impostor, who only mentions the force) and the partners, who follow back."""
    order = [n for n in range(len(world.people)) if n != MENTIONS_ONLY]
    random.Random(f"{world.seed}:followers").shuffle(order)
    return [world.people[n] for n in order] + list(PARTNERS)


def _silent(world: DemoWorld, stream: int, k: int, count: int) -> Person:
    """Follower k of `count` on a stream, with its own random stream (id, then profile)."""
    rng = world.rng(stream, k)
    joined = world.clock.anywhere((k + rng.random()) / count)
    uid = str(snowflake(rng, joined))
    return stranger(rng, uid, joined, serial=k % SERIAL_EVERY == 3)


def _silent_count(world: DemoWorld) -> int:
    return follower_count(world) - len(_listed_people(world))


def followers(world: DemoWorld) -> Iterator[dict[str, Any]]:
    """follower.js: the people and partners, then many silent followers (ids only)."""
    for who in _listed_people(world):
        yield _relation("follower", who.id)
    count = _silent_count(world)
    for k in range(count - 1, -1, -1):
        yield _relation("follower", _silent(world, _FOLLOWERS, k, count).id)


def _followed(world: DemoWorld, k: int) -> Named:
    rng = world.rng(_FOLLOWING, k)
    uid = (
        rng.randrange(10**7, 3 * 10**9)
        if k % 3
        else snowflake(rng, world.clock.anywhere(rng.random()))
    )
    town = voices.c.TOWNS.pick(rng)
    name = rng.choice(_ORGANISATIONS).format(town=town)
    handle = "".join(w for w in name.split() if w.isalpha())[:13]
    joined = world.clock.anywhere(rng.random() / 2)
    followers = rng.randrange(300, 9000)
    return Person(
        str(uid),
        f"{handle}{k:02d}",
        name,
        joined,
        f"{town}, Examplefordshire",
        followers=followers,
        following=rng.randrange(100, 1500),
        posts=rng.randrange(200, 9000),
    )


def following(world: DemoWorld) -> Iterator[dict[str, Any]]:
    for partner in PARTNERS:
        yield _relation("following", partner.id)
    for k in range(OTHER_FOLLOWED):
        yield _relation("following", _followed(world, k).id)


def following_count() -> int:
    return len(PARTNERS) + OTHER_FOLLOWED


# -- the lists a month after the archive (twarc2 followers / following): gains and losses ----
def later_followers(world: DemoWorld) -> list[Named]:
    """Who follows the force a month after the archive, newest first as the API lists them:
    new followers (an impostor, some serial followers), then those of the archive who stayed
    (every LOST_EVERY-th silent follower and one person unfollowed)."""
    # an impostor follows after the archive: the force's handle with a suffix, and its name
    impostor = Person(
        "1830000000000000077",
        f"{FORCE.username}_UK",
        FORCE.name,
        world.generated_at,
        "UK",
        followers=3,
        following=41,
        posts=2,
    )
    gained: list[Named] = [impostor]
    count = max(10, follower_count(world) // 25)
    gained += [_silent(world, _NEW_FOLLOWERS, k, count) for k in range(count)]
    listed = _listed_people(world)
    stayed = [who for who in listed if who.id != listed[0].id]
    total = _silent_count(world)
    stayed += [
        _silent(world, _FOLLOWERS, k, total)
        for k in range(total - 1, -1, -1)
        if k % LOST_EVERY != 1
    ]
    return gained + stayed


def later_following(world: DemoWorld) -> list[Named]:
    return list(PARTNERS) + [_followed(world, k) for k in range(OTHER_FOLLOWED)]
