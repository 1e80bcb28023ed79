"""Who follows the demo force, and whom it follows, a month after its archive, as twarc2 saves
`GET /2/users/:id/followers` and `/following` (`twarc2 followers` / `twarc2 following`): one
API v2 page of up to 1,000 users a line, each with `public_metrics`, `created_at` and
`description` (what the follower review reads), newest follower first.

The archive's follower.js and following.js hold ids only (the real format); these lists give
the names and counts, and, being a later complete list, the gains and losses since the
archive. See `relations.later_followers` for who is in them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from archiver.demo import relations
from archiver.demo.county import FORCE
from archiver.demo.mentions import TWARC_VERSION, _token, v2_user
from archiver.demo.packing import check_target, replaced_when_done
from archiver.demo.timeline import DemoWorld

PAGE_SIZE = 1000  # twarc2's max_results for followers and following
LATER = dt.timedelta(days=31, hours=2, minutes=17)  # after the archive's generation date
_QUERY = {
    "expansions": "pinned_tweet_id",
    "user.fields": "created_at,description,id,location,name,profile_image_url,protected,"
    "public_metrics,url,username,verified,verified_type",
    "max_results": str(PAGE_SIZE),
}
COLLECTIONS = ("followers", "following")


@dataclasses.dataclass(frozen=True)
class NetworkSummary:
    path: Path
    collection: str
    pages: int
    users: int
    retrieved_at: dt.datetime


def retrieved_at(world: DemoWorld) -> dt.datetime:
    return world.generated_at + LATER


def write_demo_network_jsonl(
    path: str | os.PathLike[str],
    collection: str,
    *,
    posts: int = 3000,
    seed: int = 7,
    start_year: int = 2019,
    years: int = 7,
    overwrite: bool = False,
) -> NetworkSummary:
    """Write the force's followers (or following) a month after its archive as twarc2 JSONL.
    Give the same arguments as to `write_demo_archive` so the lists match its follower.js."""
    if collection not in COLLECTIONS:
        raise ValueError(f"collection must be one of {COLLECTIONS}, got {collection!r}")
    world = DemoWorld(posts=posts, seed=seed, start_year=start_year, years=years)
    users = (
        relations.later_followers(world)
        if collection == "followers"
        else relations.later_following(world)
    )
    when = retrieved_at(world)
    tokens = random.Random(f"{seed}:{collection}-tokens")
    target = Path(path)
    check_target(target, overwrite, "JSONL file")
    pages = 0
    with replaced_when_done(target) as partial, partial.open("w", encoding="utf-8") as fh:
        token: str | None = None
        for start in range(0, len(users), PAGE_SIZE):
            chunk = users[start : start + PAGE_SIZE]
            last = start + PAGE_SIZE >= len(users)
            next_token = None if last else _token(tokens)
            meta: dict[str, Any] = {"result_count": len(chunk)}
            if next_token:
                meta["next_token"] = next_token
            query = dict(_QUERY, **({"pagination_token": token} if token else {}))
            page = {
                "data": [v2_user(u) for u in chunk],
                "meta": meta,
                "__twarc": {
                    "url": f"https://api.twitter.com/2/users/{FORCE.id}/{collection}"
                    f"?{urlencode(query)}",
                    "version": TWARC_VERSION,
                    "retrieved_at": when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                },
            }
            fh.write(json.dumps(page) + "\n")
            pages, token = pages + 1, next_token
    return NetworkSummary(target, collection, pages, len(users), when)
