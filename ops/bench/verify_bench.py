"""Benchmark: `archiver verify` with the manifest-chain check against without it, on the
demo archive (imported, then topped up with small incremental runs so the chain is long).

    .venv/bin/python ops/bench/verify_bench.py [--posts 3000] [--runs 200] [--repeat 5]

Baseline in the same run: verify as it was before chaining (list the runs, re-hash every
object against its manifest). Also timed: the chain check alone, taking heads, and checking
against saved heads. Medians; CPU time and load average are printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _timed(fn, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=200, help="extra one-post runs")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from archiver.archive import Archive
    from archiver.config import Config, StorageConfig
    from archiver.demo import write_demo_archive
    from archiver.heads import check_runs_against, take_heads
    from archiver.imports import import_path
    from storage.chain import account_manifests, check_chain, clear_cache
    from storage.records import new_record
    from storage.runs import RunWriter, list_accounts, list_runs, verify_run

    with tempfile.TemporaryDirectory() as tmp:
        demo = write_demo_archive(Path(tmp) / "demo.zip", posts=args.posts)
        archive = Archive(Config(storage=StorageConfig(path=str(Path(tmp) / "store"))))
        import_path(archive, str(demo.path))
        for n in range(args.runs):
            with RunWriter(
                archive.store,
                account_id=demo.account_id,
                account=demo.username,
                kind="incremental",
                source="x-api-v2",
                tool_version="bench",
            ) as run:
                run.write(
                    new_record(
                        id=str(9_000_000 + n),
                        kind="post",
                        account=demo.username,
                        account_id=demo.account_id,
                        text=f"post {n}",
                        source="x-api-v2",
                    )
                )
                run.commit()
        runs = len(archive.runs())
        objects = sum(len(m.objects) for m in archive.runs())
        assert archive.verify() == []

        def chain_only() -> None:
            for account_id in list_accounts(archive.store):
                check_chain(account_manifests(archive.store, account_id))

        heads = take_heads(archive)

        def heads_fresh() -> None:
            clear_cache()
            take_heads(archive)

        def objects_only() -> None:  # what verify did before chaining
            for manifest in list_runs(archive.store):
                verify_run(archive.store, manifest)

        results = {
            "verify without chain (baseline)": _timed(objects_only, args.repeat),
            "verify with chain": _timed(lambda: archive.verify(chain=True), args.repeat),
            "chain check alone (reads every manifest)": _timed(chain_only, args.repeat),
            "archiver heads (uncached)": _timed(heads_fresh, args.repeat),
            "check against saved heads": _timed(
                lambda: check_runs_against(archive, heads), args.repeat
            ),
        }
    base = results["verify without chain (baseline)"][0]
    print(
        f"demo archive: {args.posts} posts, {runs} runs, {objects} objects; "
        f"median of {args.repeat}; load average {os.getloadavg()[0]:.1f}"
    )
    for name, (wall, cpu) in results.items():
        print(
            f"  {name:<42} {wall * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms CPU"
            f"  ({wall / base:.2f}x baseline)"
        )


if __name__ == "__main__":
    main()
