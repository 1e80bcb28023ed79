"""Import throughput and peak memory for a demo archive, against a baseline in the same run.

    .venv/bin/python ops/bench/import_bench.py --posts 100000 --repeat 3

The baseline is the least any importer must do with the same ZIP: inflate every data file,
parse it with orjson in one go, and write each entry as gzip JSONL. Each measurement runs in
its own process so peak RSS (ru_maxrss) is that import's alone. Prints a table, writes JSON to
ops/bench/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

IMPORT = """
import resource, sys, time, json
from archiver.archive import Archive
from archiver.config import Config, StorageConfig
from archiver.imports import import_path
archive = Archive(Config(storage=StorageConfig(path=sys.argv[2])))
t = time.perf_counter()
result = import_path(archive, sys.argv[1])
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "records": result.read.total(),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BASELINE = """
import gzip, resource, sys, time, json, zipfile, orjson
t = time.perf_counter()
records = 0
with zipfile.ZipFile(sys.argv[1]) as zf, gzip.open(sys.argv[2] + ".jsonl.gz", "wb") as out:
    for name in zf.namelist():
        if name.startswith("data/") and name.endswith(".js") and name != "data/manifest.js":
            text = zf.read(name)
            for entry in orjson.loads(text[text.index(b"=") + 1:]):
                out.write(orjson.dumps(entry) + b"\\n")
                records += 1
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "records": records,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from archiver.demo import write_demo_archive

    with tempfile.TemporaryDirectory() as tmp:
        zip_path = Path(tmp, "demo.zip")
        t = time.perf_counter()
        summary = write_demo_archive(zip_path, posts=args.posts)
        gen_seconds = time.perf_counter() - t
        runs = {"import": [], "baseline": []}
        for i in range(args.repeat):
            runs["baseline"].append(measure(BASELINE, str(zip_path), f"{tmp}/base{i}"))
            runs["import"].append(measure(IMPORT, str(zip_path), f"{tmp}/store{i}"))
        zip_mb = zip_path.stat().st_size / 1e6
    table = {}
    for name, samples in runs.items():
        seconds = statistics.median(s["seconds"] for s in samples)
        records = samples[0]["records"]
        table[name] = {
            "records": records,
            "median_seconds": round(seconds, 3),
            "records_per_s": round(records / seconds),
            "peak_rss_mb": round(max(s["rss_mb"] for s in samples), 1),
        }
    ratio = table["import"]["median_seconds"] / table["baseline"]["median_seconds"]
    print(
        f"demo archive: {args.posts:,} posts, {zip_mb:.1f} MB ZIP, generated in {gen_seconds:.1f} s"
    )
    print(f"{'':10} {'records':>9} {'median s':>9} {'records/s':>10} {'peak RSS MB':>12}")
    for name, row in table.items():
        print(
            f"{name:10} {row['records']:>9,} {row['median_seconds']:>9.2f} "
            f"{row['records_per_s']:>10,} {row['peak_rss_mb']:>12.0f}"
        )
    print(f"import / baseline time: {ratio:.2f}x (median of {args.repeat})")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"import-{args.posts}.json"
    out.write_text(
        json.dumps(
            {
                "posts": args.posts,
                "zip_mb": zip_mb,
                "repeat": args.repeat,
                "results": table,
                "ratio": ratio,
                "summary": str(summary),
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
