"""Search benchmark: Whoosh index (archiver.index) vs SQLite FTS5 and tantivy, same corpus,
same run.

    .venv/bin/python ops/bench/search_bench.py --size 100k
    nice -n 10 .venv/bin/python ops/bench/search_bench.py --size 1M --workdir /var/tmp/b1m --keep
    ... --workdir /var/tmp/b1m --reuse-builds [--rebuild whoosh]   # queries again / one engine

Generates the seeded corpus (ops/bench/synthetic_posts.py) as runs in a local store, builds
the index with Index.rebuild, FTS5 and tantivy (optional: `pip install tantivy`, benchmark
only) in child processes (wall time, process CPU time of the child and its workers, peak RSS
of the process tree, size on disk, load average), times Index.update after a run of 1,000
new posts, then times each query shape: warm (one untimed pass, then --passes timed passes;
p50/p95 per pass, median of passes), with no postings cache, and cold: a fresh process per
shape that opens the index and runs each distinct instance once. Prints a table and writes
JSON to ops/bench/results/. Not part of the test suite.
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

import resource  # noqa: E402

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
def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _child(args: list[str]) -> dict[str, Any]:
    """Run this script's build subcommand; sample the RSS of its whole process tree."""
    cpu, load = _children_cpu(), _load()
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
    result.update(
        wall_s=round(wall, 2),
        cpu_s=round(_children_cpu() - cpu, 2),
        peak_rss_mb=round(peak / 2**20),
        load_avg=[load, _load()],
    )
    return result


def _dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_whoosh(store: str, index: str, workers: int = 0) -> None:
    archive = Archive(Config(storage=StorageConfig(path=store)))
    idx = Index(index)
    started = time.perf_counter()
    items = idx.rebuild(archive, workers=workers)
    report = idx.last_update
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 2),
                "items": items,
                "records": report.records,
                "rounds": report.rounds,
                "workers": workers or "one per core",
            }
        )
    )


def build_fts5(store: str, db: str) -> None:
    started = time.perf_counter()
    rows = fts5_build(LocalStore(store), Path(db))
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "items": rows}))


def build_tantivy(store: str, path: str) -> None:
    import tantivy_baseline

    started = time.perf_counter()
    rows = tantivy_baseline.build(LocalStore(store), Path(path))
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "items": rows}))


def _has_tantivy() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


def cold_shape(engine: str, path: str, instances_file: str) -> None:
    """In this fresh process: open the engine's index, run each instance once; print the
    open time, the first query's time and p50/p95 over the instances, and process CPU."""
    instances = json.loads(Path(instances_file).read_text())
    cpu_total = time.process_time()
    started = time.perf_counter()
    if engine == "whoosh":
        idx = Index(path)
        idx.doc_count()  # a searcher open, as the UI's first request does
        call = idx.search
    else:
        import tantivy_baseline

        tv = tantivy_baseline.Searcher(Path(path))
        call = tv.search
    opened = (time.perf_counter() - started) * 1000
    samples, cpu = [], []
    for args in instances:
        t, c = time.perf_counter(), time.process_time()
        call(**args)
        samples.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    p50, p95 = _percentiles(samples)
    cpu50, cpu95 = _percentiles(cpu)
    print(
        json.dumps(
            {
                "open_ms": round(opened, 1),
                "first_ms": round(samples[0], 1),
                "p50_ms": round(p50, 2),
                "p95_ms": round(p95, 2),
                "cpu_p50_ms": round(cpu50, 2),
                "cpu_p95_ms": round(cpu95, 2),
                "first_cpu_ms": round(cpu[0], 1),
                "cpu_s": round(time.process_time() - cpu_total, 2),
                "queries": len(samples),
            }
        )
    )


def cold(engine: str, path: Path, instances: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    distinct = list({json.dumps(a, sort_keys=True): a for a in instances}.values())
    if engine == "tantivy":
        distinct = [_tantivy_args(a) for a in distinct]
    file = work / "cold-instances.json"
    file.write_text(json.dumps(distinct))
    out = subprocess.run(
        [sys.executable, __file__, "_cold", engine, str(path), str(file)],
        stdout=subprocess.PIPE,
        check=True,
    ).stdout
    return json.loads(out)


def _tantivy_args(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "q": args["q"],
        "account": args.get("account"),
        "since": args.get("since"),
        "until": args.get("until"),
        "sort": args.get("sort", "relevance"),
        "highlight": args.get("highlight", True),
        "facets": args.get("facets", True),
    }


# -- queries ---------------------------------------------------------------------------------
def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(calls: list[Callable[[], Any]], passes: int, warm: bool = True) -> dict[str, float]:
    for call in calls if warm else ():  # warm: files paged in, columns and postings decoded
        call()
    p50s, p95s, cpu50s, cpu95s = [], [], [], []
    for _ in range(passes):
        samples, cpu = [], []
        for call in calls:
            started, cpu_started = time.perf_counter(), time.process_time()
            call()
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        p50, p95 = _percentiles(samples)
        p50s.append(p50)
        p95s.append(p95)
        cpu50, cpu95 = _percentiles(cpu)
        cpu50s.append(cpu50)
        cpu95s.append(cpu95)
    # process CPU beside wall time: on a shared machine the wall time is mostly waiting
    return {
        "p50_ms": round(statistics.median(p50s), 2),
        "p95_ms": round(statistics.median(p95s), 2),
        "cpu_p50_ms": round(statistics.median(cpu50s), 2),
        "cpu_p95_ms": round(statistics.median(cpu95s), 2),
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
    parser.add_argument(
        "--rebuild",
        default="",
        help="with --reuse-builds: engines to build again (comma-separated: whoosh,fts5,tantivy)",
    )
    parser.add_argument(
        "--query-engines",
        default="whoosh,fts5,tantivy",
        help="engines whose queries are timed (comma-separated; e.g. whoosh,tantivy to leave "
        "out FTS5's slow frequent-word queries when only the Whoosh goals are re-measured)",
    )
    parser.add_argument(
        "--rebuild-workers",
        type=int,
        default=0,
        help="processes the Whoosh rebuild uses (index.rebuild_workers; 0: one per core)",
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
    tantivy_path = work / "tantivy"
    builds_file = work / "builds.json"
    paths = {"whoosh": index_path, "fts5": fts_path, "tantivy": tantivy_path}
    engines = ["whoosh", "fts5", *(["tantivy"] if _has_tantivy() else [])]
    builds: dict[str, Any] = {}
    if opts.reuse_builds and builds_file.exists():
        builds = json.loads(builds_file.read_text())
        if isinstance(builds, list):  # an older run's file: [whoosh, fts5]
            builds = dict(zip(("whoosh", "fts5"), builds, strict=True))
    again = set(filter(None, opts.rebuild.split(",")))
    for engine in engines:
        if engine in builds and engine not in again and paths[engine].exists():
            print(f"reusing the {engine} index built by an earlier run", file=sys.stderr)
            continue
        stale = paths[engine]
        if stale.exists():
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        print(f"building {engine}...", file=sys.stderr)
        workers = [str(opts.rebuild_workers)] if engine == "whoosh" else []
        built = _child([f"_build-{engine}", str(store_path), str(stale), *workers])
        built["size_mb"] = round(_dir_size(stale) / 2**20, 1)
        built["posts_per_s"] = round(corpus.posts / built["seconds"])
        builds[engine] = built
        builds_file.write_text(json.dumps(builds))

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
    timed_engines = set(opts.query_engines.split(","))
    fts = Fts5Searcher(fts_path) if "fts5" in timed_engines else None
    tv = None
    if "tantivy" in builds and "tantivy" in timed_engines:
        import tantivy_baseline

        tv = tantivy_baseline.Searcher(tantivy_path)
    queries: dict[str, Any] = {}
    query_cpu, query_load = time.process_time(), _load()
    for name, instances in plan["shapes"].items():
        # cold first: a fresh process per shape, before this one has paged anything in
        queries[name] = {"whoosh (cold process)": cold("whoosh", index_path, instances, work)}
        if tv is not None:
            queries[name]["tantivy (cold process)"] = cold("tantivy", tantivy_path, instances, work)
        full = [lambda a=a: idx.search(**a) for a in instances]
        bare = [
            lambda a=a: idx.search(**{**a, "highlight": False, "facets": False}) for a in instances
        ]
        uncached_calls = [lambda a=a: uncached.search(**a) for a in instances]
        queries[name].update(
            {
                "whoosh": timed(full, opts.passes),
                "whoosh (no highlights, no facets)": timed(bare, opts.passes),
                "whoosh (no postings cache)": timed(uncached_calls, 1, warm=False),
            }
        )
        if fts is not None:
            queries[name]["fts5"] = timed([fts5_call(fts, a) for a in instances], opts.passes)
        if tv is not None:
            tv_args = [_tantivy_args(a) for a in instances]
            calls = [lambda a=a: tv.search(**a) for a in tv_args]
            queries[name]["tantivy"] = timed(calls, opts.passes)
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
        "build": builds,
        "incremental_1000_s": {
            "whoosh": round(statistics.median(incremental), 3),
            "fts5": round(statistics.median(fts_incremental), 3),
        },
        "queries": queries,
        "query_process": {
            "postings_cache_mb": round(idx._postings.bytes / 2**20, 1),
            "rss_mb": round(psutil.Process().memory_info().rss / 2**20),
            "cpu_s": round(time.process_time() - query_cpu, 1),
            "load_avg": [query_load, _load()],
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
        f"{'engine':<8} {'build s':>8} {'CPU s':>8} {'posts/s':>8} {'index MB':>9} "
        f"{'x JSONL':>8} {'peak RSS MB':>12} {'load avg':>12} {'+1,000 posts s':>15}"
    )
    for name, e in b.items():
        load = "-".join(str(x) for x in e.get("load_avg", []))
        print(
            f"{name:<8} {e['seconds']:>8} {e.get('cpu_s', '-'):>8} {e['posts_per_s']:>8,} "
            f"{e['size_mb']:>9} {e['size_mb'] / c['jsonl_mb']:>8.2f} {e['peak_rss_mb']:>12} "
            f"{load:>12} {r['incremental_1000_s'].get(name, '-'):>15}"
        )
    columns = [
        ("whoosh", "whoosh (UI call)"),
        ("whoosh (no highlights, no facets)", "whoosh bare"),
        ("whoosh (no postings cache)", "no cache"),
        ("whoosh (cold process)", "cold process"),
        ("fts5", "fts5"),
        ("tantivy", "tantivy"),
        ("tantivy (cold process)", "tantivy cold"),
    ]
    print(f"\n{'query p50 / p95 ms':<30}" + "".join(f"{t:>18}" for _, t in columns))
    for name, q in r["queries"].items():
        cells = []
        for key, _ in columns:
            m = q.get(key)
            cells.append(f"{m['p50_ms']:>8} / {m['p95_ms']:<7}" if m else f"{'-':>18}")
        print(f"{name:<30}" + "".join(f"{cell:>18}" for cell in cells))
    print(f"\n{'process CPU p50 / p95 ms':<30}" + "".join(f"{t:>18}" for _, t in columns))
    for name, q in r["queries"].items():
        cells = []
        for key, _ in columns:
            m = q.get(key)
            ok = m and "cpu_p50_ms" in m
            cells.append(f"{m['cpu_p50_ms']:>8} / {m['cpu_p95_ms']:<7}" if ok else f"{'-':>18}")
        print(f"{name:<30}" + "".join(f"{cell:>18}" for cell in cells))
    print(f"\n{'cold process':<30} {'open ms':>8} {'first query ms':>15}")
    for name, q in r["queries"].items():
        m = q.get("whoosh (cold process)")
        if m:
            print(f"{name:<30} {m['open_ms']:>8} {m['first_ms']:>15}")
    if "query_process" in r:
        p = r["query_process"]
        print(
            f"\nquery process: RSS {p['rss_mb']} MB, postings cache {p['postings_cache_mb']} MB, "
            f"CPU {p.get('cpu_s', '-')} s, load average {p.get('load_avg', '-')}"
        )


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "_build-whoosh":
        build_whoosh(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) == 5 else 0)
    elif len(sys.argv) == 4 and sys.argv[1] == "_build-fts5":
        build_fts5(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "_build-tantivy":
        build_tantivy(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "_cold":
        cold_shape(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
