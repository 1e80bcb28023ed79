"""Benchmark: the monthly bundle of a 100,000-post month.

    .venv/bin/python ops/bench/export_bench.py [--posts 100000] [--repeat 3]

Builds an archive once: an import run holding the previous month (10% as many posts) and
the month itself, then an incremental run with edits (1%), deletions (0.5%), mentions (10%)
and a few hundred photos. Texts are real sample posts, varied; each record carries an X API
v2 `raw` object, as capture writes them.

Each repetition then exports the month to a directory destination and times three phases:
load (list the runs, merge them into the current view: what every reader of the archive
pays), build (records, payloads, provenance, CSV, HTML, media, bagit, zip) and deliver.

Baseline, measured in the same run on the same versions: writing them as plain gzip JSONL
(orjson + gzip level 6), the cheapest archive copy one could make. The ratio build/baseline
is the cost of a records bundle on top of that. Also checked: every repetition gives the
same bytes, and bagit validates the result. Medians are reported; results go to
ops/bench/results/exports.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import bagit
import orjson
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from archiver.archive import Archive  # noqa: E402
from archiver.config import Config, ExportConfig, StorageConfig  # noqa: E402
from archiver.exports.bundle import BundleBuilder  # noqa: E402
from archiver.exports.destination import DirectoryDestination  # noqa: E402
from archiver.exports.items import ExportItem, collector_paused  # noqa: E402
from archiver.exports.monthly import Month, bundle_key, month_items  # noqa: E402
from storage.records import new_record  # noqa: E402
from storage.runs import RunWriter, list_runs  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "samples"
ACCOUNT, ACCOUNT_ID = "ExampleshirePolice", "1001"
MONTH = Month(2024, 3)
_EPOCH_MS = 1288834974657
MEDIA_BYTES = 60_000  # a photo (random bytes: as incompressible as a JPEG)


def sample_texts() -> list[str]:
    texts = []
    for path in (SAMPLES / "archive-2026-03_milahu104" / "data").glob("*tweets.js"):
        data = path.read_text(encoding="utf-8")
        texts += [e["tweet"]["full_text"] for e in json.loads(data[data.index("=") + 1 :])]
    for path in (SAMPLES / "api-v2" / "twarc-csv").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            texts += [t["text"] for t in json.loads(line).get("data", []) if "text" in t]
    return texts or ["Road closed on the A38 near Exeter after a collision. Please avoid."]


def snowflake(when: dt.datetime, seq: int) -> str:
    ms = int(when.timestamp() * 1000) - _EPOCH_MS
    return str((ms << 22) | (seq & 0x3FFFFF))


def iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def post(
    rng: random.Random,
    texts: list[str],
    when: dt.datetime,
    seq: int,
    *,
    kind: str = "post",
    author: dict | None = None,
    edits: list[str] | None = None,
    suffix: str = "",
) -> dict:
    pid = snowflake(when, seq)
    text = f"{rng.choice(texts)} #{rng.choice(['Appeal', 'RoadSafety', 'Exeter', 'Plymouth'])}"
    text += suffix
    author = author or {"id": ACCOUNT_ID, "username": ACCOUNT, "name": "Exampleshire Police"}
    metrics = {
        "retweet_count": rng.randint(0, 50),
        "reply_count": rng.randint(0, 20),
        "like_count": rng.randint(0, 300),
        "quote_count": rng.randint(0, 5),
    }
    edit_ids = edits or [pid]
    raw = {
        "id": pid,
        "text": text,
        "author_id": author["id"],
        "created_at": iso(when),
        "conversation_id": pid,
        "lang": "en",
        "public_metrics": metrics,
        "edit_history_tweet_ids": edit_ids,
        "reply_settings": "everyone",
        "entities": {
            "hashtags": [{"start": len(text) - 12, "end": len(text), "tag": "Appeal"}],
            "urls": [
                {
                    "url": "https://t.co/abcdEFGH12",
                    "expanded_url": f"https://www.example.police.uk/news/{seq}",
                    "start": 0,
                    "end": 23,
                }
            ],
        },
        "source": "Twitter Web App",
    }
    return new_record(
        id=pid,
        kind=kind,
        account=ACCOUNT,
        account_id=ACCOUNT_ID,
        author=author,
        created_at=iso(when),
        text=text,
        lang="en",
        conversation_id=pid,
        hashtags=["Appeal"],
        urls=[f"https://www.example.police.uk/news/{seq}"],
        metrics=metrics,
        edit_history_ids=edit_ids,
        source="x-api-v2",
        captured_at=iso(when + dt.timedelta(days=2)),
        raw=raw,
    )


def build_archive(root: Path, posts: int) -> Archive:
    rng = random.Random(42)
    texts = sample_texts()
    archive = Archive(
        Config(
            storage=StorageConfig(path=str(root / "store")),
            export=ExportConfig(
                destination=str(root / "records"),
                organisation="Exampleshire Police",
                retention_code="COMMS-07",
                classification="OFFICIAL",
            ),
        )
    )
    start, seconds = MONTH.start, int((MONTH.end - MONTH.start).total_seconds())
    month_posts = [
        post(rng, texts, start + dt.timedelta(seconds=rng.randrange(seconds)), i)
        for i in range(posts)
    ]
    earlier = [
        post(rng, texts, start - dt.timedelta(seconds=rng.randrange(seconds)), posts + i)
        for i in range(posts // 10)
    ]
    with RunWriter(
        archive.store,
        account_id=ACCOUNT_ID,
        account=ACCOUNT,
        kind="import",
        source="x-api-v2",
        tool_version="bench",
    ) as run:
        for rec in earlier + month_posts:
            run.write(rec)
        run.commit()
    with RunWriter(
        archive.store,
        account_id=ACCOUNT_ID,
        account=ACCOUNT,
        kind="incremental",
        source="x-api-v2",
        tool_version="bench",
    ) as run:
        for i, rec in enumerate(rng.sample(month_posts, posts // 100)):
            when = dt.datetime.fromisoformat(rec["created_at"].replace("Z", "+00:00"))
            edited = post(
                rng,
                texts,
                when + dt.timedelta(minutes=5),
                2 * posts + i,
                edits=[rec["id"]],
                suffix=" (corrected)",
            )
            edited["edit_history_ids"] = [rec["id"], edited["id"]]
            edited["raw"]["edit_history_tweet_ids"] = edited["edit_history_ids"]
            run.write(edited)
        for rec in rng.sample(month_posts, posts // 200):
            run.write(
                {
                    "type": "deleted",
                    "collection": "tweets",
                    "id": rec["id"],
                    "at": iso(MONTH.end - dt.timedelta(hours=3)),
                },
                collection="events",
            )
        for i in range(posts // 10):
            who = {"id": str(5_000_000 + i), "username": f"member{i}", "name": f"Member {i}"}
            when = start + dt.timedelta(seconds=rng.randrange(seconds))
            run.write(post(rng, texts, when, 3 * posts + i, kind="mention", author=who))
        for rec in month_posts[: max(1, posts // 250)]:
            run.add_bytes(f"media/{rec['id']}-photo.jpg", rng.randbytes(MEDIA_BYTES))
        run.commit()
    return archive


def gzip_baseline(items: list[ExportItem], dest: Path) -> tuple[float, int]:
    t = time.perf_counter()
    with gzip.open(dest, "wb", compresslevel=6) as out:
        for item in items:
            for rec in item.versions:
                out.write(orjson.dumps(rec) + b"\n")
    return time.perf_counter() - t, dest.stat().st_size


def export_once(archive: Archive, work: Path, rep: int) -> dict:
    """export_month's steps, timed one by one, under the same collector pause as the product."""
    with collector_paused():
        return _export_once(archive, work, rep)


def _export_once(archive: Archive, work: Path, rep: int) -> dict:
    ref = archive.accounts()[0]
    t0 = time.perf_counter()
    manifests = list_runs(archive.store, ref.account_id)
    items = month_items(archive.store, ref.account_id, manifests, MONTH)
    t1 = time.perf_counter()
    with BundleBuilder(
        archive.store, manifests, name=f"{ref.username}-{MONTH}", kind="monthly", workdir=work
    ) as builder:
        builder.write_items(items, title=f"@{ref.username}: {MONTH}", summary=[])
        newest = max(
            dt.datetime.fromisoformat(m.committed_at.replace("Z", "+00:00")) for m in manifests
        )
        bundle = builder.build({"Source-Organization": "Exampleshire Police"}, bagging_date=newest)
        t2 = time.perf_counter()
        dest = DirectoryDestination(work / f"records-{rep}")
        delivery = dest.deliver(bundle, bundle_key(ref, MONTH))
        t3 = time.perf_counter()
    base_seconds, base_size = gzip_baseline(items, work / f"baseline-{rep}.jsonl.gz")
    return {
        "items": bundle.items,
        "versions": bundle.versions,
        "bundle_bytes": bundle.size,
        "sha256": bundle.sha256,
        "path": delivery.url,
        "load_s": t1 - t0,
        "build_s": t2 - t1,
        "deliver_s": t3 - t2,
        "total_s": t3 - t0,
        "baseline_s": base_seconds,
        "baseline_bytes": base_size,
        "media_files": builder.media_files,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    proc = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        archive = build_archive(root, args.posts)
        print(f"archive built in {time.perf_counter() - t:.1f}s", flush=True)
        runs = []
        for rep in range(args.repeat):
            r = export_once(archive, root, rep)
            runs.append(r)
            print(
                f"run {rep + 1}: {r['versions']} versions, load {r['load_s']:.1f}s, build "
                f"{r['build_s']:.1f}s, deliver {r['deliver_s']:.2f}s, baseline "
                f"{r['baseline_s']:.1f}s, {r['bundle_bytes'] / 1e6:.1f} MB",
                flush=True,
            )
        identical = len({r["sha256"] for r in runs}) == 1
        check = root / "check"
        with zipfile.ZipFile(runs[0]["path"]) as zf:
            zf.extractall(check)
        bagit.Bag(str(next(check.iterdir()))).validate(processes=1)
        peak_rss = proc.memory_info().rss

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    versions = runs[0]["versions"]
    result = {
        "posts_in_month": args.posts,
        "items": runs[0]["items"],
        "versions": versions,
        "media_files": runs[0]["media_files"],
        "repeat": args.repeat,
        "median_seconds": {
            k: round(med(k), 3) for k in ("load_s", "build_s", "deliver_s", "total_s", "baseline_s")
        },
        "build_records_per_s": round(versions / med("build_s")),
        "end_to_end_records_per_s": round(versions / med("total_s")),
        "baseline_records_per_s": round(versions / med("baseline_s")),
        "build_vs_baseline": round(med("build_s") / med("baseline_s"), 2),
        "bundle_bytes": runs[0]["bundle_bytes"],
        "of_which_media_bytes": runs[0]["media_files"] * MEDIA_BYTES,
        "baseline_gzip_jsonl_bytes": runs[0]["baseline_bytes"],
        "bundle_vs_baseline_size": round(runs[0]["bundle_bytes"] / runs[0]["baseline_bytes"], 2),
        "byte_identical_across_runs": identical,
        "bagit_valid": True,
        "peak_rss_mb": round(peak_rss / 1e6),
        "cpu": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    out = ROOT / "ops" / "bench" / "results" / "exports.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
