"""Mastodon import and capture throughput, each against its own baseline in the same run.

    nice -n 10 .venv/bin/python ops/bench/mastodon_bench.py --statuses 5000 --repeat 3

Import: the demo force's account archive ZIP (archiver/demo/mastodon.py) with `--statuses`
activities, imported by `import_path` into a fresh local store; the baseline reads the same
ZIP, parses outbox.json, likes.json and bookmarks.json with orjson and writes every item as
gzip JSONL, nothing else.

Capture: a full backup of an account with `--capture-statuses` statuses from the Mastodon API
double (tests/platforms/mastodon/mastodon_double.py, served from this process on 127.0.0.1)
through Mastodon.py, media off; the baseline walks the same timeline with plain `requests`
(following the Link headers), parses each page with orjson and writes each status as gzip
JSONL. Each measurement runs in its own process (CPU seconds are that process's alone; the
double's serving is not in them); medians of `--repeat` runs, the load average beside. Prints a
table, writes JSON to ops/bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "platforms" / "mastodon"))
RESULTS = Path(__file__).resolve().parent / "results"

from import_bench import IMPORT, measure  # noqa: E402 - X's import bench's child and timer

IMPORT_BASELINE = """
import gzip, sys, time, json, zipfile, orjson
t, c = time.perf_counter(), time.process_time()
records = 0
with zipfile.ZipFile(sys.argv[1]) as zf, gzip.open(sys.argv[2] + ".jsonl.gz", "wb") as out:
    for name in ("outbox.json", "likes.json", "bookmarks.json", "actor.json"):
        doc = orjson.loads(zf.read(name))
        for item in doc.get("orderedItems", [doc]):
            out.write(orjson.dumps(item) + b"\\n")
            records += 1
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": records}))
"""

CAPTURE = """
import sys, time, json
from archiver.config import AccountConfig
from archiver.platforms.mastodon.capture import MastodonBackup
from archiver.platforms.mastodon.client import MastodonClient
from storage.local import LocalStore
url, store, token = sys.argv[1:4]
client = MastodonClient("force", url, token, sleep=lambda s: None)
account = AccountConfig(username="force", platform="mastodon", instance=url)
t, c = time.perf_counter(), time.process_time()
result = MastodonBackup(LocalStore(store), client, account, media=False).run()
assert result.ok, result.error
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": sum(result.written.values()), "requests": result.requests}))
"""

CAPTURE_BASELINE = """
import gzip, sys, time, json, orjson, requests
url, out_path, token = sys.argv[1:4]
t, c = time.perf_counter(), time.process_time()
session = requests.Session()
session.headers["Authorization"] = "Bearer " + token
records = requests_made = 0
next_url = url + "/api/v1/accounts/1/statuses?limit=40"
with gzip.open(out_path + ".jsonl.gz", "wb") as out:
    while next_url:
        response = session.get(next_url, timeout=30)
        requests_made += 1
        for status in orjson.loads(response.content):
            out.write(orjson.dumps(status) + b"\\n")
            records += 1
        next_url = response.links.get("next", {}).get("url")
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": records, "requests": requests_made}))
"""


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    records = runs[0]["records"]
    return {
        "records": records,
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu, 3),
        "records_per_s": round(records / seconds, 1),
        "records_per_cpu_s": round(records / cpu, 1),
        **({"requests": runs[0]["requests"]} if "requests" in runs[0] else {}),
    }


def bench_import(statuses: int, repeat: int, work: Path) -> dict[str, Any]:
    from archiver.demo.mastodon import write_demo_mastodon_archive

    zip_path = work / f"mastodon-{statuses}.zip"
    write_demo_mastodon_archive(zip_path, statuses=statuses, seed=7)
    ours, base = [], []
    for n in range(repeat):
        ours.append(measure(IMPORT, str(zip_path), str(work / f"store-import-{n}")))
        base.append(measure(IMPORT_BASELINE, str(zip_path), str(work / f"base-import-{n}")))
    return {
        "zip_bytes": zip_path.stat().st_size,
        "import": _median(ours),
        "baseline": _median(base),
    }


def bench_capture(statuses: int, repeat: int, work: Path) -> dict[str, Any]:
    from mastodon_double import TOKEN, MastodonDouble

    double = MastodonDouble(statuses=statuses, page_size=40, limit=10**9).start()
    try:
        ours, base = [], []
        for n in range(repeat):
            ours.append(measure(CAPTURE, double.url, str(work / f"store-capture-{n}"), TOKEN))
            base.append(
                measure(CAPTURE_BASELINE, double.url, str(work / f"base-capture-{n}"), TOKEN)
            )
    finally:
        double.stop()
    return {"capture": _median(ours), "baseline": _median(base)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--statuses", type=int, default=5000)
    parser.add_argument("--capture-statuses", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mastodon-bench-") as tmp:
        work = Path(tmp)
        imported = bench_import(args.statuses, args.repeat, work)
        captured = bench_capture(args.capture_statuses, args.repeat, work)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "statuses": args.statuses,
        "capture_statuses": args.capture_statuses,
        "repeat": args.repeat,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "import": imported,
        "capture": captured,
    }
    for name, block, ours in (("import", imported, "import"), ("capture", captured, "capture")):
        a, b = block[ours], block["baseline"]
        print(
            f"{name:8} {a['records']:>7} records {a['records_per_s']:>9} rec/s "
            f"{a['cpu_s']:>7} CPU-s | baseline {b['records']:>7} records "
            f"{b['records_per_s']:>9} rec/s {b['cpu_s']:>7} CPU-s | "
            f"ratio {a['records_per_s'] / b['records_per_s']:.3f} (rec/s)"
        )
    print(f"load average before {result['load_before']}, after {result['load_after']}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"mastodon-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
