"""Benchmark: backups of a 10,000-post account against the local X API double.

    .venv/bin/python ops/bench/capture_bench.py [--repeat 3] [--no-kill]

Each repetition builds a fresh double (10,000 posts, 2,000 mentions, 1,000 followers, DMs,
likes, lists) with rate-limit windows scaled down to seconds so the pre-emptive waits really
happen, then runs: full; quiet incremental; incremental after changes (new posts and
mentions, an edit, a deletion, a follower lost); full again (deletion confirmed by lookup).
It checks every item is held exactly once and no 429 was ever served, and reports requests
per run, wall time, deliberate waits and records/s excluding those waits.

Media: the same full backup (no rate-limit waits) once without and once with media bytes
(photos of 256 kB, 20 videos whose best variant is about 350 kB), in the same repetition: the
bytes kept, the wall-time ratio and the peak RSS growth of the process during each.

Baseline, measured in the same run: tweepy's own Paginator fetching the same endpoints with
the same parameters (no records, no storage). The ratio full/baseline is the cost of
archiving on top of fetching. Once, a backup is killed with SIGKILL in a subprocess and
resumed. Medians are reported; results go to ops/bench/results/capture.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psutil
import tweepy

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "capture"))

from xapi_dataset import POLICE, Clock  # noqa: E402
from xapi_double import LIMITS, XApiDouble  # noqa: E402

from archiver.capture.backup import Backup, BackupResult  # noqa: E402
from archiver.capture.checkpoint import Checkpoint  # noqa: E402
from archiver.capture.client import HostAdapter, XClient  # noqa: E402
from archiver.capture.fields import LIST_PARAMS, TWEET_PARAMS, USER_FIELDS  # noqa: E402
from archiver.config import AccountConfig, CaptureConfig, XApiConfig  # noqa: E402
from storage.local import LocalStore  # noqa: E402
from storage.runs import iter_records, list_runs  # noqa: E402
from storage.view import current_view  # noqa: E402

SIZES = {
    "posts": 10_000,
    "mentions": 2_000,
    "followers": 1_000,
    "following": 200,
    "dms": 120,
    "likes": 50,
    "lists": 2,
    "members": 40,
    "spacing": 600.0,
}
MEDIA_SCALE = 40  # photos of 256 kB, best video variants of about 350 kB
VIDEO_EVERY = 50
WINDOW_SECONDS = 2.0  # the API's 15 minutes, scaled down so waits cost seconds
SCALED_LIMITS = {**LIMITS, "/2/users/:id/tweets": 12, "/2/users/:id/mentions": 5}
ENV = {
    "consumer_key_env": "BENCH_CK",
    "consumer_secret_env": "BENCH_CS",
    "access_token_env": "BENCH_AT",
    "access_token_secret_env": "BENCH_ATS",
}


def _double(limits: dict[str, int], window: float) -> tuple[XApiDouble, AccountConfig, str]:
    double = XApiDouble(
        clock=Clock(), window=window, limits=dict(limits), media_scale=MEDIA_SCALE
    ).start()
    acc = double.account(POLICE, **SIZES)
    for tid in acc.timeline[3 : 3 + 20 * VIDEO_EVERY : VIDEO_EVERY]:  # videos among the photos
        double.world.attach_video(tid)
    _use(double, acc.id)
    return double, AccountConfig(POLICE, **ENV), acc.id


def _use(double: XApiDouble, account_id: str) -> None:
    """Export the double's tokens for the account (each double issues its own)."""
    creds = double.world.accounts[account_id].creds
    os.environ.update(
        {
            "BENCH_CK": creds.consumer_key,
            "BENCH_CS": creds.consumer_secret,
            "BENCH_AT": creds.access_token,
            "BENCH_ATS": creds.access_token_secret,
        }
    )


def _backup(
    store: LocalStore,
    double: XApiDouble,
    cfg: AccountConfig,
    *,
    full: bool = False,
    media: bool = False,
) -> dict[str, object]:
    before = double.count()
    client = XClient.for_account(cfg, XApiConfig(base_url=double.url))
    capture = CaptureConfig(media=media, media_hosts=("127.0.0.1",))
    peak = _PeakRss()
    started = time.perf_counter()
    with peak:
        result: BackupResult = Backup(
            store, client, username=POLICE, full=full, capture=capture
        ).run()
    wall = time.perf_counter() - started
    assert result.ok, result.error
    seen = sum(result.seen.values())
    return {
        "kind": result.kind,
        "requests": double.count() - before,
        "wall_s": round(wall, 3),
        "waited_s": round(result.waited, 3),
        "records_seen": seen,
        "records_written": sum(result.written.values()),
        "events": dict(result.events),
        "records_per_s": round(seen / max(wall - result.waited, 1e-9), 1),
        "media": dict(result.media),
        "peak_rss_growth_mb": round(peak.growth / 1e6, 1),
    }


class _PeakRss:
    """The process's peak resident memory above where it started, sampled every 20 ms."""

    def __init__(self) -> None:
        self.growth = 0
        self._stop = threading.Event()

    def __enter__(self) -> _PeakRss:
        proc = psutil.Process()
        start = proc.memory_info().rss

        def sample() -> None:
            while not self._stop.wait(0.02):
                self.growth = max(self.growth, proc.memory_info().rss - start)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _baseline(double: XApiDouble, account_id: str) -> float:
    """tweepy alone paging the same endpoints with the same parameters."""
    client = tweepy.Client(
        consumer_key=os.environ["BENCH_CK"],
        consumer_secret=os.environ["BENCH_CS"],
        access_token=os.environ["BENCH_AT"],
        access_token_secret=os.environ["BENCH_ATS"],
        return_type=dict,
    )
    client.session.mount("https://api.twitter.com", HostAdapter(double.url, 30))
    calls = [
        (client.get_users_tweets, {"max_results": 100, **TWEET_PARAMS}),
        (client.get_users_mentions, {"max_results": 100, **TWEET_PARAMS}),
        (client.get_liked_tweets, {"max_results": 100, **TWEET_PARAMS}),
        (client.get_users_followers, {"max_results": 1000, "user_fields": USER_FIELDS}),
        (client.get_users_following, {"max_results": 1000, "user_fields": USER_FIELDS}),
        (client.get_owned_lists, {"max_results": 100, **LIST_PARAMS}),
    ]
    started = time.perf_counter()
    client.get_user(username=POLICE, user_auth=True, user_fields=USER_FIELDS)
    for method, params in calls:
        for _page in tweepy.Paginator(method, account_id, user_auth=True, **params):
            pass
    return time.perf_counter() - started


def _check_exactly_once(store: LocalStore, account_id: str) -> dict[str, int]:
    for manifest in list_runs(store, account_id):
        for entry in manifest.objects:
            if entry.collection and entry.collection != "events":
                ids = [r["id"] for r in iter_records(store, manifest, entry.collection)]
                assert len(ids) == len(set(ids)), f"duplicate in {manifest.run_id}"
    return dict(Counter(item.collection for item in current_view(store, account_id)))


def repetition() -> dict[str, object]:
    double, cfg, account_id = _double(SCALED_LIMITS, WINDOW_SECONDS)
    fast, _cfg, fast_id = _double({k: 10**6 for k in LIMITS}, 900.0)
    try:
        baseline = _baseline(fast, fast_id)
        fast_full = _backup(LocalStore(tempfile.mkdtemp(prefix="bench-")), fast, cfg)
        # the same full backup keeping media bytes, in the same run
        with_media = _backup(LocalStore(tempfile.mkdtemp(prefix="bench-")), fast, cfg, media=True)
        _use(double, account_id)  # the same account again, now with rate-limit waits
        store = LocalStore(tempfile.mkdtemp(prefix="bench-"))
        runs = {"full": _backup(store, double, cfg)}
        runs["incremental_quiet"] = _backup(store, double, cfg)
        world, acc = double.world, double.world.accounts[account_id]
        for n in range(20):
            world.post(acc, f"New appeal {n}")
        for n in range(5):
            world.mention(acc, f"question {n}")
        world.dm(acc, "tip-off")
        world.edit(acc, acc.timeline[40], "Corrected appeal")
        world.delete(acc, acc.timeline[60])
        world.unfollow(acc, acc.followers[7])
        runs["incremental_changes"] = _backup(store, double, cfg)
        runs["full_again"] = _backup(store, double, cfg, full=True)
        held = _check_exactly_once(store, account_id)
        assert 429 not in {r.status for r in double.requests}, "a 429 was served"
        return {
            "baseline_fetch_s": round(baseline, 3),
            "full_no_limits": fast_full,
            "full_no_limits_media": with_media,
            "runs": runs,
            "held": held,
        }
    finally:
        double.stop()
        fast.stop()


def kill_and_resume() -> dict[str, object]:
    double, cfg, account_id = _double({k: 10**6 for k in LIMITS}, 900.0)
    root = Path(tempfile.mkdtemp(prefix="bench-kill-"))
    config = root / "archiver.toml"
    config.write_text(
        f'[storage]\nbackend = "local"\npath = "{root / "store"}"\n'
        f'[x_api]\nbase_url = "{double.url}"\n[[accounts]]\nusername = "{POLICE}"\n'
        + "".join(f'{k} = "{v}"\n' for k, v in ENV.items()),
        encoding="utf-8",
    )
    try:
        double.stall_after(20)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from archiver.cli import main; main()",
                "--config",
                str(config),
                "backup",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while double.count() < 21:
            time.sleep(0.02)
        proc.kill()
        proc.wait()
        double.release()
        store = LocalStore(root / "store")
        assert list_runs(store, account_id) == []
        checkpointed = sum(len(p) for p in Checkpoint.find(store, account_id)[0].pages().values())
        resumed = _backup(store, double, cfg)
        held = _check_exactly_once(store, account_id)
        return {
            "requests_before_kill": 21,
            "pages_checkpointed": checkpointed,
            "resume": resumed,
            "held": held,
        }
    finally:
        double.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-kill", action="store_true")
    args = parser.parse_args()
    reps = [repetition() for _ in range(args.repeat)]

    def median(path: list[str]) -> float:
        values = []
        for rep in reps:
            value: object = rep
            for key in path:
                value = value[key]  # type: ignore[index]
            values.append(float(value))  # type: ignore[arg-type]
        return round(statistics.median(values), 3)

    summary: dict[str, object] = {
        "sizes": SIZES,
        "repeat": args.repeat,
        "window_seconds": WINDOW_SECONDS,
        "baseline_fetch_s": median(["baseline_fetch_s"]),
        "full_no_limits_wall_s": median(["full_no_limits", "wall_s"]),
        "ratio_full_vs_baseline": round(
            median(["full_no_limits", "wall_s"]) / median(["baseline_fetch_s"]), 2
        ),
        "media": {
            "files_stored": median(["full_no_limits_media", "media", "stored"]),
            "bytes_per_full_backup": median(["full_no_limits_media", "media", "bytes"]),
            "full_with_media_wall_s": median(["full_no_limits_media", "wall_s"]),
            "ratio_with_vs_without_media": round(
                median(["full_no_limits_media", "wall_s"]) / median(["full_no_limits", "wall_s"]),
                2,
            ),
            "peak_rss_growth_mb_with_media": median(["full_no_limits_media", "peak_rss_growth_mb"]),
            "peak_rss_growth_mb_without": median(["full_no_limits", "peak_rss_growth_mb"]),
        },
        "runs": {
            name: {
                key: median(["runs", name, key])
                for key in (
                    "requests",
                    "wall_s",
                    "waited_s",
                    "records_seen",
                    "records_written",
                    "records_per_s",
                )
            }
            for name in reps[0]["runs"]
        },  # type: ignore[union-attr]
        "events": {name: run["events"] for name, run in reps[0]["runs"].items()},  # type: ignore[union-attr]
        "held": reps[0]["held"],
    }
    if not args.no_kill:
        summary["kill_and_resume"] = kill_and_resume()
    print(json.dumps(summary, indent=2))
    out = ROOT / "ops" / "bench" / "results" / "capture.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
