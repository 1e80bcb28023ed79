"""Index throughput per platform: the same seeded corpus written as X, Bluesky and Mastodon
records (the id contract of issue 16: numeric ids; AT URIs and DIDs; status URIs and
accts), each rebuilt into its own index in the same run. X is the baseline: the others'
ids are longer and not numbers (an extra `ids` term, a hashed account facet value), and
this says what that costs.

    nice -n 10 .venv/bin/python ops/bench/platform_index_bench.py --posts 20000 --repeat 3

Prints records/s, CPU seconds and the ratio to X (medians of --repeat rebuilds), the
load average, and one warm query per index. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from archiver.archive import Archive  # noqa: E402
from archiver.config import Config, StorageConfig  # noqa: E402
from archiver.index import Index  # noqa: E402
from storage.accountids import qualified_account_id  # noqa: E402
from storage.records import new_record  # noqa: E402
from storage.runs import RunWriter  # noqa: E402

WORDS = [f"w{i}" for i in range(2000)] + ["road", "closure", "appeal", "witness", "police", "fire"]
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
ACCT = "examplepolice@police.social"
ACCOUNTS = {
    "x": ("1001", "ExampleshirePolice", "x-api-v2"),
    "bluesky": (qualified_account_id("bluesky", DID), "examplepolice.bsky.social", "bluesky-repo"),
    "mastodon": (qualified_account_id("mastodon", ACCT), ACCT, "mastodon-archive"),
}


def item_id(platform: str, n: int) -> str:
    if platform == "x":
        return str(1_700_000_000_000_000_000 + n * 4_194_304)
    if platform == "bluesky":
        return f"at://{DID}/app.bsky.feed.post/3k{n:011d}"
    return f"https://police.social/users/examplepolice/statuses/{110_000_000_000_000 + n}"


def write(store, platform: str, posts: int, seed: int) -> None:
    rng = random.Random(seed)  # the same words, dates and kinds for every platform
    account_id, handle, source = ACCOUNTS[platform]
    author_id = {"x": "1001", "bluesky": DID, "mastodon": ACCT}[platform]
    with RunWriter(
        store,
        account_id=account_id,
        account=handle,
        kind="import",
        source=source,
        tool_version="bench",
    ) as run:
        for n in range(posts):
            day = f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            text = " ".join(rng.choices(WORDS, k=rng.randint(5, 40)))
            run.write(
                new_record(
                    id=item_id(platform, n),
                    kind=rng.choice(["post", "post", "reply"]),
                    source=source,
                    account=handle,
                    account_id=account_id,
                    author={"id": author_id, "username": handle, "name": "Exampleshire Police"},
                    created_at=f"{day}T{rng.randint(0, 23):02d}:00:00.000Z",
                    text=text,
                    hashtags=["roads"] if "road" in text else [],
                )
            )
        run.commit()


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="platform-bench-") as tmp:
        for platform in ACCOUNTS:
            root = Path(tmp) / platform
            archive = Archive(Config(storage=StorageConfig(path=str(root / "store"))))
            write(archive.store, platform, args.posts, args.seed)
            walls, cpus = [], []
            for i in range(args.repeat):
                index = Index(root / f"index-{i}")
                c0, w0 = cpu(), time.perf_counter()
                items = index.rebuild(archive)
                walls.append(time.perf_counter() - w0)
                cpus.append(cpu() - c0)
                assert items == args.posts, (platform, items)
                q0 = time.perf_counter()
                hits = index.search("road closure", per_page=20).total
                query_ms = (time.perf_counter() - q0) * 1000
                index.close()
            results[platform] = (statistics.median(walls), statistics.median(cpus), hits, query_ms)
    base_wall, base_cpu = results["x"][0], results["x"][1]
    print(
        f"{args.posts:,} posts per platform, median of {args.repeat} rebuilds, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'platform':<10} {'records/s':>10} {'wall s':>8} {'cpu s':>7} {'cpu vs X':>9} "
        f"{'hits':>6} {'query ms':>9}"
    )
    for platform, (wall, cpu_s, hits, query_ms) in results.items():
        print(
            f"{platform:<10} {args.posts / wall:>10,.0f} {wall:>8.2f} {cpu_s:>7.2f} "
            f"{cpu_s / base_cpu:>8.2f}x {hits:>6} {query_ms:>9.1f}"
        )
    print(f"(X wall {base_wall:.2f} s is the baseline)")


if __name__ == "__main__":
    main()
