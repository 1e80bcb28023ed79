"""Import throughput and peak memory for every source format, each against its own baseline
in the same run.

    nice -n 10 .venv/bin/python ops/bench/import_bench.py --posts 100000 --repeat 3
    # before / after in the same run: another checkout's importer beside this one's
    git worktree add /tmp/before main
    nice -n 10 .venv/bin/python ops/bench/import_bench.py --posts 20000 --compare /tmp/before

Formats: the 2020+ ZIP (the demo generator's archive), the 2018 ZIP (its tweets as bare
objects in a root `tweet.js`), the classic archive (`data/js/tweets/YYYY_MM.js` month files,
`tweet_index.js`, `user_details.js`) and twarc2 JSONL (the demo's mentions, one API page a
line). The 2018 and classic layouts are made from the 2020+ archive's posts, so every format
carries the same texts. The baseline is the least an importer must do with the same file:
read it, parse each data file (or line) with orjson, write each entry as gzip JSONL. Each
measurement runs in its own process (peak RSS is that import's alone; process CPU time is
reported beside the wall time, since the machine may be shared); the import runs with
`--no-index` semantics (no index update), the load average is recorded around each format.

Two CPU figures per import: the import call's own (`cpu_s`, from after the modules it names
are loaded; what earlier rounds reported) and the whole child process's (`process_cpu_s`:
interpreter start-up and every module import included, from the parent's rusage). A tiny
import of the same format (20 posts, the generator's least) measures the start-up share, so
the per-record rate is stated with it and without it. With `--compare DIR` the same sources
are also imported by the checkout in DIR (e.g. `main`, as "before"), alternating with this
one's in the same loop, and the two stores must hold the same runs: every record the same
JSON and every manifest the same except its run id and timings (`same_as_before`; the bench
stops when they differ).
Prints a table, writes JSON to ops/bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"

# this process's own peak RSS: getrusage's ru_maxrss survives exec on Linux, so a child
# measured that way reports its parent's high-water mark (every row showed the bench's own)
VM_HWM = """
def vm_hwm_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
"""

IMPORT = (
    VM_HWM
    + """
import sys, time, json
from archiver.archive import Archive
from archiver.config import Config, StorageConfig
from archiver.imports import import_path
archive = Archive(Config(storage=StorageConfig(path=sys.argv[2])))
t, c = time.perf_counter(), time.process_time()
result = import_path(archive, sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": result.read.total(),
                  "rss_mb": vm_hwm_mb()}))
"""
)

# parse + write gzip JSONL, nothing else: ZIP data files (text after "= "), or JSONL lines
BASELINE = (
    VM_HWM
    + """
import gzip, sys, time, json, zipfile, orjson
t, c = time.perf_counter(), time.process_time()
records = 0
with gzip.open(sys.argv[2] + ".jsonl.gz", "wb") as out:
    if sys.argv[1].endswith(".jsonl"):
        with open(sys.argv[1], "rb") as fh:
            for line in fh:
                for entry in orjson.loads(line).get("data", []):
                    out.write(orjson.dumps(entry) + b"\\n")
                    records += 1
    else:
        with zipfile.ZipFile(sys.argv[1]) as zf:
            for name in zf.namelist():
                if not name.endswith(".js") or name.endswith(("manifest.js", "_index.js")):
                    continue
                if name.endswith(("account.js", "profile.js", "user_details.js")):
                    continue
                if "/" in name and not name.startswith(("data/", "data/js/tweets/")):
                    continue
                text = zf.read(name)
                for entry in orjson.loads(text[text.index(b"=") + 1:]):
                    out.write(orjson.dumps(entry) + b"\\n")
                    records += 1
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": records,
                  "rss_mb": vm_hwm_mb()}))
"""
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(code: str, *args: str, root: Path = ROOT) -> dict[str, Any]:
    """Run `code` in a fresh interpreter in `root` (its `archiver` is the one imported)."""
    before = _children_cpu()
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    )
    sample: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    sample["process_cpu_s"] = _children_cpu() - before  # start-up and module imports too
    return sample


def _js(text: bytes) -> Any:
    return orjson.loads(text[text.index(b"=") + 1 :])


def _demo_posts(zf: zipfile.ZipFile) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tweets = [e["tweet"] for e in _js(zf.read("data/tweets.js"))]
    account = _js(zf.read("data/account.js"))[0]["account"]
    return tweets, account


def write_2018(src: Path, dest: Path) -> None:
    """The 2018-19 layout: data files at the root, bare tweet objects, no manifest."""
    with zipfile.ZipFile(src) as zf:
        tweets, account = _demo_posts(zf)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("tweet.js", b"window.YTD.tweet.part0 = " + orjson.dumps(tweets))
        account_js = orjson.dumps([{"account": account}])
        out.writestr("account.js", b"window.YTD.account.part0 = " + account_js)


def write_classic(src: Path, dest: Path) -> None:
    """The classic (Grailbird) layout: one JS file per month, an index, the user."""
    with zipfile.ZipFile(src) as zf:
        tweets, account = _demo_posts(zf)
    months: dict[str, list[dict[str, Any]]] = {}
    for tweet in tweets:
        when = time.strptime(tweet["created_at"], "%a %b %d %H:%M:%S +0000 %Y")
        months.setdefault(f"{when.tm_year}_{when.tm_mon:02d}", []).append(
            {**tweet, "text": tweet.get("full_text", ""), "user": {"id_str": account["accountId"]}}
        )
    index = []
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for month, posts in sorted(months.items(), reverse=True):
            name = f"data/js/tweets/{month}.js"
            year, mon = month.split("_")
            out.writestr(name, f"Grailbird.data.tweets_{month} = ".encode() + orjson.dumps(posts))
            index.append(
                {
                    "file_name": name,
                    "year": int(year),
                    "month": int(mon),
                    "tweet_count": len(posts),
                    "var_name": f"tweets_{month}",
                }
            )
        out.writestr("data/js/tweet_index.js", b"var tweet_index = " + orjson.dumps(index))
        user = {
            "id": account["accountId"],
            "screen_name": account["username"],
            "full_name": account.get("accountDisplayName", ""),
        }
        out.writestr("data/js/user_details.js", b"var user_details = " + orjson.dumps(user))


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = statistics.median(s["seconds"] for s in samples)
    cpu = statistics.median(s["cpu_s"] for s in samples)
    process_cpu = statistics.median(s["process_cpu_s"] for s in samples)
    records = samples[0]["records"]
    return {
        "records": records,
        "median_seconds": round(seconds, 3),
        "median_cpu_s": round(cpu, 3),
        "median_process_cpu_s": round(process_cpu, 3),
        "records_per_s": round(records / seconds),
        "records_per_cpu_s": round(records / cpu),
        "peak_rss_mb": round(max(s["rss_mb"] for s in samples), 1),
    }


def stored_runs(store: Path) -> list[Any]:
    """What a store's runs hold, without what differs between two imports of one source (the
    run id, the times, and so the gzip bytes' hash and size): each run's manifest and every
    record of every collection, in order."""
    import gzip

    runs = []
    for manifest_path in sorted(store.glob("accounts/*/runs/*/manifest.json")):
        manifest = orjson.loads(manifest_path.read_bytes())
        run_id = manifest.pop("run_id")
        for key in ("started_at", "committed_at"):
            manifest.pop(key, None)
        collections = {}
        for entry in manifest["objects"]:
            if entry["key"].endswith(".jsonl.gz"):
                with gzip.open(manifest_path.parent / entry["key"]) as fh:
                    lines = fh.read().replace(run_id.encode(), b"<run>").splitlines()
                collections[entry["key"]] = [orjson.loads(line) for line in lines]
                entry.pop("sha256"), entry.pop("size")
        runs.append((manifest, collections))
    return runs


def _run_format(
    name: str, path: Path, tiny: Path, tmp: str, repeat: int, compare: Path | None
) -> dict[str, Any]:
    load = os.getloadavg()[0]
    imports = {"import": ROOT, **({"before": compare} if compare else {})}
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], **{k: [] for k in imports}}
    tinies: dict[str, list[dict[str, Any]]] = {k: [] for k in imports}
    for i in range(repeat):
        runs["baseline"].append(measure(BASELINE, str(path), f"{tmp}/{name}-base{i}"))
        for what, root in imports.items():
            store = f"{tmp}/{name}-{what}-store{i}"
            runs[what].append(measure(IMPORT, str(path), store, root=root))
            tinies[what].append(measure(IMPORT, str(tiny), store + "-tiny", root=root))
    row: dict[str, Any] = {"file_mb": round(path.stat().st_size / 1e6, 1)}
    for what, samples in runs.items():
        row[what] = _summary(samples)
    base_cpu = row["baseline"]["median_cpu_s"]
    for what in imports:
        r = row[what]
        r["ratio_cpu"] = round(r["median_cpu_s"] / base_cpu, 2)
        # a process that imports nothing but a few posts: the fixed cost of any import
        startup = statistics.median(s["process_cpu_s"] for s in tinies[what])
        r["tiny_process_cpu_s"] = round(startup, 3)
        r["records_per_process_cpu_s"] = round(r["records"] / r["median_process_cpu_s"])
        per_record = max(r["median_process_cpu_s"] - startup, 1e-9)
        r["records_per_cpu_s_without_startup"] = round(r["records"] / per_record)
    row["ratio_cpu"] = row["import"]["ratio_cpu"]
    if compare:
        for i in range(repeat):
            same = stored_runs(Path(f"{tmp}/{name}-import-store{i}")) == stored_runs(
                Path(f"{tmp}/{name}-before-store{i}")
            )
            if not same:
                raise SystemExit(f"{name}: the import wrote other runs than the one in {compare}")
        row["same_as_before"] = True
    row["load_avg"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    return row


def _sources(tmp: str, posts: int, wanted: list[str], tag: str) -> dict[str, Path]:
    from archiver.demo import write_demo_archive
    from archiver.demo.mentions import write_demo_mentions_jsonl

    demo = Path(tmp, f"demo{tag}.zip")
    write_demo_archive(demo, posts=posts)
    files = {"2020+": demo}
    if "2018" in wanted:
        write_2018(demo, Path(tmp, f"2018{tag}.zip"))
        files["2018"] = Path(tmp, f"2018{tag}.zip")
    if "classic" in wanted:
        write_classic(demo, Path(tmp, f"classic{tag}.zip"))
        files["classic"] = Path(tmp, f"classic{tag}.zip")
    if "twarc2" in wanted:
        write_demo_mentions_jsonl(Path(tmp, f"mentions{tag}.jsonl"), posts=posts)
        files["twarc2"] = Path(tmp, f"mentions{tag}.jsonl")
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="2020+,2018,classic,twarc2")
    parser.add_argument(
        "--compare", type=Path, help="another checkout whose importer runs beside (before)"
    )
    args = parser.parse_args()
    wanted = args.formats.split(",")
    compare = args.compare.resolve() if args.compare else None
    table: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        files = _sources(tmp, args.posts, wanted, "")
        tiny = _sources(tmp, 20, wanted, "-tiny")
        print(f"sources written in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        for name in wanted:
            table[name] = _run_format(name, files[name], tiny[name], tmp, args.repeat, compare)
            print(f"  {name}: {table[name]['import']}", file=sys.stderr)
    print(f"\n{args.posts:,} demo posts; median of {args.repeat}; CPU = process CPU time")
    print(
        f"{'format':8} {'what':9} {'records':>9} {'wall s':>8} {'CPU s':>8} {'rec/s':>9} "
        f"{'rec/CPU-s':>10} {'peak MB':>8} {'x base (CPU)':>13} {'proc CPU s':>11} "
        f"{'tiny CPU s':>11} {'rec/CPU-s -start':>17} {'load avg':>12}"
    )
    for name, row in table.items():
        for what in ("baseline", "before", "import"):
            if what not in row:
                continue
            r = row[what]
            extra = (
                f"{r['ratio_cpu']:>13} {r['median_process_cpu_s']:>11.2f} "
                f"{r['tiny_process_cpu_s']:>11.2f} {r['records_per_cpu_s_without_startup']:>17,}"
                if what != "baseline"
                else f"{'':>13} {r['median_process_cpu_s']:>11.2f}"
            )
            if what == "import":
                extra += f" {'-'.join(map(str, row['load_avg'])):>12}"
            print(
                f"{name:8} {what:9} {r['records']:>9,} {r['median_seconds']:>8.2f} "
                f"{r['median_cpu_s']:>8.2f} {r['records_per_s']:>9,} "
                f"{r['records_per_cpu_s']:>10,} {r['peak_rss_mb']:>8.0f} {extra}"
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"import-{args.posts}.json"
    out.write_text(
        json.dumps(
            {
                "posts": args.posts,
                "repeat": args.repeat,
                "compare": str(compare or ""),
                "formats": table,
            },
            indent=2,
        )
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
