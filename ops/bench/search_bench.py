"""Search benchmark: Whoosh index (archiver.index) vs SQLite FTS5, same corpus, same run.

    .venv/bin/python ops/bench/search_bench.py --size 100k
    .venv/bin/python ops/bench/search_bench.py --size 1M --workdir /var/tmp/bench1m --keep

Generates the seeded corpus (ops/bench/synthetic_posts.py) as runs in a local store, builds
the index with Index.rebuild and FTS5 in child processes (wall time, peak RSS of the process
tree, size on disk), times Index.update after a run of 1,000 new posts, then times each query
shape (warm: one untimed pass, then --passes timed passes; p50/p95 per pass, median of
passes). Prints a table and writes JSON to ops/bench/results/. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from fts5_baseline import Searcher as Fts5Searcher  # noqa: E402
from fts5_baseline import add_runs as fts5_add_runs  # noqa: E402
from fts5_baseline import build as fts5_build  # noqa: E402
from synthetic_posts import Corpus, write_corpus, write_new_posts  # noqa: E402

from archiver.archive import Archive  # noqa: E402
from archiver.config import Config, StorageConfig  # noqa: E402
from archiver.index import Index  # noqa: E402
from archiver.index.schema import ANALYZER, TEXT  # noqa: E402
from storage.local import LocalStore  # noqa: E402
from storage.runs import list_runs  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
TARGETS = {
    "p50_ms": 30,
    "p95_ms": 150,
    "build_s_1M": 300,
    "rss_mb": 1024,
    "incremental_s": 2,
    "index_vs_jsonl": 3,
}


# -- builds in child processes (clean memory figures) ---------------------------------------
def _child(args: list[str]) -> dict[str, Any]:
    """Run this script's build subcommand; sample the RSS of its whole process tree."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE)
    peak = 0
    watched = psutil.Process(proc.pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                tree = [watched, *watched.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    thread.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - started
    stop.set()
    thread.join()
    if proc.returncode:
        raise SystemExit(f"build {args[0]} failed ({proc.returncode})")
    result = json.loads(out)
    result.update(wall_s=round(wall, 2), peak_rss_mb=round(peak / 2**20))
    return result


def _dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_whoosh(store: str, index: str) -> None:
    archive = Archive(Config(storage=StorageConfig(path=store)))
    idx = Index(index)
    started = time.perf_counter()
    items = idx.rebuild(archive)
    report = idx.last_update
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 2),
                "items": items,
                "records": report.records,
                "rounds": report.rounds,
            }
        )
    )


def build_fts5(store: str, db: str) -> None:
    started = time.perf_counter()
    rows = fts5_build(LocalStore(store), Path(db))
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "items": rows}))


# -- queries ---------------------------------------------------------------------------------
def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(calls: list[Callable[[], Any]], passes: int, warm: bool = True) -> dict[str, float]:
    for call in calls if warm else ():  # warm: files paged in, columns and postings decoded
        call()
    p50s, p95s = [], []
    for _ in range(passes):
        samples = []
        for call in calls:
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        p50, p95 = _percentiles(samples)
        p50s.append(p50)
        p95s.append(p95)
    return {
        "p50_ms": round(statistics.median(p50s), 2),
        "p95_ms": round(statistics.median(p95s), 2),
    }


def query_shapes(corpus: Corpus, idx: Index, n: int, rng: random.Random) -> dict[str, Any]:
    """Query instances per shape, drawn from the corpus's own vocabulary and phrases."""
    vocab = corpus.vocabulary

    def df(word: str) -> int:
        stem = next(iter(ANALYZER(word))).text
        return idx._searcher().doc_frequency(TEXT, stem)

    common = vocab[:20]
    rare = rng.sample(vocab[5000:], n)
    middle = vocab[30:300]
    two = [" ".join(rng.sample(middle, 2)) for _ in range(n)]
    phrases = [rng.choice(corpus.phrases) for _ in range(n)]
    accounts = [rng.choice(corpus.accounts) for _ in range(n)]
    years = [rng.randint(2015, 2023) for _ in range(n)]
    pick = [rng.choice(middle) for _ in range(n)]
    common_n = [common[i % len(common)] for i in range(n)]
    shapes = {
        "common word": [{"q": w} for w in common_n],
        "rare word": [{"q": w} for w in rare],
        "two words": [{"q": w} for w in two],
        "phrase": [{"q": f'"{p}"'} for p in phrases],
        "word + account + 2-year range": [
            {"q": w, "account": a[1], "since": f"{y}-01-01", "until": f"{y + 2}-01-01"}
            for w, a, y in zip(pick, accounts, years, strict=True)
        ],
        "sort by date": [{"q": w, "sort": "date"} for w in pick],
        "20 highlighted hits": [{"q": w, "facets": False} for w in pick],
        "facets": [{"q": w, "highlight": False} for w in common_n],
    }
    stats = {
        "common word doc freq": [min(map(df, common)), max(map(df, common))],
        "middle word doc freq": [min(map(df, middle)), max(map(df, middle))],
        "rare word doc freq": [min(map(df, rare)), max(map(df, rare))],
    }
    return {"shapes": shapes, "stats": stats}


def fts5_call(fts: Fts5Searcher, args: dict[str, Any]) -> Callable[[], Any]:
    q = args["q"]
    match = q if q.startswith('"') else " ".join(q.split())
    return lambda: fts.search(
        match,
        account=args.get("account"),
        since=args.get("since"),
        until=args.get("until"),
        sort=args.get("sort", "relevance"),
        highlight=args.get("highlight", True),
        facets=args.get("facets", True),
    )


# -- the run -------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k", help="10k, 100k, 1M or a number of posts")
    parser.add_argument("--workdir", help="where the corpus and indexes go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir afterwards")
    parser.add_argument("--queries", type=int, default=200, help="instances per query shape")
    parser.add_argument("--passes", type=int, default=3, help="timed passes per shape")
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument(
        "--reuse-builds",
        action="store_true",
        help="with --workdir of an earlier --keep run: measure the queries "
        "again on its indexes (after a query-side change)",
    )
    opts = parser.parse_args()
    size = SIZES.get(opts.size) or int(opts.size)
    work = Path(opts.workdir or tempfile.mkdtemp(prefix="search-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = run(size, work, opts)
    finally:
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "ops" / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    results["measured_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = out / f"search-{opts.size}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_table(results)
    print(f"\nwritten: {path.relative_to(ROOT)}")


def _corpus_progress(done: int, total: int) -> None:
    if done * 100 // total != (done - 1) * 100 // total or done == total:
        print(f"\rcorpus {done:,}/{total:,}", end="", file=sys.stderr)


def run(size: int, work: Path, opts: argparse.Namespace) -> dict[str, Any]:
    store_path, index_path, fts_path = work / "store", work / "index", work / "fts5.db"
    store = LocalStore(store_path)
    corpus_file = work / "corpus.json"
    if corpus_file.exists():
        corpus = Corpus(**json.loads(corpus_file.read_text()))
    else:
        started = time.perf_counter()
        corpus = write_corpus(store, Corpus.make(opts.seed), size, progress=_corpus_progress)
        print(f"\ncorpus written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        corpus_file.write_text(json.dumps(corpus.__dict__))
    builds_file = work / "builds.json"
    if opts.reuse_builds and builds_file.exists() and index_path.exists() and fts_path.exists():
        print("reusing the indexes built by an earlier run", file=sys.stderr)
        whoosh, fts5 = json.loads(builds_file.read_text())
    else:
        for stale in (index_path, fts_path):
            if stale.exists():
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        print("building whoosh...", file=sys.stderr)
        whoosh = _child(["_build-whoosh", str(store_path), str(index_path)])
        whoosh["size_mb"] = round(_dir_size(index_path) / 2**20, 1)
        print("building fts5...", file=sys.stderr)
        fts5 = _child(["_build-fts5", str(store_path), str(fts_path)])
        fts5["size_mb"] = round(_dir_size(fts_path) / 2**20, 1)
        for built in (whoosh, fts5):
            built["posts_per_s"] = round(corpus.posts / built["seconds"])
        builds_file.write_text(json.dumps([whoosh, fts5]))

    archive = Archive(Config(storage=StorageConfig(path=str(store_path))))
    idx = Index(index_path)
    uncached = Index(index_path, cache_mb=0)  # every query decodes its words' postings
    incremental, fts_incremental = [], []
    for i in range(3):
        write_new_posts(store, corpus, corpus.accounts[i], 1000, seed=opts.seed + 100 + i)
        started = time.perf_counter()
        idx.update(archive)
        incremental.append(time.perf_counter() - started)
        started = time.perf_counter()
        fts5_add_runs(fts_path, store, list_runs(store)[-1:])
        fts_incremental.append(time.perf_counter() - started)

    print("querying...", file=sys.stderr)
    rng = random.Random(opts.seed + 7)
    plan = query_shapes(corpus, idx, opts.queries, rng)
    fts = Fts5Searcher(fts_path)
    queries: dict[str, Any] = {}
    for name, instances in plan["shapes"].items():
        full = [lambda a=a: idx.search(**a) for a in instances]
        bare = [
            lambda a=a: idx.search(**{**a, "highlight": False, "facets": False}) for a in instances
        ]
        cold = [lambda a=a: uncached.search(**a) for a in instances]
        queries[name] = {
            "whoosh": timed(full, opts.passes),
            "whoosh (no highlights, no facets)": timed(bare, opts.passes),
            "whoosh (no postings cache)": timed(cold, 1, warm=False),
            "fts5": timed([fts5_call(fts, a) for a in instances], opts.passes),
        }
        print(f"  {name}: {queries[name]['whoosh']}", file=sys.stderr)
    return {
        "size": corpus.posts,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "corpus": {
            "runs": corpus.runs,
            "records": corpus.records,
            "jsonl_mb": round(corpus.jsonl_bytes / 2**20, 1),
            "jsonl_gz_mb": round(corpus.gzip_bytes / 2**20, 1),
            **plan["stats"],
        },
        "build": {"whoosh": whoosh, "fts5": fts5},
        "incremental_1000_s": {
            "whoosh": round(statistics.median(incremental), 3),
            "fts5": round(statistics.median(fts_incremental), 3),
        },
        "queries": queries,
        "query_process": {
            "postings_cache_mb": round(idx._postings.bytes / 2**20, 1),
            "rss_mb": round(psutil.Process().memory_info().rss / 2**20),
        },
        "targets": TARGETS,
    }


def print_table(r: dict[str, Any]) -> None:
    b, c = r["build"], r["corpus"]
    print(
        f"\n{r['size']:,} posts, {c['runs']} runs, JSONL {c['jsonl_mb']} MB "
        f"({c['jsonl_gz_mb']} MB gzip), {r['machine']['cpus']} cpus"
    )
    print(
        f"{'engine':<8} {'build s':>8} {'posts/s':>8} {'index MB':>9} {'x JSONL':>8} "
        f"{'peak RSS MB':>12} {'+1,000 posts s':>15}"
    )
    for name in ("whoosh", "fts5"):
        e = b[name]
        print(
            f"{name:<8} {e['seconds']:>8} {e['posts_per_s']:>8,} {e['size_mb']:>9} "
            f"{e['size_mb'] / c['jsonl_mb']:>8.2f} {e['peak_rss_mb']:>12} "
            f"{r['incremental_1000_s'][name]:>15}"
        )
    print(
        f"\n{'query p50 / p95 ms':<32} {'whoosh (UI call)':>18} {'whoosh bare':>14} "
        f"{'no cache':>16} {'fts5':>14} {'ratio p50':>9}"
    )
    for name, q in r["queries"].items():
        w, bare, f = q["whoosh"], q["whoosh (no highlights, no facets)"], q["fts5"]
        cold = q.get("whoosh (no postings cache)", {"p50_ms": "-", "p95_ms": "-"})
        ratio = w["p50_ms"] / f["p50_ms"] if f["p50_ms"] else float("inf")
        print(
            f"{name:<32} {w['p50_ms']:>8} / {w['p95_ms']:<7} {bare['p50_ms']:>6} / "
            f"{bare['p95_ms']:<6} {cold['p50_ms']:>7} / {cold['p95_ms']:<7} "
            f"{f['p50_ms']:>6} / {f['p95_ms']:<6} {ratio:>8.2f}x"
        )
    if "query_process" in r:
        p = r["query_process"]
        print(f"\nquery process: RSS {p['rss_mb']} MB, postings cache {p['postings_cache_mb']} MB")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_build-whoosh":
        build_whoosh(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "_build-fts5":
        build_fts5(sys.argv[2], sys.argv[3])
    else:
        main()
