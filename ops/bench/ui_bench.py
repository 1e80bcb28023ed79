"""Benchmark: what the search UI adds on top of the index, and its item and audit costs.

    .venv/bin/python ops/bench/ui_bench.py [--size 20000] [--repeat 30] [--workdir DIR]

Builds the seeded synthetic corpus (ops/bench/synthetic_posts.py) into a temporary local
store, indexes it, and drives the Flask app in-process (its test client: no network).

- Search: for each query shape, `Index.search` called directly is the baseline, measured in
  the same run; then `/api/search` (token auth, JSON, an audit event per request) and the
  HTML `/search` page (login session, template, audit event). Reported: medians, p95 and
  the ratio to the baseline median.
- Item page: 60 items from pages all over the archive, each viewed once by a fresh app
  (most read a run no earlier view read), and one item viewed again (its cached page).
- Audit log: one `record()` on the local store (create-only write with fsync), and
  `verify()` over every event written.

Results go to ops/bench/results/ui-<size>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from synthetic_posts import Corpus, write_corpus  # noqa: E402

from archiver.archive import Archive  # noqa: E402
from archiver.audit import AuditLog  # noqa: E402
from archiver.config import Config, IndexConfig, StorageConfig  # noqa: E402
from archiver.index import Index  # noqa: E402
from search_ui import create_app  # noqa: E402
from search_ui.users import UserFile  # noqa: E402

PASSWORD = "benchmark password"


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def _time(fn, repeat: int) -> list[float]:
    fn()  # warm: open searchers, fill caches the way a running server has them
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _shapes(corpus: Corpus) -> dict[str, dict[str, Any]]:
    common, rare = corpus.vocabulary[3], corpus.vocabulary[5000]
    account = corpus.accounts[7][1]
    return {
        "common word": {"q": common},
        "rare word": {"q": rare},
        "two words": {"q": f"{common} {corpus.vocabulary[40]}"},
        "word + account + dates": {
            "q": common,
            "account": account,
            "from": "2018-01-01",
            "to": "2020-12-31",
        },
        "sort by date": {"q": common, "sort": "date"},
        "browse everything": {},
    }


def _index_args(args: dict[str, Any]) -> dict[str, Any]:
    import datetime as dt

    out: dict[str, Any] = {"sort": args.get("sort", "relevance")}
    if "account" in args:
        out["account"] = args["account"]
    if "from" in args:
        out["since"] = dt.date.fromisoformat(args["from"])
    if "to" in args:
        out["until"] = dt.date.fromisoformat(args["to"]) + dt.timedelta(days=1)
    return out


def _login(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login", data={"name": "bench", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=20_000, help="Synthetic posts.")
    parser.add_argument("--repeat", type=int, default=30, help="Timed requests per shape.")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="Build the corpus and index here and keep them; a later run of the same size "
        "reuses them (a million posts take minutes to build).",
    )
    opts = parser.parse_args()

    with contextlib.ExitStack() as stack:
        if opts.workdir is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ui-bench-")))
        else:
            root = opts.workdir.resolve()
            root.mkdir(parents=True, exist_ok=True)
        config = Config(
            storage=StorageConfig(path=str(root / "store")),
            index=IndexConfig(path=str(root / "index")),
        )
        archive = Archive(config)
        t0 = time.perf_counter()
        built = root / f"built-{opts.size}"
        if built.exists():
            corpus = Corpus.make()
        else:
            corpus = write_corpus(archive.store, Corpus.make(), opts.size)
        index = Index(config.index.path)
        index.update(archive)
        built.touch()
        setup_s = time.perf_counter() - t0
        users = UserFile(root / "users.json")
        if users.get("bench") is None:
            users.add("bench", PASSWORD, "viewer")
        token = users.issue_token("bench")
        app = create_app({"SECRET_KEY": "bench-secret-0123456789abcdef"}, archive=archive)
        api = app.test_client()
        page = app.test_client()
        _login(page)
        bearer = {"Authorization": f"Bearer {token}"}

        search_rows = {}
        for name, args in _shapes(corpus).items():
            base = _time(lambda a=args: index.search(a.get("q", ""), **_index_args(a)), opts.repeat)
            via_api = _time(
                lambda a=args: api.get("/api/search", query_string=a, headers=bearer), opts.repeat
            )
            via_page = _time(lambda a=args: page.get("/search", query_string=a), opts.repeat)
            base_p50 = statistics.median(base)
            search_rows[name] = {
                "index": _ms(base),
                "api": {**_ms(via_api), "ratio": round(statistics.median(via_api) / base_p50, 2)},
                "page": {
                    **_ms(via_page),
                    "ratio": round(statistics.median(via_page) / base_p50, 2),
                },
            }

        # item pages: a fresh app (empty caches); ids from pages all over the archive, so
        # most views read a run no earlier view read (the page caches only what it read)
        rng = random.Random(1)
        pages = max(1, min(index.doc_count() // 100, 10_000))
        keys: list[str] = []
        for page_no in rng.sample(range(1, pages + 1), min(pages, 6)):
            hits = index.search("", sort="date", per_page=100, page=page_no).hits
            keys += [h.id for h in rng.sample(hits, min(len(hits), 10))]
        fresh = create_app({"SECRET_KEY": "bench-secret-0123456789abcdef"}, archive=archive)
        viewer = fresh.test_client()
        _login(viewer)
        views = []
        for key in keys:
            start = time.perf_counter()
            assert viewer.get(f"/items/{key}").status_code == 200
            views.append(time.perf_counter() - start)
        again = _time(lambda k=keys[0]: viewer.get(f"/items/{k}"), opts.repeat)

        log = AuditLog(archive.store)
        writes = _time(lambda: log.record("bench", "view", item="1"), opts.repeat * 3)
        events = log.head().events
        start = time.perf_counter()
        problems = log.verify()
        verify_s = time.perf_counter() - start
        assert problems == [], problems

    result = {
        "size": opts.size,
        "accounts": len(corpus.accounts),
        "repeat": opts.repeat,
        "setup_seconds": round(setup_s, 1),
        "search": search_rows,
        "item_page": {
            "first_view_ms": round(views[0] * 1000, 1),
            "views": _ms(views),
            "same_item_again": _ms(again),
        },
        "audit": {
            "record": _ms(writes),
            "verify_events": events,
            "verify_ms": round(verify_s * 1000, 1),
        },
    }
    print(
        f"{opts.size:,} posts over {len(corpus.accounts)} accounts "
        f"(built and indexed in {setup_s:.0f} s); medians of {opts.repeat}"
    )
    print(f"{'query shape':<24} {'index p50':>10} {'api p50':>9} {'x':>5} {'page p50':>9} {'x':>5}")
    for name, row in search_rows.items():
        print(
            f"{name:<24} {row['index']['p50_ms']:>8.1f}ms {row['api']['p50_ms']:>7.1f}ms "
            f"{row['api']['ratio']:>5.2f} {row['page']['p50_ms']:>7.1f}ms "
            f"{row['page']['ratio']:>5.2f}"
        )
    item = result["item_page"]
    print(
        f"item page: {len(keys)} items p50 {item['views']['p50_ms']:.1f} ms, "
        f"p95 {item['views']['p95_ms']:.1f} ms (first {item['first_view_ms']:.0f} ms); "
        f"the same item again p50 {item['same_item_again']['p50_ms']:.1f} ms"
    )
    audit = result["audit"]
    print(
        f"audit: record p50 {audit['record']['p50_ms']:.2f} ms, "
        f"verify {audit['verify_events']} events {audit['verify_ms']:.0f} ms"
    )
    out = ROOT / "ops" / "bench" / "results" / f"ui-{opts.size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
