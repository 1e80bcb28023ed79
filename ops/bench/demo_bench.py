"""Benchmark: generating the demo archive ZIP and mentions JSONL at quick-start and large sizes.

    .venv/bin/python ops/bench/demo_bench.py [--sizes 3000,100000] [--repeat 3]

Each measurement runs in a fresh subprocess, so its peak RSS is its own. For every size:
`write_demo_archive` (wall time, ZIP and uncompressed size, peak RSS) and
`write_demo_mentions_jsonl` (wall time, size, peak RSS).

Baselines, measured in the same run on the very bytes just generated, loaded into memory
first (not timed): packing the ZIP's entries again with the same deflate settings (the least
any generator must spend to produce that ZIP), and `json.dumps` of the same mentions pages to
a file. The ratios generate/baseline are the cost of inventing the content on top of writing
it. Medians are reported; results go to ops/bench/results/demo.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _child(task: str, posts: int, path: str) -> dict:
    """One measurement inside this (fresh) process."""
    from archiver.demo import write_demo_archive, write_demo_mentions_jsonl

    out: dict = {}
    if task == "zip":
        started = time.perf_counter()
        summary = write_demo_archive(path, posts=posts, overwrite=True)
        out["seconds"] = time.perf_counter() - started
        with zipfile.ZipFile(path) as zf:
            out["uncompressed_mb"] = sum(i.file_size for i in zf.infolist()) / 1e6
        out["mb"] = summary.size_bytes / 1e6
    elif task == "zip-baseline":
        with zipfile.ZipFile(path) as zf:
            entries = [(info, zf.read(info)) for info in zf.infolist()]
        started = time.perf_counter()
        with zipfile.ZipFile(path + ".again", "w") as again:
            for info, data in entries:
                again.writestr(info, data)
        out["seconds"] = time.perf_counter() - started
    elif task == "jsonl":
        started = time.perf_counter()
        summary = write_demo_mentions_jsonl(path, posts=posts, overwrite=True)
        out["seconds"] = time.perf_counter() - started
        out["mb"] = Path(path).stat().st_size / 1e6
        out["mentions"] = summary.mentions
    elif task == "jsonl-baseline":
        pages = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
        started = time.perf_counter()
        with open(path + ".again", "w", encoding="utf-8") as fh:
            for page in pages:
                fh.write(json.dumps(page) + "\n")
        out["seconds"] = time.perf_counter() - started
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _measure(task: str, posts: int, path: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", task, str(posts), path],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout)


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def bench(sizes: list[int], repeat: int) -> dict:
    results: dict = {"repeat": repeat, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for posts in sizes:
            zip_path, jsonl_path = f"{tmp}/demo-{posts}.zip", f"{tmp}/mentions-{posts}.jsonl"
            runs = {t: [] for t in ("zip", "zip-baseline", "jsonl", "jsonl-baseline")}
            for _ in range(repeat):
                for task in runs:
                    path = zip_path if task.startswith("zip") else jsonl_path
                    runs[task].append(_measure(task, posts, path))
            row = {
                "zip_s": _median(runs["zip"], "seconds"),
                "zip_mb": _median(runs["zip"], "mb"),
                "zip_uncompressed_mb": _median(runs["zip"], "uncompressed_mb"),
                "zip_peak_rss_mb": _median(runs["zip"], "peak_rss_mb"),
                "zip_baseline_s": _median(runs["zip-baseline"], "seconds"),
                "jsonl_s": _median(runs["jsonl"], "seconds"),
                "jsonl_mb": _median(runs["jsonl"], "mb"),
                "jsonl_mentions": runs["jsonl"][0]["mentions"],
                "jsonl_peak_rss_mb": _median(runs["jsonl"], "peak_rss_mb"),
                "jsonl_baseline_s": _median(runs["jsonl-baseline"], "seconds"),
            }
            row["zip_ratio_vs_baseline"] = round(row["zip_s"] / row["zip_baseline_s"], 2)
            row["jsonl_ratio_vs_baseline"] = round(row["jsonl_s"] / row["jsonl_baseline_s"], 2)
            row["posts_per_s"] = round(posts / row["zip_s"])
            results["sizes"][str(posts)] = row
            print(f"{posts:>9,} posts: {json.dumps(row)}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--child", nargs=3, metavar=("TASK", "POSTS", "PATH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        task, posts, path = args.child
        print(json.dumps(_child(task, int(posts), path)))
        return
    results = bench([int(s) for s in args.sizes.split(",")], args.repeat)
    out = ROOT / "ops" / "bench" / "results" / "demo.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
