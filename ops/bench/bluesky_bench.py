"""Bluesky import and capture throughput, each against a baseline in the same run.

    nice -n 10 .venv/bin/python ops/bench/bluesky_bench.py --posts 5000 --repeat 3

The repository is the demo force's (archiver/demo/bluesky.py) with `--posts` posts, written
once as a backup folder. Measured, each in its own process (CPU time is that process's):

- import: `import_path` of the folder (every block hashed, the signature and the whole MST
  checked, records normalised, one run written) against the baseline of the least any
  importer does with the same CAR: parse it with the SDK (`atproto_core.car.CAR.from_bytes`,
  libipld) and write every block as gzip JSONL;
- capture: a full `backup` from the PDS double over loopback HTTP (resolveHandle, DID
  document, getRepo, blobs, followers) against the baseline of one getRepo fetched with
  requests, parsed and written the same plain way.

Reports records/s and CPU seconds (medians), the ratios, and the load average around each;
writes JSON to ops/bench/results/.
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
RESULTS = Path(__file__).resolve().parent / "results"

IMPORT = """
import json, sys, time
from archiver.archive import Archive
from archiver.config import Config, StorageConfig
from archiver.imports import import_path
archive = Archive(Config(storage=StorageConfig(path=sys.argv[2])))
t, c = time.perf_counter(), time.process_time()
result = import_path(archive, sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": result.read.total()}))
"""

PLAIN = """
import gzip, json, sys, time, orjson, base64
from atproto_core.car import CAR
def plain(data, out):
    car = CAR.from_bytes(data)
    n = 0
    with gzip.open(out, "wb") as fh:
        for cid, block in car.blocks.items():
            fh.write(orjson.dumps({"cid": str(cid), "block": block}, default=repr) + b"\\n")
            n += 1
    return n
"""

BASELINE_IMPORT = (
    PLAIN
    + """
t, c = time.perf_counter(), time.process_time()
n = plain(open(sys.argv[1], "rb").read(), sys.argv[2] + ".jsonl.gz")
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": n}))
"""
)

CAPTURE = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from pds_double import Account, PdsDouble
from archiver.config import AccountConfig, BlueskyConfig, Config, StorageConfig
from archiver.demo.bluesky import HANDLE, demo_repository
from archiver.platforms.bluesky import backup
from storage.local import LocalStore
repo, blobs, _ = demo_repository(int(sys.argv[1]))
pds = PdsDouble().start()
pds.page_size = 100
pds.add(Account(repo, HANDLE, followers=[{"did": f"did:plc:{i:024d}".replace("0", "a"),
        "handle": f"p{i}.example"} for i in range(200)]), blobs)
cfg = Config(storage=StorageConfig(path=sys.argv[2]),
             bluesky=BlueskyConfig(plc_url=pds.plc_url, appview_url=pds.url))
account = AccountConfig(username=HANDLE, platform="bluesky")
t, c = time.perf_counter(), time.process_time()
result = backup(cfg, LocalStore(sys.argv[2]), account)
assert result.ok, result.error
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": sum(result.seen.values())}))
pds.stop()
"""

BASELINE_CAPTURE = (
    PLAIN
    + """
sys.path.insert(0, sys.argv[3])
import requests
from pds_double import Account, PdsDouble
from archiver.demo.bluesky import HANDLE, demo_repository
repo, blobs, _ = demo_repository(int(sys.argv[1]))
pds = PdsDouble().start()
pds.add(Account(repo, HANDLE), blobs)
t, c = time.perf_counter(), time.process_time()
data = requests.get(pds.url + "/xrpc/com.atproto.sync.getRepo", params={"did": repo.did},
                    timeout=60).content
n = plain(data, sys.argv[2] + ".jsonl.gz")
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "records": n}))
pds.stop()
"""
)


def _one(script: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(samples: list[dict]) -> dict:
    seconds = statistics.median(s["seconds"] for s in samples)
    cpu = statistics.median(s["cpu_s"] for s in samples)
    records = samples[0]["records"]
    return {
        "records": records,
        "median_seconds": round(seconds, 3),
        "median_cpu_s": round(cpu, 3),
        "records_per_s": round(records / seconds),
        "records_per_cpu_s": round(records / cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from archiver.demo.bluesky import HANDLE, write_demo_bluesky

    tests = str(ROOT / "tests" / "platforms" / "bluesky")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_demo_bluesky(Path(tmp) / "backup", posts=args.posts)
        car = str(folder / f"{HANDLE}.car")
        cases = {
            "import": ((IMPORT, str(folder)), (BASELINE_IMPORT, car)),
            "capture": ((CAPTURE, str(args.posts)), (BASELINE_CAPTURE, str(args.posts))),
        }
        for name, ((script, arg), (base, base_arg)) in cases.items():
            load = os.getloadavg()[0]
            measured, baseline = [], []
            for n in range(args.repeat):
                store = str(Path(tmp) / f"{name}-store-{n}")
                measured.append(_one(script, arg, store, tests))
                baseline.append(_one(base, base_arg, str(Path(tmp) / f"{name}-base-{n}"), tests))
            row = {"bluesky": _median(measured), "baseline": _median(baseline)}
            row["ratio_cpu"] = round(
                row["bluesky"]["median_cpu_s"] / row["baseline"]["median_cpu_s"], 2
            )
            row["load_avg"] = [round(load, 2), round(os.getloadavg()[0], 2)]
            rows[name] = row
    print(f"\n{args.posts:,} demo posts; median of {args.repeat}; CPU = process CPU time")
    print(
        f"{'case':8} {'records':>8} {'rec/s':>8} {'CPU s':>7} {'base rec/s':>10} "
        f"{'base CPU s':>10} {'CPU ratio':>9} load"
    )
    for name, row in rows.items():
        b, p = row["bluesky"], row["baseline"]
        print(
            f"{name:8} {b['records']:>8} {b['records_per_s']:>8} {b['median_cpu_s']:>7} "
            f"{p['records_per_s']:>10} {p['median_cpu_s']:>10} {row['ratio_cpu']:>9} "
            f"{row['load_avg']}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bluesky-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps({"posts": args.posts, "repeat": args.repeat, "rows": rows}, indent=2))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
