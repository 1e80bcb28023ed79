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
from archiver.demo.county import PARTNERS
from archiver.demo.text import x_escape
from archiver.demo.timeline import DemoWorld

_LIKES, _FOLLOWERS, _FOLLOWING = 2, 4, 5  # random streams (see DemoWorld.rng)
OTHER_FOLLOWED = 32  # accounts beyond the partner bodies: other forces, councils, charities
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


def followers(world: DemoWorld) -> Iterator[dict[str, Any]]:
    """follower.js: everyone who ever replied, then many silent followers (ids only)."""
    order = list(range(len(world.people)))
    random.Random(f"{world.seed}:followers").shuffle(order)
    for n in order:
        yield _relation("follower", world.people[n].id)
    count = follower_count(world) - len(order)
    for k in range(count - 1, -1, -1):
        rng = world.rng(_FOLLOWERS, k)
        yield _relation(
            "follower", str(snowflake(rng, world.clock.anywhere((k + rng.random()) / count)))
        )


def following(world: DemoWorld) -> Iterator[dict[str, Any]]:
    for partner in PARTNERS:
        yield _relation("following", partner.id)
    for k in range(OTHER_FOLLOWED):
        rng = world.rng(_FOLLOWING, k)
        uid = (
            rng.randrange(10**7, 3 * 10**9)
            if k % 3
            else snowflake(rng, world.clock.anywhere(rng.random()))
        )
        yield _relation("following", str(uid))


def following_count() -> int:
    return len(PARTNERS) + OTHER_FOLLOWED
