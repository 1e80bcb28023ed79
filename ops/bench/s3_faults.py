"""Imports against S3 under faults: how many runs commit, and is anything lost.

    nice -n 10 .venv/bin/python ops/bench/s3_faults.py --runs 20 --rate 0.1
    PYTHONPATH=/path/to/other/checkout .venv/bin/python ops/bench/s3_faults.py   # a baseline

moto's ThreadedMotoServer sits behind the fault proxy of tests/storage/s3_fault_proxy.py,
which fails `rate` of all requests (500 InternalError, 503 SlowDown, a reset after the request
landed, a truncated answer), seeded. Each run imports a different small demo archive of one
account. Afterwards, faults off, every listed run is re-hashed against its manifest. Prints
one JSON document (runs committed, each failure's message, tracebacks, lost objects, faults
injected, CPU seconds) and writes it to ops/bench/results/.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(ROOT / "tests" / "storage"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--posts", type=int, default=20)
    args = parser.parse_args()

    import boto3
    from moto.server import ThreadedMotoServer
    from s3_fault_proxy import FaultProxy, runs_under_faults

    import archiver
    from archiver.archive import Archive
    from archiver.config import Config, StorageConfig
    from archiver.demo.archive_zip import write_demo_archive
    from archiver.imports import import_path

    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench")):
        os.environ.setdefault(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = FaultProxy(f"http://{host}:{port}").start()
    work = Path(tempfile.mkdtemp(prefix="s3-faults-"))
    try:
        boto3.client(
            "s3", endpoint_url=f"http://{host}:{port}", region_name="eu-west-2"
        ).create_bucket(
            Bucket="bench", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        zips = [
            write_demo_archive(work / f"demo-{i}.zip", posts=args.posts, seed=i).path
            for i in range(args.runs)
        ]
        settings = {
            "backend": "s3",
            "bucket": "bench",
            "endpoint_url": proxy.url,
            "region": "eu-west-2",
            "path": str(work / "local"),
        }
        known = {f.name for f in dataclasses.fields(StorageConfig)}
        if "staging_path" in known:  # this checkout's settings; a baseline may lack them
            settings.update(staging_path=str(work / "staging"), backoff_base=0.05)
        archive = Archive(Config(storage=StorageConfig(**settings)))
        cpu = time.process_time()
        wall = time.perf_counter()
        seen = runs_under_faults(
            proxy,
            lambda i: import_path(archive, str(zips[i])),
            args.runs,
            rate=args.rate,
            seed=args.seed,
            verify=archive.verify,
        )
        report = {
            "code": str(Path(archiver.__file__).resolve().parents[1]),
            "rate": args.rate,
            "seed": args.seed,
            **seen.summary(),
            "wall_seconds": round(time.perf_counter() - wall, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1),
            "load_average": os.getloadavg(),
        }
    finally:
        proxy.stop()
        server.stop()
    text = json.dumps(report, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"s3_faults-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(text)


if __name__ == "__main__":
    main()
