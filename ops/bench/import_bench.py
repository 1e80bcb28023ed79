"""Import throughput and peak memory for every source format, each against its own baseline
in the same run.

    nice -n 10 .venv/bin/python ops/bench/import_bench.py --posts 100000 --repeat 3

Formats: the 2020+ ZIP (the demo generator's archive), the 2018 ZIP (its tweets as bare
objects in a root `tweet.js`), the classic archive (`data/js/tweets/YYYY_MM.js` month files,
`tweet_index.js`, `user_details.js`) and twarc2 JSONL (the demo's mentions, one API page a
line). The 2018 and classic layouts are made from the 2020+ archive's posts, so every format
carries the same texts. The baseline is the least an importer must do with the same file:
read it, parse each data file (or line) with orjson, write each entry as gzip JSONL. Each
measurement runs in its own process (peak RSS is that import's alone; process CPU time is
reported beside the wall time, since the machine may be shared); the import runs with
`--no-index` semantics (no index update), the load average is recorded around each format.
Prints a table, writes JSON to ops/bench/results/.
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

IMPORT = VM_HWM + """
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

# parse + write gzip JSONL, nothing else: ZIP data files (text after "= "), or JSONL lines
BASELINE = VM_HWM + """
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


def measure(code: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


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


def _run_format(name: str, path: Path, tmp: str, repeat: int) -> dict[str, Any]:
    load = os.getloadavg()[0]
    runs: dict[str, list[dict[str, Any]]] = {"import": [], "baseline": []}
    for i in range(repeat):
        runs["baseline"].append(measure(BASELINE, str(path), f"{tmp}/{name}-base{i}"))
        runs["import"].append(measure(IMPORT, str(path), f"{tmp}/{name}-store{i}"))
    row: dict[str, Any] = {"file_mb": round(path.stat().st_size / 1e6, 1)}
    for what, samples in runs.items():
        seconds = statistics.median(s["seconds"] for s in samples)
        cpu = statistics.median(s["cpu_s"] for s in samples)
        records = samples[0]["records"]
        row[what] = {
            "records": records,
            "median_seconds": round(seconds, 3),
            "median_cpu_s": round(cpu, 3),
            "records_per_s": round(records / seconds),
            "records_per_cpu_s": round(records / cpu),
            "peak_rss_mb": round(max(s["rss_mb"] for s in samples), 1),
        }
    row["ratio_cpu"] = round(row["import"]["median_cpu_s"] / row["baseline"]["median_cpu_s"], 2)
    row["load_avg"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="2020+,2018,classic,twarc2")
    args = parser.parse_args()
    from archiver.demo import write_demo_archive
    from archiver.demo.mentions import write_demo_mentions_jsonl

    wanted = args.formats.split(",")
    table: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp, "demo.zip")
        started = time.perf_counter()
        write_demo_archive(demo, posts=args.posts)
        files = {"2020+": demo}
        if "2018" in wanted:
            write_2018(demo, Path(tmp, "2018.zip"))
            files["2018"] = Path(tmp, "2018.zip")
        if "classic" in wanted:
            write_classic(demo, Path(tmp, "classic.zip"))
            files["classic"] = Path(tmp, "classic.zip")
        if "twarc2" in wanted:
            write_demo_mentions_jsonl(Path(tmp, "mentions.jsonl"), posts=args.posts)
            files["twarc2"] = Path(tmp, "mentions.jsonl")
        print(f"sources written in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        for name in wanted:
            table[name] = _run_format(name, files[name], tmp, args.repeat)
            print(f"  {name}: {table[name]['import']}", file=sys.stderr)
    print(f"\n{args.posts:,} demo posts; median of {args.repeat}; CPU = process CPU time")
    print(
        f"{'format':8} {'what':9} {'records':>9} {'wall s':>8} {'CPU s':>8} {'rec/s':>9} "
        f"{'rec/CPU-s':>10} {'peak MB':>8} {'x base (CPU)':>13} {'load avg':>12}"
    )
    for name, row in table.items():
        for what in ("baseline", "import"):
            r = row[what]
            extra = (
                f"{row['ratio_cpu']:>13} {'-'.join(map(str, row['load_avg'])):>12}"
                if what == "import"
                else ""
            )
            print(
                f"{name:8} {what:9} {r['records']:>9,} {r['median_seconds']:>8.2f} "
                f"{r['median_cpu_s']:>8.2f} {r['records_per_s']:>9,} "
                f"{r['records_per_cpu_s']:>10,} {r['peak_rss_mb']:>8.0f} {extra}"
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"import-{args.posts}.json"
    out.write_text(
        json.dumps({"posts": args.posts, "repeat": args.repeat, "formats": table}, indent=2)
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
