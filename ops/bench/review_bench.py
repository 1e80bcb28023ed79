"""Benchmark: the follower review of the demo account (what the account page, its CSV and
`archiver followers review` compute).

    nice -n 10 .venv/bin/python ops/bench/review_bench.py [--posts 3000] [--repeat 3] [--workdir D]

Builds the demo archive once (`archiver demo`'s sources and imports; `--workdir` keeps and
reuses it), then measures CPU seconds (process time, so other load on the machine counts
less) of:
- the baseline, in the same run: reading the account's runs into the merged view
  (`merge_runs`), which any review must do;
- `review()` the first time in a fresh process (the imitation check's cache empty), and again.
Medians are reported with the ratios to the baseline and the load average; results go to
ops/bench/results/review.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from archiver.followers import SECTIONS  # noqa: E402


def _archive(workdir: Path):
    from archiver.archive import Archive
    from archiver.config import Config, IndexConfig, StorageConfig

    return Archive(
        Config(
            storage=StorageConfig(path=str(workdir / "store")),
            index=IndexConfig(path=str(workdir / "index")),
        )
    )


def _child(workdir: Path) -> dict:
    """One fresh process: the baseline, the first review, the review again (CPU seconds)."""
    from archiver.followers import review
    from storage.runs import list_runs
    from storage.view import merge_runs

    archive = _archive(workdir)
    ref = archive.find_account("ExampleshirePolice")
    assert ref is not None
    started = time.process_time()
    merge_runs(archive.store, list_runs(archive.store, ref.account_id))
    baseline = time.process_time() - started
    started = time.process_time()
    first = review(archive, ref)
    cold = time.process_time() - started
    started = time.process_time()
    review(archive, ref)
    warm = time.process_time() - started
    doc = first.to_dict()
    return {
        "baseline": baseline,
        "cold": cold,
        "warm": warm,
        "counts": {k: v if isinstance(v, int) else len(v) for k, v in doc.items() if k in _KEYS},
    }


_KEYS = ("followers", "following", *SECTIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="review-bench-"))
    if not (workdir / "store").exists():
        from archiver.quickstart import run_demo

        run_demo(_archive(workdir), posts=args.posts, seed=7, say=lambda _line: None)
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, __file__, "--child", str(workdir)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(args.repeat)
    ]
    medians = {k: statistics.median(r[k] for r in runs) for k in ("baseline", "cold", "warm")}
    result = {
        "posts": args.posts,
        "repeat": args.repeat,
        "cpu_seconds": medians,
        "cold_vs_baseline": medians["cold"] / medians["baseline"],
        "warm_vs_baseline": medians["warm"] / medians["baseline"],
        "counts": runs[0]["counts"],
        "load_average": os.getloadavg(),
    }
    out = ROOT / "ops" / "bench" / "results" / "review.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
